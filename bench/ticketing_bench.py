"""Ticketing over HTTP against the raw store insert rate, measured in the same run.

    uv run python bench/ticketing_bench.py [--tickets 400] [--concurrency 16]   # infra.sh up first

* Raw baseline: pymongo AsyncMongoClient `insert_one` of ~300-byte documents, C concurrent workers.
* Issue: `POST /tickets` (kiosk token) to one `python -m ticketing` process (uvicorn), C concurrent
  httpx clients; every response must be 201 with a distinct number.
* Call next: C operators, each at its own open window, loop call-next -> start -> complete; the rate
  and latency are of call-next alone (start/complete are timed apart).

Prints JSON and writes bench/results/ticketing.json with rates, p50/p99 and ratios to the raw insert rate.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
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
from aiokafka import AIOKafkaProducer
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


async def publish_catalog(prefix: str, windows: int) -> None:
    zones = [Zone(zone_id="z1", name=LocalizedText(ru="Зона 1"), windows=list(range(1, windows + 1)))]
    office = sample_office(OFFICE, all_day=True).model_copy(update={"zones": zones})
    events = [
        (office, OFFICE),
        (sample_service("housing-certificate", office_id=OFFICE), "housing-certificate"),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for data, aggregate_id in events:
            envelope = new_event(
                data, producer="bench", office_id=OFFICE, aggregate_id=aggregate_id, aggregate_version=1
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
    process = subprocess.Popen(
        [sys.executable, "-m", "ticketing"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


async def wait_ready(client: httpx.AsyncClient) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if (await client.get(f"/offices/{OFFICE}/queue")).status_code == 200:
                return
        await asyncio.sleep(0.2)
    raise RuntimeError("ticketing did not become ready with the bench office")


async def bench_issue(client: httpx.AsyncClient, n: int, concurrency: int, kiosk: str) -> dict[str, Any]:
    latencies: list[float] = []
    numbers: set[str] = set()

    async def issue(_: int) -> None:
        started = time.perf_counter()
        response = await client.post(
            "/tickets",
            json={"office_id": OFFICE, "service_id": "housing-certificate"},
            headers={"Authorization": f"Bearer {kiosk}"},
        )
        latencies.append(time.perf_counter() - started)
        if response.status_code != 201:
            raise RuntimeError(f"issue failed: {response.status_code} {response.text}")
        numbers.add(response.json()["number"])

    seconds = await run_workers(n, concurrency, issue)
    if len(numbers) != n:
        raise RuntimeError(f"{n} tickets got {len(numbers)} distinct numbers")
    return summary(latencies, seconds)


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


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    raw = await raw_insert_rate(args.tickets * 2, args.concurrency)
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    await create_topics(KAFKA, partitions=3, prefix=prefix)
    await publish_catalog(prefix, args.concurrency)
    public_key, _ = generate_keypair()
    secret = uuid.uuid4().hex * 2
    port = free_port()
    database = f"bench_ticketing_{uuid.uuid4().hex[:8]}"
    env = {
        "ONEWINDOW_KAFKA": KAFKA,
        "ONEWINDOW_MONGO_URL": MONGO_URL,
        "ONEWINDOW_TOPIC_PREFIX": prefix,
        "ONEWINDOW_JWT_SECRET": secret,
        "ONEWINDOW_NOTIFIER_PUBLIC_KEY": public_key,
        "ONEWINDOW_LOG_LEVEL": "WARNING",
        "TICKETING_MONGO_DB": database,
        "TICKETING_HTTP_PORT": str(port),
    }
    kiosk = issue_token(secret, subject="bench-kiosk", role="kiosk", office_id=OFFICE)
    limits = httpx.Limits(max_connections=args.concurrency * 2, keepalive_expiry=2.0)
    try:
        with ticketing_process(env):
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", timeout=120, limits=limits
            ) as client:
                await wait_ready(client)
                issue = await bench_issue(client, args.tickets, args.concurrency, kiosk)
                call_next = await bench_call_next(client, args.tickets, args.concurrency, secret)
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
        "raw_store_insert": raw,
        "issue": issue,
        "call_next": call_next,
        "ratios_to_raw_insert": {
            "issue": round(issue["per_s"] / raw["per_s"], 3),
            "call_next_visits": round(call_next["per_s"] / raw["per_s"], 3),
        },
    }
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")


if __name__ == "__main__":
    asyncio.run(main())
