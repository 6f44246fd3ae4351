"""The ticket desk's use cases on in-memory stand-ins (servicekit.fakes): no broker, no store process.

One replica owns the only partition; the office's writer, its log and its read models run on
`memory_db()`, and what it publishes lands in a `RecordingProducer`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from contracts.samples import sample_office, sample_service
from servicekit.auth import Principal
from servicekit.catalog_view import CatalogView
from servicekit.fakes import RecordingProducer, feed, memory_db
from servicekit.kafka import EventProducer
from servicekit.sealing import generate_keypair
from ticketing.owner import Offices
from ticketing.projections import ReadModels
from ticketing.settings import Settings
from ticketing.store import OfficeLog
from ticketing.usecases import IssueRequest, TicketDesk

OFFICE, SERVICE = "kzn-kirov-moskov", "housing-certificate"


@pytest.fixture
async def desk() -> AsyncIterator[tuple[TicketDesk, RecordingProducer]]:
    db = memory_db()
    catalog = CatalogView(db)
    await feed(catalog, sample_office(OFFICE, all_day=True), sample_service(SERVICE, office_id=OFFICE))
    settings = Settings.model_validate(
        {
            "ONEWINDOW_JWT_SECRET": "usecase-tests-" + "x" * 32,
            "ONEWINDOW_NOTIFIER_PUBLIC_KEY": generate_keypair()[0],
        }
    )
    producer = RecordingProducer()
    published = cast(EventProducer, producer)
    offices = Offices(settings, OfficeLog(db), ReadModels(db), published)
    offices.partitions, offices.owned = 1, {0}  # this replica owns every office
    await offices.publisher_start()
    yield TicketDesk(offices, ReadModels(db), catalog, published, settings), producer
    await offices.stop()


def operator(n: int) -> Principal:
    return Principal(subject=f"operator-{n}", role="operator", office_id=OFFICE)


async def test_concurrent_issues_get_consecutive_numbers_and_events_in_order(
    desk: tuple[TicketDesk, RecordingProducer],
) -> None:
    tickets, producer = desk
    issued = await asyncio.gather(
        *(tickets.issue(IssueRequest(OFFICE, [SERVICE], "kiosk")) for _ in range(20))
    )
    assert sorted(t.ticket.number for t in issued) == [f"А{n:03d}" for n in range(1, 21)]
    events = producer.of_type("ticketing.TicketIssued")
    assert sorted(e.data["number"] for e in events) == [f"А{n:03d}" for n in range(1, 21)]


async def test_two_windows_calling_at_once_never_get_the_same_ticket(
    desk: tuple[TicketDesk, RecordingProducer],
) -> None:
    tickets, producer = desk
    for _ in range(2):
        await tickets.issue(IssueRequest(OFFICE, [SERVICE], "kiosk"))
    for n in (1, 2):
        await tickets.open_window(operator(n), OFFICE, n, [SERVICE])
    called = await asyncio.gather(*(tickets.call_next(operator(n), OFFICE, n) for n in (1, 2)))
    assert sorted(t.number for t in called) == ["А001", "А002"]
    calls: list[Any] = producer.of_type("ticketing.TicketCalled")
    assert sorted((e.data["number"], e.data["window_no"]) for e in calls) in (
        [("А001", 1), ("А002", 2)],
        [("А001", 2), ("А002", 1)],
    )
