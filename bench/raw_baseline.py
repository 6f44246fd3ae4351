"""Raw baselines: what Kafka and the document store do with no OneWindow code in the way.

    uv run python bench/raw_baseline.py            # needs deploy/local/infra.sh up

* Kafka produce: aiokafka, enable_idempotence=True, acks=all, N messages of ~300 bytes keyed by
  office (10 keys), on a fresh 3-partition topic; rate = N / (first send .. last ack).
* Kafka consume: the same topic, a fresh consumer group from the earliest offset, getmany();
  rate = N / (consumer start .. last record), group join included (join time also reported apart).
* Store insert / update: pymongo's AsyncMongoClient, one document per call, C concurrent workers,
  N documents of ~300 bytes; the update is the outbox-style single-document update
  ($set + $inc + $push) on distinct documents (no contention).

Prints JSON and writes bench/results/raw_baseline.json. Other benchmarks report ratios to it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiokafka
import pymongo
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

BOOTSTRAP = os.environ.get("ONEWINDOW_KAFKA", "127.0.0.1:9092")
MONGO_URL = os.environ.get("ONEWINDOW_MONGO_URL", "mongodb://127.0.0.1:27017")
RESULTS = Path(__file__).resolve().parent / "results" / "raw_baseline.json"


def payload(i: int, size: int = 300) -> bytes:
    head = json.dumps({"event_type": "bench.Raw", "seq": i, "office_id": f"office-{i % 10}"}).encode()
    return head + b" " * max(0, size - len(head))


async def kafka_produce(topic: str, n: int) -> dict[str, Any]:
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()

    producer = AIOKafkaProducer(bootstrap_servers=BOOTSTRAP, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        # warm-up: metadata for the fresh topic, producer id
        await producer.send_and_wait(topic, payload(-1), key=b"warmup")
        t0 = time.perf_counter()
        futures = [await producer.send(topic, payload(i), key=f"office-{i % 10}".encode()) for i in range(n)]
        await asyncio.gather(*futures)
        elapsed = time.perf_counter() - t0
    finally:
        await producer.stop()
    return {
        "messages": n,
        "message_bytes": len(payload(0)),
        "seconds": round(elapsed, 3),
        "msgs_per_s": round(n / elapsed),
        "mb_per_s": round(n * len(payload(0)) / elapsed / 1e6, 2),
    }


async def kafka_consume(topic: str, n: int) -> dict[str, Any]:
    expected = n + 1  # + the warm-up message
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=BOOTSTRAP,
        group_id=f"bench-raw-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    t_start = time.perf_counter()
    await consumer.start()
    got = 0
    t_first: float | None = None
    try:
        deadline = time.monotonic() + 120
        while got < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for records in batches.values():
                if records and t_first is None:
                    t_first = time.perf_counter()
                got += len(records)
        t_last = time.perf_counter()
        await consumer.commit()
    finally:
        await consumer.stop()
    if got < expected or t_first is None:
        raise RuntimeError(f"consumed {got} of {expected} messages in 120 s")
    elapsed = t_last - t_start  # start() .. last record: includes the group join
    return {
        "messages": got,
        "seconds": round(elapsed, 3),
        "msgs_per_s": round(got / elapsed),
        "join_seconds": round(t_first - t_start, 3),
    }


async def run_workers(
    n: int, concurrency: int, op: Any, budget_s: float
) -> tuple[float, int, dict[str, int]]:
    """Run op(i) for i < n on `concurrency` workers, taking no new item after budget_s seconds;
    return the time, how many calls were made and the errors by kind.

    Errors are counted, not raised: FerretDB's SQLite backend answers SQLITE_BUSY under write
    contention, and a baseline should show that rather than die on it.
    """
    counter = iter(range(n))
    errors: dict[str, int] = {}
    done = 0
    deadline = time.perf_counter() + budget_s

    async def worker() -> None:
        nonlocal done
        for i in counter:
            if time.perf_counter() > deadline:
                return
            done += 1
            try:
                await op(i)
            except PyMongoError as exc:
                kind = "SQLITE_BUSY" if "SQLITE_BUSY" in str(exc) else type(exc).__name__
                errors[kind] = errors.get(kind, 0) + 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - t0, done, errors


async def store_rates(
    n: int, concurrency: int, budget_s: float
) -> tuple[dict[str, Any], dict[str, Any], str]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO_URL, maxPoolSize=concurrency + 4)
    name = f"bench_raw_{uuid.uuid4().hex[:12]}"
    db = client[name]
    coll = db["docs"]
    try:
        info = await client.admin.command("buildInfo")
        server = (
            f"FerretDB {info['ferretdbVersion']}"
            if "ferretdbVersion" in info
            else f"MongoDB {info['version']}"
        )
        await coll.insert_one({"_id": "warmup"})

        def doc(i: int) -> dict[str, Any]:
            return {
                "_id": f"T-{i:06d}",
                "office_id": f"office-{i % 10}",
                "state": "waiting",
                "version": 1,
                "number": i,
                "note": "x" * 180,
                "outbox": [],
            }

        async def insert(i: int) -> None:
            await coll.insert_one(doc(i))

        async def update(i: int) -> None:
            res = await coll.update_one(
                {"_id": f"T-{i:06d}", "version": 1},
                {
                    "$set": {"state": "called"},
                    "$inc": {"version": 1},
                    "$push": {"outbox": {"event_type": "ticketing.TicketCalled", "seq": i}},
                },
            )
            if res.modified_count != 1:
                raise PyMongoError(f"update of T-{i:06d} modified {res.modified_count}")

        t_ins, n_ins, e_ins = await run_workers(n, concurrency, insert, budget_s)
        t_upd, n_upd, e_upd = await run_workers(n_ins, concurrency, update, budget_s)
        updated = await coll.count_documents({"version": 2})
    finally:
        await client.drop_database(name)
        await client.close()

    def figures(t: float, calls: int, errors: dict[str, int]) -> dict[str, Any]:
        ok = calls - sum(errors.values())
        return {
            "docs": calls,
            "concurrency": concurrency,
            "seconds": round(t, 3),
            "ops_per_s": round(ok / t, 1),
            "errors": errors,
            "stopped_by_time_budget": calls < n,
        }

    upd = figures(t_upd, n_upd, e_upd) | {"documents_at_version_2": updated}
    return figures(t_ins, n_ins, e_ins), upd, server


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--docs", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument(
        "--store-budget",
        type=float,
        default=60.0,
        help="seconds per store phase; a phase past it reports what it did so far",
    )
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    print(f"kafka produce {args.messages} -> {topic}", file=sys.stderr)
    produce = await kafka_produce(topic, args.messages)
    print(f"kafka consume: {produce['msgs_per_s']} msg/s produced", file=sys.stderr)
    consume = await kafka_consume(topic, args.messages)
    print(f"store insert+update {args.docs} at {MONGO_URL}", file=sys.stderr)
    insert, update, server = await store_rates(args.docs, args.concurrency, args.store_budget)

    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "versions": {
            "aiokafka": aiokafka.__version__,
            "pymongo": pymongo.version,
            "store": server,
            "kafka": "4.1.1 (KRaft, one node, deploy/local/infra.sh)",
        },
        "kafka_topic": topic,
        "kafka_produce": produce,
        "kafka_consume": consume,
        "store_insert_one": insert,
        "store_update_one": update,
    }
    text = json.dumps(result, indent=2)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n")


if __name__ == "__main__":
    asyncio.run(main())
