"""Days the browser tests cannot live through: visits of last week and the portal's online applications,
published on the real topics exactly as ticketing and the city portal publish them (feedback reads them
from Kafka like any other event)."""

from __future__ import annotations

import asyncio
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaProducer
from contracts import Envelope, EventData, encode, new_event
from contracts.portal import OnlineApplicationFiled
from contracts.registry import partition_key, topic_for
from contracts.ticketing import ServiceCompleted, ServiceStarted, TicketCalled, TicketIssued

KAFKA = "127.0.0.1:9092"
KAZAN = ZoneInfo("Europe/Moscow")


def last_week(today: date | None = None) -> tuple[date, date]:
    """Monday and Sunday of the last full week, in Kazan."""
    today = today or datetime.now(KAZAN).date()
    monday = today - timedelta(days=today.weekday() + 7)
    return monday, monday + timedelta(days=6)


@dataclass(frozen=True)
class PastVisit:
    service_id: str
    operator_ref: str
    wait_seconds: int
    service_seconds: int = 600
    window_no: int = 1


def visit_events(office_id: str, day: date, number: int, visit: PastVisit) -> list[Envelope]:
    ticket_id = f"past-{secrets.token_hex(4)}"
    issued = datetime.combine(day, time(10, 0), KAZAN).astimezone(UTC) + timedelta(minutes=number)
    ids = {"ticket_id": ticket_id, "number": f"А{number:03d}", "service_id": visit.service_id}
    called = issued + timedelta(seconds=visit.wait_seconds)
    window = {"window_no": visit.window_no, "operator_ref": visit.operator_ref}
    steps: list[tuple[EventData, datetime]] = [
        (
            TicketIssued(
                **ids,
                service_ids=[visit.service_id],
                zone_id="z1",
                channel="kiosk",
                local_day=day,
                issued_at=issued,
                position=1,
                estimated_wait_minutes=5,
            ),
            issued,
        ),
        (TicketCalled(**ids, **window, zone_id="z1", call_no=1, waited_seconds=visit.wait_seconds), called),
        (ServiceStarted(**ids, **window), called + timedelta(seconds=30)),
        (
            ServiceCompleted(
                **ids,
                **window,
                zone_id="z1",
                outcome="served",
                waited_seconds=visit.wait_seconds,
                service_seconds=visit.service_seconds,
                channel="kiosk",
            ),
            called + timedelta(seconds=30 + visit.service_seconds),
        ),
    ]
    return [
        new_event(
            data,
            producer="ticketing",
            office_id=office_id,
            aggregate_id=ticket_id,
            aggregate_version=version,
            occurred_at=at,
        )
        for version, (data, at) in enumerate(steps, start=1)
    ]


def online_application(office_id: str, service_id: str, filed_at: datetime) -> Envelope:
    application_id = f"rt-{secrets.token_hex(5)}"
    return new_event(
        OnlineApplicationFiled(application_id=application_id, service_id=service_id, filed_at=filed_at),
        producer="portal",
        office_id=office_id,
        aggregate_id=application_id,
        aggregate_version=1,
        occurred_at=filed_at,
    )


def publish(envelopes: list[Envelope], topic_prefix: str) -> None:
    async def send() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=KAFKA, acks="all", enable_idempotence=True)
        await producer.start()
        try:
            for envelope in envelopes:
                await producer.send_and_wait(
                    topic_prefix + topic_for(envelope.event_type).name,
                    encode(envelope),
                    key=partition_key(envelope),
                    headers=[(k, v.encode()) for k, v in envelope.headers().items()],
                )
        finally:
            await producer.stop()

    # The sync Playwright tests run inside an event loop: the producer gets a loop of its own.
    errors: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(send())
        except BaseException as error:
            errors.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    if errors:
        raise errors[0]
