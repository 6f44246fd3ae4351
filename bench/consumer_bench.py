"""The feedback and notifier consumers against two raw floors, all measured in one run.

    uv run python bench/consumer_bench.py --tickets 1000     # -> bench/results/consumers.json

N TicketIssued + N ServiceCompleted are produced onto fresh topics while feedback and notifier run
as processes (testbed.harness); each consumer's time is from the first send until its
group's committed offsets equal the end offsets (lag 0). The raw floors read the same records:
`getmany`, `json.loads`, then one `insert_one` per record (the unbatched floor) or one
`insert_many` per poll (the fair floor for batched handlers), committing once per poll.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo import AsyncMongoClient
from run_all import RESULTS, pipeline_events, produce, wait_lag_zero
from testbed.harness import System

ROOT = Path(__file__).resolve().parents[1]


async def raw_consume(
    kafka: str, mongo_url: str, topic: str, expected: int, *, batched: bool
) -> dict[str, Any]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka,
        group_id=f"bench-raw-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    db = client[f"bench_rawpipe_{uuid.uuid4().hex[:8]}"]
    await consumer.start()
    got, first = 0, None
    try:
        deadline = time.monotonic() + 600
        while got < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=500)
            for records in batches.values():
                first = first or time.monotonic()
                docs = []
                for record in records:
                    event = json.loads(record.value)
                    docs.append(
                        {"_id": event["event_id"], "type": event["event_type"], "data": event["data"]}
                    )
                if batched:
                    await db["events"].insert_many(docs)
                else:
                    for doc in docs:
                        await db["events"].insert_one(doc)
                got += len(docs)
            if batches:
                await consumer.commit()
        seconds = time.monotonic() - (first or time.monotonic())
    finally:
        await consumer.stop()
        await client.drop_database(db.name)
        await client.close()
    return {
        "events": got,
        "seconds": round(seconds, 2),
        "events_per_s": round(got / seconds, 1) if seconds else None,
    }


class Outbox:
    """Feedback's outbox as the run goes: markers left and FeedbackRequested events on the topic."""

    def __init__(self, system: System, ticket_topic: str, tickets: int) -> None:
        self.system = system
        self.tickets = tickets
        self.topic = ticket_topic.replace("ticketing.ticket", "feedback.feedback")
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(system.mongo_url)
        self.probe = AIOKafkaConsumer(bootstrap_servers=system.kafka)
        self.seen: dict[str, dict[str, int]] = {}

    async def start(self) -> None:
        await self.probe.start()

    async def stop(self) -> None:
        await self.probe.stop()
        await self.client.close()

    async def published(self) -> int:
        partitions = [TopicPartition(self.topic, p) for p in range(self.system.partitions)]
        return sum((await self.probe.end_offsets(partitions)).values())

    async def at_zero(self, name: str) -> None:
        if name != "feedback":
            return
        db = self.client[self.system.database("feedback")]
        self.seen[name] = {
            "outbox_markers": await db["_outbox_pending"].count_documents({}),
            "feedback_events_published": await self.published(),
            "feedback_requests": await db["feedback_requests"].count_documents({}),
        }

    async def all_requests_published(self, started: float, limit_s: float) -> float | None:
        """Seconds from the first send until one FeedbackRequested per ticket is on the topic
        (polled alongside the lag probe)."""
        while time.monotonic() - started < limit_s:
            if await self.published() >= self.tickets:
                return round(time.monotonic() - started, 2)
            await asyncio.sleep(0.1)
        return None


async def measure(tickets: int) -> dict[str, Any]:
    system = System(ticketing_replicas=0, extra_env={"ONEWINDOW_LOG_LEVEL": "WARNING"})
    system.instances = [i for i in system.instances if i.service in ("feedback", "notifier")]
    events = pipeline_events(tickets)
    ticket_topic = f"{system.prefix}ticketing.ticket"
    on_ticket_topic = sum(1 for topic, _, _ in events if topic == "ticketing.ticket")
    await system.start()
    try:
        # The catalog first, so group joins and the catalog are not timed.
        await produce(system.kafka, system.prefix, events[:2])
        await asyncio.sleep(3)
        groups = {"feedback": f"{system.prefix}feedback", "notifier": f"{system.prefix}notifier"}
        outbox = Outbox(system, ticket_topic, tickets)
        await outbox.start()
        started = time.monotonic()
        await produce(system.kafka, system.prefix, events[2:])
        produced = time.monotonic() - started
        requests_out = asyncio.create_task(outbox.all_requests_published(started, limit_s=900))
        done = await wait_lag_zero(
            system.kafka,
            groups,
            ticket_topic,
            system.partitions,
            started,
            limit_s=900,
            at_zero=outbox.at_zero,
        )
        requests_published = await requests_out
        await outbox.stop()
    finally:
        system.stop()
    floors = {
        "raw_insert_one": await raw_consume(
            system.kafka, system.mongo_url, ticket_topic, on_ticket_topic, batched=False
        ),
        "raw_insert_many": await raw_consume(
            system.kafka, system.mongo_url, ticket_topic, on_ticket_topic, batched=True
        ),
    }
    with contextlib.suppress(Exception):
        await system.destroy()
    result: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_1m": os.getloadavg()[0],
        "tickets": tickets,
        "events": on_ticket_topic,
        "partitions": system.partitions,
        "produce_seconds": round(produced, 2),
        **floors,
        # feedback's outbox when its consumer reached lag 0, and when its requests were all out
        "feedback_outbox_at_lag_0": outbox.seen.get("feedback"),
        "feedback_requests_all_published_after_s": requests_published,
    }
    for name, seconds in done.items():
        rate = round(on_ticket_topic / seconds, 1) if seconds else None
        result[name] = {
            "seconds_to_lag_0": round(seconds, 2) if seconds else None,
            "events_per_s": rate,
            **{
                f"ratio_to_{floor}": round(rate / figures["events_per_s"], 3)
                if rate and figures["events_per_s"]
                else None
                for floor, figures in floors.items()
            },
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1000, help="ticket pairs (2 events each)")
    parser.add_argument("--out", default=str(RESULTS / "consumers.json"))
    args = parser.parse_args()
    result = asyncio.run(measure(args.tickets))
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
