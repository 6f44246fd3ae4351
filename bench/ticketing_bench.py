"""Ticketing over HTTP against the raw store insert rate, measured in the same run.

    uv run python bench/ticketing_bench.py [--tickets 1000] [--concurrency 32] [--windows 16]
        [--growth 5000] [--idle-offices 20 --idle-waiting 250 --idle-seconds 60] [--replicas 2]
        [--idle-settle 90]
    uv run python bench/ticketing_bench.py --scaling 1,3 [--offered-rate 300 --offered-seconds 20]
        [--multi-offices 24]
    # deploy/local/infra.sh up first

* Raw baseline: pymongo AsyncMongoClient `insert_one` of ~300-byte documents, C concurrent workers.
* Issue: `POST /tickets` (kiosk token) to one `python -m ticketing` process (uvicorn), C concurrent
  httpx clients; every response must be 201 with a distinct number.
* Call next: W operators, each at its own open window, loop call-next -> start -> complete; the rate
  is of whole visits, the latency of call-next alone (start/complete are timed apart).
* Growth: the issue rate with --growth tickets already waiting in the office, as a share of the
  rate on an empty queue.
* Idle: --idle-offices offices with --idle-waiting tickets each and nobody acting: CPU of the
  ticketing process and of the store (FerretDB + PostgreSQL) over --idle-seconds, from /proc.
* Replicas: the same multi-office issue load against one process, then against --replicas processes,
  each request sent to the replica that owns its office.
* Scaling (--scaling 1,3 alone): after a warm-up, the same open-loop offered load (--offered-rate
  tickets/s for --offered-seconds, round robin over --multi-offices offices, each to its owner)
  against 1 and then 3 fresh processes; achieved rate, latency from the planned send time, and the
  cores the replicas and the store used; bench/results/ticketing_scaling.json.
* Stream: an outside consumer reads the ticketing topics afterwards: events and distinct event ids.

Prints JSON and writes bench/results/ticketing.json with rates, p50/p99 and ratios to the raw insert rate.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from contracts import new_event
from contracts.catalog import Zone
from contracts.common import LocalizedText
from contracts.registry import encode, partition_key, topic_for
from contracts.samples import sample_office, sample_service
from contracts.topics import create_topics
from pymongo import AsyncMongoClient
from servicekit.auth import issue_token
from servicekit.sealing import generate_keypair

KAFKA = os.environ.get("ONEWINDOW_KAFKA", "127.0.0.1:9092")
MONGO_URL = os.environ.get("ONEWINDOW_MONGO_URL", "mongodb://127.0.0.1:27017")
RESULTS = Path(__file__).resolve().parent / "results" / "ticketing.json"
OFFICE = "bench-office"
GROWTH_OFFICE = "bench-growth"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary(latencies: list[float], seconds: float) -> dict[str, Any]:
    return {
        "requests": len(latencies),
        "seconds": round(seconds, 3),
        "per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 1),
    }


async def run_workers(n: int, concurrency: int, op: Callable[[int], Awaitable[None]]) -> float:
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            await op(i)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


async def raw_insert_rate(n: int, concurrency: int) -> dict[str, Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO_URL, maxPoolSize=concurrency + 4)
    db = client[f"bench_raw_{uuid.uuid4().hex[:10]}"]
    try:
        await db["docs"].insert_one({"_id": "warmup"})

        async def insert(i: int) -> None:
            await db["docs"].insert_one(
                {"_id": f"T-{i:06d}", "office_id": OFFICE, "state": "waiting", "number": i, "note": "x" * 220}
            )

        seconds = await run_workers(n, concurrency, insert)
    finally:
        await client.drop_database(db.name)
        await client.close()
    return {
        "docs": n,
        "concurrency": concurrency,
        "seconds": round(seconds, 3),
        "per_s": round(n / seconds, 1),
    }


async def publish_catalog(prefix: str, windows: int, offices: list[str]) -> None:
    zones = [Zone(zone_id="z1", name=LocalizedText(ru="Зона 1"), windows=list(range(1, windows + 1)))]
    events: list[tuple[Any, str]] = [
        (sample_office(office, all_day=True).model_copy(update={"zones": zones}), office)
        for office in offices
    ]
    service = sample_service("housing-certificate", office_id=offices[0])
    service = service.model_copy(
        update={"offerings": [service.offerings[0].model_copy(update={"office_id": o}) for o in offices]}
    )
    events.append((service, "housing-certificate"))
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for data, aggregate_id in events:
            envelope = new_event(
                data,
                producer="bench",
                office_id=aggregate_id if aggregate_id in offices else "kazan",
                aggregate_id=aggregate_id,
                aggregate_version=1,
            )
            await producer.send_and_wait(
                prefix + topic_for(envelope.event_type).name, encode(envelope), key=partition_key(envelope)
            )
    finally:
        await producer.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def ticketing_process(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    port = env.get("TICKETING_HTTP_PORT")
    log = Path(os.environ.get("BENCH_LOG_DIR", "/tmp")) / f"bench-ticketing-{port}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "ticketing"],
        env={**os.environ, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


async def wait_ready(client: httpx.AsyncClient, offices: list[str] | None = None) -> None:
    deadline = time.monotonic() + 90
    for office in offices or [OFFICE]:
        while True:
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(f"/offices/{office}/queue")).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"ticketing did not become ready with office {office}")
            await asyncio.sleep(0.2)


async def bench_issue(
    client: httpx.AsyncClient | Callable[[str], httpx.AsyncClient],
    n: int,
    concurrency: int,
    kiosk: str,
    offices: list[str] | None = None,
) -> dict[str, Any]:
    """n tickets at `concurrency`; with several offices, round robin, each to `client(office)`."""
    offices = offices or [OFFICE]
    latencies: list[float] = []
    numbers: set[tuple[str, str]] = set()

    async def issue(i: int) -> None:
        office = offices[i % len(offices)]
        target = client(office) if callable(client) else client
        started = time.perf_counter()
        response = await target.post(
            "/tickets",
            json={"office_id": office, "service_id": "housing-certificate"},
            headers={"Authorization": f"Bearer {kiosk}"},
        )
        latencies.append(time.perf_counter() - started)
        if response.status_code != 201:
            raise RuntimeError(f"issue failed: {response.status_code} {response.text}")
        numbers.add((office, response.json()["number"]))

    seconds = await run_workers(n, concurrency, issue)
    if len(numbers) != n:
        raise RuntimeError(f"{n} tickets got {len(numbers)} distinct numbers")
    return summary(latencies, seconds)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (from /proc/<pid>/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def store_traffic(pid: int) -> tuple[int, int]:
    """(bytes, data segments) this process has exchanged with the store over its open connections.

    From `ss -ti` (the kernel's per-socket counters); read twice around a window it gives what one
    process asked of a store that other work shares.
    """
    port = MONGO_URL.rsplit(":", 1)[-1].split("/")[0]
    found = subprocess.run(
        ["ss", "-tinpH", "state", "established", "dport", f"= :{port}"], capture_output=True, text=True
    )
    total_bytes = segments = 0
    lines = found.stdout.splitlines()
    for head, info in zip(lines[::2], lines[1::2], strict=False):
        if f"pid={pid}," not in head:
            continue
        counters = dict(re.findall(r"(bytes_sent|bytes_received|data_segs_out|data_segs_in):(\d+)", info))
        total_bytes += int(counters.get("bytes_sent", 0)) + int(counters.get("bytes_received", 0))
        segments += int(counters.get("data_segs_out", 0))
    return total_bytes, segments


def store_pids() -> list[int]:
    found = subprocess.run(["pgrep", "-f", "ferretdb-runner|postgres"], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


async def count_stream(prefix: str) -> dict[str, int]:
    """What an outside consumer finds on the ticketing topics: events and distinct event ids."""
    consumer = AIOKafkaConsumer(
        *(prefix + t for t in ("ticketing.ticket", "ticketing.window")),
        bootstrap_servers=KAFKA,
        group_id=f"bench-count-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    ids: list[str] = []
    try:
        idle = 0
        while idle < 3:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            records = [r for rs in batches.values() for r in rs]
            idle = 0 if records else idle + 1
            ids.extend(json.loads(r.value)["event_id"] for r in records)
    finally:
        await consumer.stop()
    return {"events": len(ids), "distinct_event_ids": len(set(ids))}


async def bench_call_next(client: httpx.AsyncClient, n: int, concurrency: int, secret: str) -> dict[str, Any]:
    tokens = [
        issue_token(secret, subject=f"op-{w}", role="operator", office_id=OFFICE) for w in range(concurrency)
    ]
    operators = [{"Authorization": f"Bearer {token}"} for token in tokens]
    for w, headers in enumerate(operators, start=1):
        response = await client.post(
            "/windows/open",
            headers=headers,
            json={"office_id": OFFICE, "window_no": w, "service_ids": ["housing-certificate"]},
        )
        response.raise_for_status()
    call_latencies: list[float] = []
    finish_latencies: list[float] = []
    called: set[str] = set()
    remaining = n

    async def operator(w: int) -> None:
        nonlocal remaining
        headers = operators[w - 1]
        while remaining > 0:
            remaining -= 1
            started = time.perf_counter()
            response = await client.post(f"/windows/{OFFICE}/{w}/call-next", headers=headers)
            call_latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"call-next failed: {response.status_code} {response.text}")
            ticket_id = response.json()["ticket_id"]
            if ticket_id in called:
                raise RuntimeError(f"ticket {ticket_id} called twice")
            called.add(ticket_id)
            started = time.perf_counter()
            for step, body in (("start", None), ("complete", {"outcome": "served"})):
                response = await client.post(f"/windows/{OFFICE}/{w}/{step}", headers=headers, json=body)
                if response.status_code != 200:
                    raise RuntimeError(f"{step} failed: {response.status_code} {response.text}")
            finish_latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(operator(w) for w in range(1, concurrency + 1)))
    seconds = time.perf_counter() - started
    result = summary(call_latencies, seconds)
    result["per_s_note"] = "visits per second (call-next + start + complete each)"
    result["start_and_complete_p50_ms"] = round(percentile(finish_latencies, 0.5) * 1000, 1)
    return result


IssueLoad = Callable[[Callable[[str], httpx.AsyncClient]], Awaitable[dict[str, Any]]]


async def replicas_rate(
    env: dict[str, str],
    count: int,
    offices: list[str],
    database: str,
    load: IssueLoad,
    concurrency: int = 32,
) -> dict[str, Any]:
    """`load` against `count` processes, each request sent to its office's owner; with the CPU
    the replicas and the store used meanwhile (cores, from /proc)."""
    from ticketing.owner import partition_of

    ports = [free_port() for _ in range(count)]
    limits = httpx.Limits(max_connections=concurrency * 2, keepalive_expiry=2.0)
    with contextlib.ExitStack() as processes:
        pids = [
            processes.enter_context(ticketing_process({**env, "TICKETING_HTTP_PORT": str(port)})).pid
            for port in ports
        ]
        async with contextlib.AsyncExitStack() as stack:
            clients = {
                f"http://127.0.0.1:{port}": await stack.enter_async_context(
                    httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120, limits=limits)
                )
                for port in ports
            }
            for client in clients.values():
                await wait_ready(client, offices)
            mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO_URL)
            owners: dict[str, str] = {}
            deadline = time.monotonic() + 60
            while len(owners) < len(offices) and time.monotonic() < deadline:
                for office in offices:
                    doc = await mongo[database]["office_owners"].find_one(
                        {"_id": str(partition_of(office, 12))}
                    )
                    if doc is not None and doc["url"] in clients:
                        owners[office] = doc["url"]
                await asyncio.sleep(0.5)
            await mongo.close()
            for client in clients.values():  # settled: every replica answers for every office
                await wait_ready(client, offices)
            store = store_pids()
            before = (cpu_seconds(pids), cpu_seconds(store), time.monotonic())
            result = await load(lambda office: clients[owners[office]])
            after = (cpu_seconds(pids), cpu_seconds(store), time.monotonic())
            wall = after[2] - before[2]
            result["cores_used"] = {
                "ticketing": round((after[0] - before[0]) / wall, 2),
                "store": round((after[1] - before[1]) / wall, 2),
            }
            result["offices_per_replica"] = {
                url: sum(1 for o in owners.values() if o == url) for url in clients
            }
            return result


async def offered_issue(
    client: Callable[[str], httpx.AsyncClient],
    rate: float,
    seconds: float,
    kiosk: str,
    offices: list[str],
    in_flight: int = 64,
) -> dict[str, Any]:
    """An open-loop offered load: `rate` tickets a second for `seconds`, whatever the answers take
    (at most `in_flight` outstanding, the clients' connections: beyond that the kiosks wait here,
    not in httpx's pool, whose queue costs the load generator CPU per waiting request). Achieved
    rate = tickets issued / time until the last answer; latency is from the planned send time
    (queueing included)."""
    total = int(rate * seconds)
    gate = asyncio.Semaphore(in_flight)
    latencies: list[float] = []
    failures = 0
    started = time.perf_counter()

    async def issue(i: int) -> None:
        nonlocal failures
        planned = started + i / rate
        await asyncio.sleep(max(0.0, planned - time.perf_counter()))
        office = offices[i % len(offices)]
        async with gate:
            try:
                response = await client(office).post(
                    "/tickets",
                    json={"office_id": office, "service_id": "housing-certificate"},
                    headers={"Authorization": f"Bearer {kiosk}"},
                )
            except httpx.HTTPError:
                failures += 1
                return
        if response.status_code != 201:
            failures += 1
            return
        latencies.append(time.perf_counter() - planned)

    await asyncio.gather(*(issue(i) for i in range(total)))
    elapsed = time.perf_counter() - started
    return {
        "offered_per_s": rate,
        "offered": total,
        "failed": failures,
        **summary(latencies, elapsed),
    }


def ticketing_env(prefix: str) -> tuple[dict[str, str], str, str]:
    """(environment of a `python -m ticketing` on the bench's topics, its fresh database, a kiosk
    token valid for any office)."""
    public_key, _ = generate_keypair()
    secret = uuid.uuid4().hex * 2
    database = f"bench_ticketing_{uuid.uuid4().hex[:8]}"
    env = {
        "ONEWINDOW_KAFKA": KAFKA,
        "ONEWINDOW_MONGO_URL": MONGO_URL,
        "ONEWINDOW_TOPIC_PREFIX": prefix,
        "ONEWINDOW_JWT_SECRET": secret,
        "ONEWINDOW_NOTIFIER_PUBLIC_KEY": public_key,
        "ONEWINDOW_LOG_LEVEL": "WARNING",
        "TICKETING_MONGO_DB": database,
    }
    return env, database, issue_token(secret, subject="bench-kiosk", role="admin", office_id=None)


async def scaling(args: argparse.Namespace) -> None:
    """Only the replica scaling: raw insert baseline, then the same offered load on 1..N replicas."""
    counts = [int(c) for c in args.scaling.split(",")]
    raw = await raw_insert_rate(args.tickets * 2, args.concurrency)
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    offices = [f"bench-multi-{i:02d}" for i in range(args.multi_offices)]
    await create_topics(KAFKA, partitions=12, prefix=prefix)
    await publish_catalog(prefix, args.concurrency, offices)
    env, database, kiosk = ticketing_env(prefix)

    async def load(client: Callable[[str], httpx.AsyncClient]) -> dict[str, Any]:
        return await offered_issue(client, args.offered_rate, args.offered_seconds, kiosk, offices)

    runs: list[dict[str, Any]] = []
    try:

        async def warm_up(client: Callable[[str], httpx.AsyncClient]) -> dict[str, Any]:
            return await offered_issue(client, args.offered_rate, 3.0, kiosk, offices)

        await replicas_rate(env, 1, offices, database, warm_up, args.concurrency)
        for count in counts:
            run = await replicas_rate(env, count, offices, database, load, args.concurrency)
            runs.append({"replicas": count, "load_1m": os.getloadavg()[0], **run})
    finally:
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO_URL)
        await mongo.drop_database(database)
        await mongo.close()
    # Each run against the run of the first count just before it (--scaling 1,3,1,3: two pairs),
    # so a machine that got busier or quieter between pairs does not count as scaling.
    pairs = [
        round(run["per_s"] / runs[n - 1]["per_s"], 3)
        for n, run in enumerate(runs)
        if n and run["replicas"] != counts[0] and runs[n - 1]["replicas"] == counts[0]
    ]
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load": os.getloadavg()},
        "offices": args.multi_offices,
        "offered_per_s": args.offered_rate,
        "offered_seconds": args.offered_seconds,
        "raw_store_insert": raw,
        "runs": runs,
        "ratios_to_raw_insert": [round(r["per_s"] / raw["per_s"], 3) for r in runs],
        "scaling_pairs": pairs,
        "scaling_median": statistics.median(pairs) if pairs else None,
    }
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    out = args.out if args.out != RESULTS else RESULTS.with_name("ticketing_scaling.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text + "\n")


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--windows", type=int, default=16)
    parser.add_argument("--growth", type=int, default=5000)
    parser.add_argument("--idle-offices", type=int, default=20)
    parser.add_argument("--idle-waiting", type=int, default=250)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    # Before the idle window: the first SLA pass announces every long wait once and the next
    # snapshot is written; what is measured is the queue left alone after that.
    parser.add_argument("--idle-settle", type=float, default=90.0)
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--multi-offices", type=int, default=8)
    parser.add_argument("--out", type=Path, default=RESULTS)
    # --scaling 1,3: only the replica scaling under an open-loop offered load (--offered-rate
    # tickets/s for --offered-seconds over --multi-offices offices), written to ticketing_scaling.json
    parser.add_argument("--scaling", default="")
    parser.add_argument("--offered-rate", type=float, default=300.0)
    parser.add_argument("--offered-seconds", type=float, default=20.0)
    args = parser.parse_args()
    if args.scaling:
        await scaling(args)
        return

    prefix = f"bench{uuid.uuid4().hex[:8]}."
    idle_offices = [f"bench-idle-{i:02d}" for i in range(args.idle_offices)]
    multi_offices = [f"bench-multi-{i:02d}" for i in range(args.multi_offices)]
    await create_topics(KAFKA, partitions=12, prefix=prefix)
    await publish_catalog(
        prefix, max(args.windows, args.concurrency), [OFFICE, GROWTH_OFFICE, *idle_offices, *multi_offices]
    )
    port = free_port()
    env, database, kiosk = ticketing_env(prefix)
    env["TICKETING_HTTP_PORT"] = str(port)
    secret = env["ONEWINDOW_JWT_SECRET"]
    limits = httpx.Limits(max_connections=args.concurrency * 2, keepalive_expiry=2.0)
    idle: dict[str, Any] = {}
    try:
        with ticketing_process(env) as process:
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", timeout=120, limits=limits
            ) as client:
                await wait_ready(client, [OFFICE, GROWTH_OFFICE, *multi_offices])
                raw = await raw_insert_rate(args.tickets * 2, args.concurrency)
                issue = await bench_issue(client, args.tickets, args.concurrency, kiosk)
                # The machine's load drifts during a ten-minute run: each ratio below is also taken
                # against a raw insert measured right before its phase.
                raw_before_call_next = await raw_insert_rate(args.tickets, args.concurrency)
                call_next = await bench_call_next(client, args.tickets, args.windows, secret)
                await bench_issue(client, args.growth, args.concurrency, kiosk, [GROWTH_OFFICE])
                grown = await bench_issue(client, args.tickets, args.concurrency, kiosk, [GROWTH_OFFICE])
                one_replica = await bench_issue(client, args.tickets, args.concurrency, kiosk, multi_offices)
                if args.idle_offices:
                    await wait_ready(client, idle_offices)
                    await bench_issue(
                        client, args.idle_offices * args.idle_waiting, args.concurrency, kiosk, idle_offices
                    )
                    await asyncio.sleep(args.idle_settle)
                    pids = store_pids()
                    before = (cpu_seconds([process.pid]), cpu_seconds(pids), store_traffic(process.pid))
                    await asyncio.sleep(args.idle_seconds)
                    after = (cpu_seconds([process.pid]), cpu_seconds(pids), store_traffic(process.pid))
                    idle = {
                        "offices": args.idle_offices,
                        "waiting": args.idle_offices * args.idle_waiting + args.growth + args.tickets * 2,
                        "seconds": args.idle_seconds,
                        "settled_seconds_before": args.idle_settle,
                        "ticketing_core_share": round((after[0] - before[0]) / args.idle_seconds, 4),
                        "store_core_share": round((after[1] - before[1]) / args.idle_seconds, 4),
                        # The store is shared with whatever else runs on the machine: what ticketing
                        # itself sent to it and received says whether it kept the store busy.
                        "ticketing_store_bytes_per_s": round(
                            (after[2][0] - before[2][0]) / args.idle_seconds
                        ),
                        "ticketing_store_requests_per_s": round(
                            (after[2][1] - before[2][1]) / args.idle_seconds, 2
                        ),
                    }
                    idle["total_core_share"] = round(
                        idle["ticketing_core_share"] + idle["store_core_share"], 4
                    )

        async def closed_loop(client: Callable[[str], httpx.AsyncClient]) -> dict[str, Any]:
            return await bench_issue(client, args.tickets, args.concurrency, kiosk, multi_offices)

        replicas = (
            await replicas_rate(env, args.replicas, multi_offices, database, closed_loop, args.concurrency)
            if args.replicas > 1
            else {"per_s": 0.0}
        )
        stream = await count_stream(prefix)
    finally:
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO_URL)
        await mongo.drop_database(database)
        await mongo.close()

    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "concurrency": args.concurrency,
        "windows": args.windows,
        "raw_store_insert": raw,
        "issue": issue,
        "call_next": call_next,
        "issue_with_waiting": {**grown, "waiting_before": args.growth},
        "issue_multi_office_one_replica": one_replica,
        "issue_multi_office_replicas": {**replicas, "replicas": args.replicas},
        "idle": idle,
        "stream": stream,
        "raw_store_insert_before_call_next": raw_before_call_next,
        "ratios_to_raw_insert": {
            "issue": round(issue["per_s"] / raw["per_s"], 3),
            "call_next_visits": round(call_next["per_s"] / raw_before_call_next["per_s"], 3),
        },
        "growth_ratio": round(grown["per_s"] / issue["per_s"], 3),
        "replica_scaling": round(replicas["per_s"] / one_replica["per_s"], 3),
    }
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")


if __name__ == "__main__":
    asyncio.run(main())
