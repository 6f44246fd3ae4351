"""The analytics example against the real broker: a few events in, the expected daily summary out."""

from __future__ import annotations

import csv
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaProducer
from contracts import Envelope, EventData, encode, new_event
from contracts.feedback import FeedbackGiven
from contracts.registry import partition_key
from contracts.ticketing import ServiceCompleted, TicketIssued, TicketNoShow
from servicekit.testing import Infra

from .daily_summary import run

DAY = date(2025, 3, 10)
T0 = datetime(2025, 3, 10, 6, 0, tzinfo=UTC)


def event(data: EventData, office: str, minutes: int) -> Envelope:
    return new_event(
        data,
        producer="ticketing",
        office_id=office,
        aggregate_id=getattr(data, "ticket_id", "x"),
        aggregate_version=1,
        occurred_at=T0 + timedelta(minutes=minutes),
    )


def issued(ticket: str, office: str) -> Envelope:
    return event(
        TicketIssued(
            ticket_id=ticket,
            number="A001",
            service_id="s1",
            service_ids=["s1"],
            zone_id="z1",
            channel="kiosk",
            local_day=DAY,
            issued_at=T0,
            position=1,
            estimated_wait_minutes=5,
        ),
        office,
        0,
    )


def completed(ticket: str, office: str, wait: int) -> Envelope:
    return event(
        ServiceCompleted(
            ticket_id=ticket,
            number="A001",
            service_id="s1",
            window_no=1,
            zone_id="z1",
            operator_ref="op",
            outcome="served",
            waited_seconds=wait,
            service_seconds=300,
            channel="kiosk",
        ),
        office,
        20,
    )


async def test_the_example_writes_one_summary_row_per_office_and_day_counting_duplicates_once(
    infra: Infra, topic_prefix: str, tmp_path: Path
) -> None:
    rating = event(FeedbackGiven(request_id="fr-t1", ticket_id="t1", service_id="s1", rating=2), "kzn-a", 60)
    events = [
        issued("t1", "kzn-a"),
        issued("t2", "kzn-a"),
        issued("t3", "kzn-b"),
        completed("t1", "kzn-a", wait=300),
        completed("t3", "kzn-b", wait=900),
        event(
            TicketNoShow(ticket_id="t2", number="A002", service_id="s1", window_no=1, calls=2), "kzn-a", 30
        ),
        rating,
        rating,  # republished: counts once
    ]
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka)
    await producer.start()
    try:
        for envelope in events:
            topic = "feedback.feedback" if envelope.event_type.startswith("feedback.") else "ticketing.ticket"
            await producer.send_and_wait(topic_prefix + topic, encode(envelope), key=partition_key(envelope))
        await producer.send_and_wait(topic_prefix + "ticketing.ticket", b"{not an event", key=b"kzn-a")
    finally:
        await producer.stop()

    out = tmp_path / "summary.csv"
    used = await run(
        infra.kafka, f"analytics-{uuid.uuid4().hex[:6]}", out, prefix=topic_prefix, idle_seconds=3
    )
    assert used == 7
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows == [
        {
            "office_id": "kzn-a",
            "day": "2025-03-10",
            "tickets_issued": "2",
            "visits_completed": "1",
            "no_shows": "1",
            "cancelled": "0",
            "mean_wait_minutes": "5.0",
            "ratings": "1",
            "mean_rating": "2.0",
        },
        {
            "office_id": "kzn-b",
            "day": "2025-03-10",
            "tickets_issued": "1",
            "visits_completed": "1",
            "no_shows": "0",
            "cancelled": "0",
            "mean_wait_minutes": "15.0",
            "ratings": "0",
            "mean_rating": "",
        },
    ]
