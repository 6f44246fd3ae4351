"""Check-in windows, codes, booking changes and the no-show rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from appointments.domain import (
    CODE_ALPHABET,
    BookingNotChangeable,
    Moves,
    TooEarly,
    TooLate,
    TooManyAttempts,
    TooManyChanges,
    check_in_window,
    count_move,
    ensure_changeable,
    grace_over,
    new_checkin_code,
    no_show_rate,
    normalize_code,
)
from appointments.guard import FailureLimiter
from appointments.usecases import contact_identity

SLOT = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def window(now: datetime) -> None:
    check_in_window(SLOT, now, early_minutes=15, grace_minutes=10)


def test_check_in_opens_fifteen_minutes_before_and_closes_after_the_grace() -> None:
    window(SLOT - timedelta(minutes=15))
    window(SLOT)
    window(SLOT + timedelta(minutes=10))


def test_too_early_says_when_to_come_back() -> None:
    with pytest.raises(TooEarly) as error:
        window(SLOT - timedelta(minutes=16))
    assert error.value.details["come_back_at"] == (SLOT - timedelta(minutes=15)).isoformat()


def test_too_late_offers_a_walk_in_ticket() -> None:
    with pytest.raises(TooLate) as error:
        window(SLOT + timedelta(minutes=10, seconds=1))
    assert error.value.details["offer"] == "walk_in_ticket"
    assert grace_over(SLOT, SLOT + timedelta(minutes=10, seconds=1), 10)
    assert not grace_over(SLOT, SLOT + timedelta(minutes=10), 10)


def test_codes_are_six_unambiguous_characters_and_typing_is_forgiving() -> None:
    codes = {new_checkin_code() for _ in range(200)}
    assert all(len(code) == 6 and set(code) <= set(CODE_ALPHABET) for code in codes)
    assert len(codes) > 195
    assert not set("0O1IL2Z5S8B") & set(CODE_ALPHABET)
    assert normalize_code(" k7m-x3a ") == "K7MX3A"


def test_only_a_booked_appointment_that_has_not_started_can_be_changed() -> None:
    ensure_changeable("booked", SLOT, SLOT - timedelta(seconds=1))
    with pytest.raises(BookingNotChangeable, match="already started"):
        ensure_changeable("booked", SLOT, SLOT)
    with pytest.raises(BookingNotChangeable, match="checked in"):
        ensure_changeable("checked_in", SLOT, SLOT - timedelta(hours=1))


def test_no_show_rate_counts_missed_among_the_bookings_that_were_due() -> None:
    rate = no_show_rate(["fulfilled", "checked_in", "missed", "cancelled", "booked", "fulfilled"])
    assert (rate.attended, rate.missed, rate.cancelled) == (3, 1, 1)
    assert rate.rate == 0.25
    assert no_show_rate(["cancelled"]).rate is None


def test_one_citizen_is_one_contact_however_it_is_spelled() -> None:
    assert contact_identity("+7 (900) 123-45-67", None) == contact_identity("89001234567", None)
    assert contact_identity(None, " Anna@Mail.RU ") == contact_identity(None, "anna@mail.ru")
    assert contact_identity(None, None) is None


def test_wrong_codes_from_one_kiosk_are_slowed_down_after_the_limit() -> None:
    limiter = FailureLimiter(max_failures=3, window_seconds=60)
    for _ in range(3):
        limiter.check("office|10.0.0.5")
        limiter.failed("office|10.0.0.5")
    with pytest.raises(TooManyAttempts) as error:
        limiter.check("office|10.0.0.5")
    assert error.value.details["retry_after_seconds"] >= 1
    limiter.check("office|10.0.0.6")


def test_a_booking_moves_at_most_the_daily_limit_and_the_count_starts_again_the_next_day() -> None:
    moves = None
    for _ in range(3):
        moves = count_move(moves, "2026-11-30", limit=3)
    with pytest.raises(TooManyChanges) as refused:
        count_move(moves, "2026-11-30", limit=3)
    assert refused.value.details["moves_today"] == 3
    assert count_move(moves, "2026-12-01", limit=3) == Moves("2026-12-01", 1)
