"""Board latency: TicketCalled published to Kafka -> the call seen on the board's SSE stream.

    uv run python bench/board_bench.py [--rate 20] [--seconds 30]     # needs deploy/local/infra.sh up

One notifier (in this process, uvicorn on a free port, fresh topics and database) and one SSE
client. TicketCalled events for one office are produced at `rate`/s; latency = SSE frame received
minus the moment before the send. The raw baseline in the same run: aiokafka produce -> consume
latency on a fresh topic with the same setup (3 partitions, idempotent producer, acks=all), same
rate and duration. Prints JSON and writes bench/results/board.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from contracts import new_event
from contracts.registry import encode, partition_key, topic_for
from contracts.samples import sample_office, sample_service
from contracts.ticketing import TicketCalled
from contracts.topics import create_topics
from notifier.main import create_app
from notifier.settings import Settings
from servicekit.sealing import generate_keypair
from servicekit.store import connect

BOOTSTRAP = os.environ.get("ONEWINDOW_KAFKA", "127.0.0.1:9092")
MONGO_URL = os.environ.get("ONEWINDOW_MONGO_URL", "mongodb://127.0.0.1:27017")
RESULTS = Path(__file__).resolve().parent / "results" / "board.json"
OFFICE = "kzn-kirov-moskov"


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {"count": 0}

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {
        "count": len(ordered),
        "p50_ms": at(0.50),
        "p90_ms": at(0.90),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1] * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def paced(rate: float, seconds: float) -> Any:
    """Yield i at a steady `rate` per second for `seconds` (no catch-up bursts after a stall)."""
    interval, start = 1 / rate, time.perf_counter()
    for i in range(int(rate * seconds)):
        delay = start + i * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        yield i


async def raw_baseline(prefix: str, rate: float, seconds: float) -> dict[str, Any]:
    # The same topic setup the notifier consumes (3 partitions, same configs), under other names.
    await create_topics(BOOTSTRAP, partitions=3, prefix=f"{prefix}raw.")
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, enable_idempotence=True, acks="all")
    consumer = AIOKafkaConsumer(
        f"{prefix}raw.ticketing.ticket",
        bootstrap_servers=BOOTSTRAP,
        group_id=f"bench-raw-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="latest",
    )
    await producer.start()
    await consumer.start()
    sent: dict[int, float] = {}
    latencies: list[float] = []
    try:
        while not consumer.assignment():  # noqa: ASYNC110 - polling a third-party flag
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # the group settled; "latest" positions are fixed

        async def consume() -> None:
            while len(latencies) < int(rate * seconds):
                batches = await consumer.getmany(timeout_ms=200)
                now = time.perf_counter()
                for records in batches.values():
                    for record in records:
                        latencies.append(now - sent[int(record.value)])

        reader = asyncio.create_task(consume())
        async for i in paced(rate, seconds):
            sent[i] = time.perf_counter()
            await producer.send(f"{prefix}raw.ticketing.ticket", str(i).encode(), key=OFFICE.encode())
        await asyncio.wait_for(reader, 30)
    finally:
        await consumer.stop()
        await producer.stop()
    return percentiles(latencies)


async def store_round_trip(samples: int = 40) -> dict[str, Any]:
    """The store's own latency in this run: find_one by _id, and the board's write (insert + replace)."""
    client = connect(MONGO_URL, app_name="bench")
    db = client[f"bench_rt_{uuid.uuid4().hex[:8]}"]
    reads: list[float] = []
    writes: list[float] = []
    try:
        await db["b"].insert_one({"_id": "x", "n": 0})
        for i in range(samples):
            t0 = time.perf_counter()
            await db["b"].find_one({"_id": "x"})
            reads.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            await db["c"].insert_one({"_id": i})
            await db["b"].replace_one({"_id": "x"}, {"_id": "x", "n": i})
            writes.append(time.perf_counter() - t0)
    finally:
        await client.drop_database(db.name)
        await client.close()
    return {"find_by_id": percentiles(reads), "claim_insert_plus_replace": percentiles(writes)}


async def board_latency(prefix: str, rate: float, seconds: float) -> dict[str, Any]:
    public, private = generate_keypair()
    database = f"bench_board_{uuid.uuid4().hex[:8]}"
    settings = Settings.model_validate(
        {
            "ONEWINDOW_KAFKA": BOOTSTRAP,
            "ONEWINDOW_MONGO_URL": MONGO_URL,
            "ONEWINDOW_TOPIC_PREFIX": prefix,
            "ONEWINDOW_NOTIFIER_PUBLIC_KEY": public,
            "ONEWINDOW_LOG_LEVEL": "WARNING",
            "private_key": private,
            "mongo_db": database,
            "channel": "log",
            "log_path": str(Path(tempfile.gettempdir()) / "board-bench-notifications.log"),
        }
    )
    app = create_app(settings)
    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, enable_idempotence=True, acks="all")
    await producer.start()

    async def publish(data: Any, aggregate_id: str) -> None:
        envelope = new_event(
            data, producer="bench", office_id=OFFICE, aggregate_id=aggregate_id, aggregate_version=1
        )
        await producer.send(
            prefix + topic_for(envelope.event_type).name, encode(envelope), key=partition_key(envelope)
        )

    await publish(sample_office(OFFICE, all_day=True), OFFICE)
    await publish(sample_service(office_id=OFFICE), "housing-certificate")
    await producer.flush()
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, timeout_graceful_shutdown=2)
    )
    serving = asyncio.create_task(server.serve())
    sent: dict[str, float] = {}
    latencies: list[float] = []
    total = int(rate * seconds)
    try:
        while not server.started:  # noqa: ASYNC110 - polling a third-party flag
            await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            while (await client.get(f"/boards/{OFFICE}")).status_code != 200:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
            # Warm-up: one call end to end, so group join and first writes are not in the figures.
            await publish(_call(-1), "warm")
            polls_before = app.state.board_hub.polls
            async with client.stream("GET", f"/boards/{OFFICE}/stream") as response:
                lines = response.aiter_lines()

                async def read() -> None:
                    event = ""
                    async for line in lines:
                        if line.startswith("event:"):
                            event = line[6:].strip()
                        elif line.startswith("data:") and event == "call":
                            number = json.loads(line[5:])["ticket_id"]
                            if number in sent:
                                latencies.append(time.perf_counter() - sent[number])
                                if len(latencies) >= total:
                                    return

                reader = asyncio.create_task(read())
                await asyncio.sleep(2.0)  # the warm-up call is through
                started = time.monotonic()
                async for i in paced(rate, seconds):
                    sent[f"b{i}"] = time.perf_counter()
                    await publish(_call(i), f"b{i}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(reader, 30)
                elapsed = time.monotonic() - started
            polls = app.state.board_hub.polls - polls_before
    finally:
        await producer.stop()
        server.should_exit = True
        await serving
        client_db = connect(MONGO_URL, app_name="bench")
        await client_db.drop_database(database)
        await client_db.close()
    result = percentiles(latencies)
    result.update(
        {
            "lost": total - len(latencies),
            "board_polls_per_s": round(polls / elapsed, 1),
            "poll_seconds": settings.board_poll_seconds,
        }
    )
    return result


def _call(i: int) -> TicketCalled:
    return TicketCalled(
        ticket_id=f"b{i}" if i >= 0 else "warm",
        number=f"А{i % 1000:03d}",
        service_id="housing-certificate",
        window_no=1 + i % 12,
        zone_id="z1",
        call_no=1,
        operator_ref="op",
        waited_seconds=0,
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    await create_topics(BOOTSTRAP, partitions=3, prefix=prefix)
    board = await board_latency(prefix, args.rate, args.seconds)
    raw = await raw_baseline(prefix, args.rate, args.seconds)
    store = await store_round_trip()
    result = {
        "benchmark": "board: TicketCalled -> SSE frame",
        "at": datetime.now(UTC).isoformat(),
        "rate_per_s": args.rate,
        "seconds": args.seconds,
        "board": board,
        "raw_kafka_produce_to_consume": raw,
        "raw_store_round_trip": store,
        "machine_load_1m": os.getloadavg()[0],
        "ratio_p50": round(board["p50_ms"] / raw["p50_ms"], 2) if raw.get("p50_ms") else None,
        "ratio_p99": round(board["p99_ms"] / raw["p99_ms"], 2) if raw.get("p99_ms") else None,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    asyncio.run(main())
