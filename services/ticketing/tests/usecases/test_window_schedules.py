"""Windows with a schedule of their own (office settings): outside it a window cannot be opened,
resumed or call anyone (409 with the schedule as the reason); windows without one are unaffected."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import cast

import pytest
from contracts.catalog import DayHours, TimeRange, WindowSchedule
from contracts.samples import sample_office, sample_service
from servicekit.auth import Principal
from servicekit.catalog_view import CatalogView
from servicekit.clock import ManualClock
from servicekit.fakes import RecordingProducer, feed, memory_db
from servicekit.kafka import EventProducer
from servicekit.sealing import generate_keypair
from ticketing.domain import WindowOffDuty
from ticketing.owner import Offices
from ticketing.projections import ReadModels
from ticketing.settings import Settings
from ticketing.store import OfficeLog
from ticketing.usecases import IssueRequest, TicketDesk

OFFICE, SERVICE = "kzn-kirov-moskov", "housing-certificate"
# Window 2 works Monday to Friday 09:00-13:00 office time, with a break 11:00-11:15.
MORNINGS = WindowSchedule(
    window_no=2,
    days=[
        DayHours(weekday=d, open="09:00", close="13:00", breaks=[TimeRange(start="11:00", end="11:15")])
        for d in range(5)
    ],
)
# Monday 2 March 2026 in Kazan (UTC+3).
MONDAY_1030 = datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
MONDAY_1105 = datetime(2026, 3, 2, 8, 5, tzinfo=UTC)
MONDAY_1400 = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
SATURDAY_1030 = datetime(2026, 3, 7, 7, 30, tzinfo=UTC)


@pytest.fixture
async def desk() -> AsyncIterator[tuple[TicketDesk, ManualClock]]:
    db = memory_db()
    catalog = CatalogView(db)
    office = sample_office(OFFICE, all_day=True).model_copy(update={"window_schedules": [MORNINGS]})
    await feed(catalog, office, sample_service(SERVICE, office_id=OFFICE))
    settings = Settings.model_validate(
        {
            "ONEWINDOW_JWT_SECRET": "usecase-tests-" + "x" * 32,
            "ONEWINDOW_NOTIFIER_PUBLIC_KEY": generate_keypair()[0],
        }
    )
    clock = ManualClock(MONDAY_1030)
    published = cast(EventProducer, RecordingProducer())
    offices = Offices(settings, OfficeLog(db), ReadModels(db), published, clock)
    offices.partitions, offices.owned = 1, {0}
    await offices.publisher_start()
    yield TicketDesk(offices, ReadModels(db), catalog, published, settings, clock), clock
    await offices.stop()


def operator(n: int) -> Principal:
    return Principal(subject=f"operator-{n}", role="operator", office_id=OFFICE)


async def test_a_window_works_only_within_its_own_schedule(desk: tuple[TicketDesk, ManualClock]) -> None:
    tickets, clock = desk
    await tickets.issue(IssueRequest(OFFICE, [SERVICE], "kiosk"))
    window = await tickets.open_window(operator(2), OFFICE, 2, [SERVICE])  # Monday 10:30: on duty
    assert window.state == "open"

    clock.set(MONDAY_1105)  # its break
    with pytest.raises(WindowOffDuty) as refused:
        await tickets.call_next(operator(2), OFFICE, 2)
    assert "window 2 cannot call now" in str(refused.value)
    assert "Mon 09:00-13:00 (break 11:00-11:15)" in str(refused.value)

    clock.set(MONDAY_1400)  # after its hours; window 1 has no schedule and follows the office
    with pytest.raises(WindowOffDuty):
        await tickets.call_next(operator(2), OFFICE, 2)
    await tickets.open_window(operator(1), OFFICE, 1, [SERVICE])
    assert (await tickets.call_next(operator(1), OFFICE, 1)).number == "А001"

    clock.set(SATURDAY_1030)  # a weekday not in its schedule
    with pytest.raises(WindowOffDuty, match="cannot be opened now"):
        await tickets.open_window(operator(3), OFFICE, 2, [SERVICE])
