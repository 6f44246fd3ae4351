"""Slot generation from office hours, breaks, holidays, short days and appointment capacity."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from appointments.domain import (
    SHARED_POOL,
    ServiceNotBookable,
    SlotNotOffered,
    UnknownOffice,
    ensure_bookable,
    find_slot,
    free_seat,
    seat_key,
    seats_left,
    slots_on,
    still_offered,
)
from contracts.catalog import AppointmentCapacity, DateException, OfficeConfigured
from contracts.samples import sample_office, sample_service

MSK = ZoneInfo("Europe/Moscow")
MONDAY = date(2026, 3, 2)
WEDNESDAY = MONDAY + timedelta(days=2)
SATURDAY = MONDAY + timedelta(days=5)
SUNDAY = MONDAY + timedelta(days=6)
NOW = datetime(2026, 3, 1, 10, 0, tzinfo=MSK)
GRID = 15


def at(day: date, hhmm: str) -> datetime:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=MSK)


def office_with(**changes: object) -> OfficeConfigured:
    return sample_office().model_copy(update=changes)


def starts(slots: list) -> list[str]:  # type: ignore[type-arg]
    return [f"{slot.start:%H:%M}" for slot in slots]


def test_a_weekday_is_cut_into_grid_slots_around_the_lunch_break() -> None:
    slots = slots_on(sample_office(), sample_service(), MONDAY, shared_grid_minutes=GRID)
    assert starts(slots)[:2] == ["08:00", "08:15"]
    assert "12:45" in starts(slots) and "13:00" not in starts(slots) and "13:45" not in starts(slots)
    assert starts(slots)[-1] == "17:45"
    assert len(slots) == 5 * 4 + 4 * 4
    assert {slot.capacity for slot in slots} == {2} and {slot.pool for slot in slots} == {SHARED_POOL}


def test_the_long_evening_has_no_appointments_beyond_the_capacity_rule() -> None:
    slots = slots_on(sample_office(), sample_service(), WEDNESDAY, shared_grid_minutes=GRID)
    assert starts(slots)[-1] == "17:45"


def test_saturday_slots_follow_the_shorter_hours_and_sunday_has_none() -> None:
    saturday = slots_on(sample_office(), sample_service(), SATURDAY, shared_grid_minutes=GRID)
    assert starts(saturday)[0] == "09:00" and starts(saturday)[-1] == "13:45"
    assert slots_on(sample_office(), sample_service(), SUNDAY, shared_grid_minutes=GRID) == []


def test_a_holiday_has_no_slots_and_says_why() -> None:
    office = office_with(exceptions=[DateException(date=MONDAY, closed=True, note="Republic Day")])
    assert slots_on(office, sample_service(), MONDAY, shared_grid_minutes=GRID) == []
    with pytest.raises(SlotNotOffered, match="closed on 2026-03-02 \\(Republic Day\\)"):
        find_slot(
            office, sample_service(), at(MONDAY, "10:00"), NOW, horizon_days=30, shared_grid_minutes=GRID
        )


def test_a_short_day_ends_its_slots_early() -> None:
    office = office_with(exceptions=[DateException(date=MONDAY, open="08:00", close="12:00")])
    slots = slots_on(office, sample_service(), MONDAY, shared_grid_minutes=GRID)
    assert starts(slots)[-1] == "11:45"
    with pytest.raises(SlotNotOffered, match="outside the office hours"):
        find_slot(
            office, sample_service(), at(MONDAY, "12:00"), NOW, horizon_days=30, shared_grid_minutes=GRID
        )


def test_a_service_longer_than_a_cell_takes_consecutive_cells_and_never_crosses_the_break() -> None:
    slots = slots_on(sample_office(), sample_service(expected_minutes=25), MONDAY, shared_grid_minutes=GRID)
    first = slots[0]
    assert first.cells == (at(MONDAY, "08:00"), at(MONDAY, "08:15")) and first.end == at(MONDAY, "08:30")
    assert "12:30" in starts(slots) and "12:45" not in starts(slots)


def test_windows_set_aside_for_one_service_use_its_own_duration_and_win_over_shared_ones() -> None:
    office = office_with(
        appointment_capacity=[
            AppointmentCapacity(service_id="housing-certificate", start="09:00", end="11:00", windows=3),
            AppointmentCapacity(start="08:00", end="18:00", windows=1),
        ]
    )
    slots = slots_on(office, sample_service(expected_minutes=20), MONDAY, shared_grid_minutes=GRID)
    own = [slot for slot in slots if slot.pool == "housing-certificate"]
    assert starts(own) == ["09:00", "09:20", "09:40", "10:00", "10:20", "10:40"]
    assert {slot.capacity for slot in own} == {3}
    shared_starts = starts([slot for slot in slots if slot.pool == SHARED_POOL])
    assert "08:30" in shared_starts and "09:00" not in shared_starts and "10:45" not in shared_starts
    assert "11:00" in shared_starts


def test_zero_windows_for_a_service_closes_that_time_to_it() -> None:
    office = office_with(
        appointment_capacity=[
            AppointmentCapacity(service_id="housing-certificate", start="08:00", end="12:00", windows=0),
            AppointmentCapacity(start="08:00", end="18:00", windows=2),
        ]
    )
    slots = slots_on(office, sample_service(), MONDAY, shared_grid_minutes=GRID)
    assert starts(slots)[0] == "12:00"


def test_capacity_is_the_number_of_windows_and_a_seat_is_free_only_if_all_its_cells_are() -> None:
    slot = slots_on(sample_office(), sample_service(expected_minutes=25), MONDAY, shared_grid_minutes=GRID)[0]
    assert free_seat(slot, set()) == 0 and seats_left(slot, set()) == 2
    second_cell_of_seat_0 = {(slot.cells[1], 0)}
    assert free_seat(slot, second_cell_of_seat_0) == 1 and seats_left(slot, second_cell_of_seat_0) == 1
    assert free_seat(slot, {(slot.cells[0], 0), (slot.cells[1], 1)}) is None


def test_seat_keys_spell_one_instant_one_way_whatever_the_time_zone() -> None:
    local = at(MONDAY, "10:00")
    assert seat_key("o", "any", local, 1) == seat_key("o", "any", local.astimezone(ZoneInfo("UTC")), 1)
    assert seat_key("o", "any", local, 1) == "o:any:2026-03-02T07:00:00+00:00:1"


@pytest.mark.parametrize(
    ("when", "reason"),
    [
        (at(date(2026, 2, 28), "10:00"), "in the past"),
        (at(MONDAY + timedelta(days=40), "10:00"), "at most 30 days ahead"),
        (at(MONDAY, "13:15"), "during the break"),
        (at(MONDAY, "07:00"), "outside the office hours"),
        (at(MONDAY, "10:05"), "do not start at 10:05; the nearest start at 10:00"),
        (at(SUNDAY, "10:00"), "closed on"),
    ],
)
def test_a_slot_that_is_not_offered_says_why(when: datetime, reason: str) -> None:
    with pytest.raises(SlotNotOffered, match=reason):
        find_slot(sample_office(), sample_service(), when, NOW, horizon_days=30, shared_grid_minutes=GRID)


def test_an_offered_slot_is_found_at_its_exact_start() -> None:
    slot = find_slot(
        sample_office(), sample_service(), at(MONDAY, "10:15"), NOW, horizon_days=30, shared_grid_minutes=GRID
    )
    assert slot.start == at(MONDAY, "10:15") and slot.end == at(MONDAY, "10:30")


def test_services_that_cannot_be_booked_are_refused() -> None:
    office = sample_office()
    with pytest.raises(ServiceNotBookable, match="not offered by appointment"):
        ensure_bookable(office, sample_service(appointment_allowed=False), office.office_id)
    with pytest.raises(ServiceNotBookable, match="not offered at office"):
        ensure_bookable(office, sample_service(office_id="elsewhere"), office.office_id)
    with pytest.raises(ServiceNotBookable, match="no windows aside"):
        ensure_bookable(office_with(appointment_capacity=[]), sample_service(), office.office_id)
    with pytest.raises(UnknownOffice):
        ensure_bookable(office_with(retired=True), sample_service(), office.office_id)


def test_fewer_windows_put_only_the_bookings_on_the_removed_seats_at_risk() -> None:
    cut = office_with(appointment_capacity=[AppointmentCapacity(start="08:00", end="18:00", windows=1)])
    kwargs = {"slot_start": at(MONDAY, "10:00"), "pool": SHARED_POOL, "shared_grid_minutes": GRID}
    assert still_offered(cut, sample_service(), seat_no=0, **kwargs) is None  # type: ignore[arg-type]
    assert "1 window" in (still_offered(cut, sample_service(), seat_no=1, **kwargs) or "")  # type: ignore[arg-type]
    closed = office_with(exceptions=[DateException(date=MONDAY, closed=True)])
    assert still_offered(closed, sample_service(), seat_no=0, **kwargs) is not None  # type: ignore[arg-type]


def test_an_office_with_a_mistyped_time_zone_still_offers_its_slots_in_moscow_time() -> None:
    typo = office_with(timezone="Europe/Moskow")  # raised ZoneInfoNotFoundError (a 500) before
    slots = slots_on(typo, sample_service(), MONDAY, shared_grid_minutes=GRID)
    assert starts(slots) == starts(
        slots_on(sample_office(), sample_service(), MONDAY, shared_grid_minutes=GRID)
    )
