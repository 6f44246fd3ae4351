"""An outside analytics consumer: the public OneWindow stream -> a daily summary CSV per office.

Needs only `contracts` (the published event models) and `aiokafka`:

    python daily_summary.py --bootstrap 127.0.0.1:9092 --group district-analytics --out summary.csv
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from contracts import Envelope, EventData, decode
from contracts.feedback import FeedbackGiven
from contracts.registry import MalformedEvent, UnknownEvent
from contracts.ticketing import ServiceCompleted, TicketCancelled, TicketIssued, TicketNoShow

TOPICS = ("ticketing.ticket", "feedback.feedback")
COLUMNS = (
    "office_id",
    "day",
    "tickets_issued",
    "visits_completed",
    "no_shows",
    "cancelled",
    "mean_wait_minutes",
    "ratings",
    "mean_rating",
)
# Events carry UTC times; an office's day is local. TicketIssued carries the local day itself.
FALLBACK_ZONE = ZoneInfo("Europe/Moscow")


@dataclass
class DayFigures:
    issued: int = 0
    completed: int = 0
    no_shows: int = 0
    cancelled: int = 0
    waits: list[int] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)


class DailySummary:
    """Folds events into per-office, per-day figures; duplicates (same event_id) count once."""

    def __init__(self) -> None:
        self.days: dict[tuple[str, date], DayFigures] = defaultdict(DayFigures)
        self.ticket_day: dict[str, date] = {}
        self.seen: set[str] = set()

    def add(self, envelope: Envelope, data: EventData) -> None:
        if str(envelope.event_id) in self.seen:
            return  # delivery is at-least-once: the same event may come twice
        self.seen.add(str(envelope.event_id))
        if isinstance(data, TicketIssued):
            self.ticket_day[data.ticket_id] = data.local_day
        ticket_id = getattr(data, "ticket_id", None)
        if ticket_id is None:
            return
        day = self.ticket_day.get(ticket_id) or envelope.occurred_at.astimezone(FALLBACK_ZONE).date()
        figures = self.days[(envelope.office_id, day)]
        if isinstance(data, TicketIssued):
            figures.issued += 1
        elif isinstance(data, ServiceCompleted):
            figures.waits.append(data.waited_seconds)
            figures.completed += data.next_service_id is None
        elif isinstance(data, TicketNoShow):
            figures.no_shows += 1
        elif isinstance(data, TicketCancelled):
            figures.cancelled += 1
        elif isinstance(data, FeedbackGiven):
            figures.ratings.append(data.rating)

    def rows(self) -> list[dict[str, object]]:
        return [
            {
                "office_id": office_id,
                "day": day.isoformat(),
                "tickets_issued": f.issued,
                "visits_completed": f.completed,
                "no_shows": f.no_shows,
                "cancelled": f.cancelled,
                "mean_wait_minutes": round(sum(f.waits) / len(f.waits) / 60, 1) if f.waits else "",
                "ratings": len(f.ratings),
                "mean_rating": round(sum(f.ratings) / len(f.ratings), 2) if f.ratings else "",
            }
            for (office_id, day), f in sorted(self.days.items())
        ]


def write_csv(rows: list[dict[str, object]], out: Path) -> None:
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


class FromTheBeginning(ConsumerRebalanceListener):  # type: ignore[misc]
    """The summary is recomputed from the whole retained stream on every run (it keeps no state)."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self.consumer = consumer

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        if assigned:
            await self.consumer.seek_to_beginning(*assigned)

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        return None


async def run(
    bootstrap: str, group_id: str, out: Path, *, prefix: str = "", idle_seconds: float = 5.0
) -> int:
    """Read the public topics from the beginning until idle, write the summary; returns events used."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group_id, auto_offset_reset="earliest", enable_auto_commit=False
    )
    consumer.subscribe([prefix + topic for topic in TOPICS], listener=FromTheBeginning(consumer))
    summary = DailySummary()
    await consumer.start()
    try:
        last_record = time.monotonic()
        while time.monotonic() - last_record < idle_seconds:
            batches = await consumer.getmany(timeout_ms=500, max_records=1000)
            for records in batches.values():
                for record in records:
                    last_record = time.monotonic()
                    try:
                        envelope, data = decode(record.value)
                    except (UnknownEvent, MalformedEvent):
                        continue  # newer event types and foreign bytes are not ours to count
                    summary.add(envelope, data)
        write_csv(summary.rows(), out)
        # Committed only after the file is written: the group's lag shows how far the report is behind.
        await consumer.commit()
    finally:
        await consumer.stop()
    return len(summary.seen)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--bootstrap", default=os.environ.get("ONEWINDOW_KAFKA", "127.0.0.1:9092"))
    parser.add_argument("--group", default="district-analytics", help="this consumer's own group id")
    parser.add_argument("--prefix", default=os.environ.get("ONEWINDOW_TOPIC_PREFIX", ""))
    parser.add_argument("--out", type=Path, default=Path("daily_summary.csv"))
    parser.add_argument("--idle-seconds", type=float, default=5.0, help="stop after this long without events")
    args = parser.parse_args(argv)
    used = asyncio.run(
        run(args.bootstrap, args.group, args.out, prefix=args.prefix, idle_seconds=args.idle_seconds)
    )
    print(f"{used} events -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
