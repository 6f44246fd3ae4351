"""When an office stops issuing tickets: its closing time less its cut-off; never for a 24/7 office."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.calendar import closes_at, issuing_stops_at
from contracts.samples import sample_office

MONDAY_NOON_KAZAN = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # 12:00 in Europe/Moscow


def test_issuing_stops_the_cutoff_before_closing() -> None:
    office = sample_office().model_copy(update={"issue_cutoff_minutes": 20})
    close = closes_at(office, MONDAY_NOON_KAZAN)
    assert close is not None and close.strftime("%H:%M") == "18:00"
    stops = issuing_stops_at(office, MONDAY_NOON_KAZAN)
    assert stops is not None and stops.strftime("%H:%M") == "17:40"


def test_a_closed_or_round_the_clock_office_has_no_cutoff() -> None:
    sunday = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    assert closes_at(sample_office(), sunday) is None
    all_day = sample_office(all_day=True).model_copy(update={"issue_cutoff_minutes": 600})
    assert issuing_stops_at(all_day, MONDAY_NOON_KAZAN) is None
