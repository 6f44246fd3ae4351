"""Appointment rules: slots from the office calendar and capacity, check-in windows, booking states.

Pure: no I/O, no framework imports. "Now" is always passed in, so tests move time freely.

Seats. Every appointment window the office sets aside is a *seat*; a slot with capacity N has seats
0..N-1. A service-specific capacity rule cuts its time into slots of the service's expected minutes
(one cell each). A shared ("any bookable service") rule cuts its time into a fixed grid
(`shared_grid_minutes`); a service longer than one cell takes consecutive cells of the same seat.
A booking holds one seat for every cell of its slot, claimed by unique inserts (see store.py).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from contracts.calendar import DayOpening, local_day, opening_on, zone
from contracts.catalog import AppointmentCapacity, OfficeConfigured, ServicePublished

State = Literal["booked", "checked_in", "missed", "cancelled", "fulfilled"]
ACTIVE_STATES: tuple[State, ...] = ("booked", "checked_in")
SHARED_POOL = "any"
# No 0/O/Q, 1/I/L, 2/Z, 5/S, 6/G, 8/B: a code read off a phone screen is typed right at the kiosk.
CODE_ALPHABET = "ACDEFHJKMNPRTUVWXY3479"
CODE_LENGTH = 6


# --- errors (mapped to HTTP statuses in api.py) ------------------------------------------------


class AppointmentError(Exception):
    """A domain error; `details` is merged into the JSON error body."""

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.details: dict[str, Any] = details


class UnknownOffice(AppointmentError):
    """The office is not (or no longer) in the catalog."""


class ServiceNotBookable(AppointmentError):
    """The service cannot be booked at this office."""


class SlotNotOffered(AppointmentError):
    """No such slot: past, too far ahead, outside hours, a holiday, no capacity, misaligned."""


class SlotFull(AppointmentError):
    """Every seat of the slot is taken."""


class BookingLimitReached(AppointmentError):
    """The citizen already holds the allowed number of future bookings of this service."""


class BookingNotChangeable(AppointmentError):
    """The booking's state or time no longer allows this change."""


class UnknownBooking(AppointmentError):
    """No booking behind this token (never says whether it existed)."""


class UnknownCode(AppointmentError):
    """No active booking with this code at this office (never says whether it existed)."""


class TooEarly(AppointmentError):
    """Check-in is not open yet."""


class TooLate(AppointmentError):
    """The grace period after the slot is over."""


class InvalidPeriod(AppointmentError):
    """A report period that is empty or too long."""


class TooManyAttempts(AppointmentError):
    """Too many wrong codes from one place: slow down."""


class TooManyMessages(AppointmentError):
    """This phone or e-mail got as many booking messages today as a day allows."""


class TooManyChanges(AppointmentError):
    """The booking was moved as often as one day allows (every move sends the citizen a message)."""


# --- the booking -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Moves:
    """How often a booking was moved on one local day (ISO date): the limit is per day."""

    day: str
    count: int


@dataclass(frozen=True)
class Booking:
    """One appointment, as the use cases decide on it (its document: store.py)."""

    appointment_id: str
    office_id: str
    service_id: str
    timezone: str
    slot_start: datetime
    slot_end: datetime
    local_day: date  # the office's day of the slot
    pool: str
    seat_no: int
    seat_keys: tuple[str, ...]  # the seat claims it holds (store.py)
    state: State
    code: str
    token_digest: str
    language: str
    booked_at: datetime
    # What it holds of the citizen: sealed for the notifier or hashed; None once forgotten.
    name_sealed: str | None = None
    contact_sealed: str | None = None
    citizen_token_sealed: str | None = None
    contact_hash: str | None = None
    limit_key: str | None = None  # the per-citizen limit claim it holds
    at_risk_reason: str | None = None  # why the catalog no longer backs its seat
    moves: Moves | None = None
    checked_in_at: datetime | None = None
    cancelled_at: datetime | None = None
    missed_at: datetime | None = None
    fulfilled_at: datetime | None = None
    ticket_id: str | None = None
    outcome: str | None = None
    closed_reason: str | None = None
    personal_data_erased_at: datetime | None = None
    rev: int = 0

    @property
    def at_risk(self) -> bool:
        return self.at_risk_reason is not None

    @property
    def personal_data(self) -> tuple[str | None, ...]:
        return (
            self.name_sealed,
            self.contact_sealed,
            self.citizen_token_sealed,
            self.contact_hash,
            self.limit_key,
        )

    def without_personal_data(self, now: datetime) -> Booking:
        return replace(
            self,
            name_sealed=None,
            contact_sealed=None,
            citizen_token_sealed=None,
            contact_hash=None,
            limit_key=None,
            personal_data_erased_at=now,
        )


# --- slots --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    pool: str  # the service id for service-specific windows, SHARED_POOL for shared ones
    capacity: int
    cells: tuple[datetime, ...]

    def describe(self) -> dict[str, Any]:
        return {"slot_start": self.start.isoformat(), "slot_end": self.end.isoformat()}


def _local(day: date, hhmm: str, tz: ZoneInfo) -> datetime:
    hours, minutes = (int(part) for part in hhmm.split(":"))
    if hours == 24:
        return datetime.combine(day + timedelta(days=1), time(0, 0), tz)
    return datetime.combine(day, time(hours, minutes), tz)


def _rules_for(
    office: OfficeConfigured, service_id: str, day: date
) -> tuple[list[AppointmentCapacity], list[AppointmentCapacity]]:
    """(service-specific rules, shared rules) that apply on `day`'s weekday."""
    today = [rule for rule in office.appointment_capacity if day.weekday() in rule.weekdays]
    specific = [rule for rule in today if rule.service_id == service_id]
    shared = [rule for rule in today if rule.service_id is None]
    return specific, shared


def _overlaps(start: datetime, end: datetime, ranges: Iterable[tuple[datetime, datetime]]) -> bool:
    return any(start < range_end and range_start < end for range_start, range_end in ranges)


def _grid(
    opening: DayOpening, rule_start: datetime, rule_end: datetime, step: timedelta, cells: int
) -> Iterator[tuple[datetime, ...]]:
    """Cell starts of every slot that fits in the rule's time, the office hours and outside breaks."""
    limit = min(rule_end, opening.close)
    start = rule_start
    while start + step * cells <= limit:
        end = start + step * cells
        if start >= opening.open and not _overlaps(start, end, opening.breaks):
            yield tuple(start + step * n for n in range(cells))
        start += step


def slots_on(
    office: OfficeConfigured, service: ServicePublished, day: date, *, shared_grid_minutes: int
) -> list[Slot]:
    """Every slot of `service` at `office` on local `day` (seats not considered), by start time.

    Service-specific windows take precedence over shared ones for the time they cover (a specific
    rule with 0 windows therefore closes that time to bookings of the service).
    """
    opening = opening_on(office, day)
    if opening is None:
        return []
    tz = zone(office)
    specific, shared = _rules_for(office, service.service_id, day)
    slots: dict[datetime, Slot] = {}
    specific_ranges = [(_local(day, r.start, tz), _local(day, r.end, tz)) for r in specific]
    own_step = timedelta(minutes=service.expected_minutes)
    for rule, (rule_start, rule_end) in zip(specific, specific_ranges, strict=True):
        if rule.windows <= 0:
            continue
        for cells in _grid(opening, rule_start, rule_end, own_step, 1):
            slots.setdefault(
                cells[0], Slot(cells[0], cells[0] + own_step, service.service_id, rule.windows, cells)
            )
    grid = timedelta(minutes=shared_grid_minutes)
    cells_needed = math.ceil(service.expected_minutes / shared_grid_minutes)
    for rule in shared:
        if rule.windows <= 0:
            continue
        for cells in _grid(
            opening, _local(day, rule.start, tz), _local(day, rule.end, tz), grid, cells_needed
        ):
            end = cells[0] + grid * cells_needed
            if cells[0] in slots or _overlaps(cells[0], end, specific_ranges):
                continue
            slots[cells[0]] = Slot(cells[0], end, SHARED_POOL, rule.windows, cells)
    return [slots[start] for start in sorted(slots)]


def ensure_bookable(
    office: OfficeConfigured | None, service: ServicePublished | None, office_id: str
) -> None:
    if office is None or office.retired:
        raise UnknownOffice(f"office {office_id} is not in the catalog")
    if service is None:
        raise ServiceNotBookable("this service is not in the catalog")
    if not service.appointment_allowed:
        raise ServiceNotBookable("this service is not offered by appointment: take a ticket at the kiosk")
    if all(offering.office_id != office_id for offering in service.offerings):
        raise ServiceNotBookable(f"this service is not offered at office {office_id}")
    if not any(
        rule.service_id in (None, service.service_id) and rule.windows > 0
        for rule in office.appointment_capacity
    ):
        raise ServiceNotBookable("this office sets no windows aside for appointments of this service")


def booking_days(office: OfficeConfigured, now: datetime, horizon_days: int) -> list[date]:
    """Local days on which slots may be booked: today and `horizon_days` after it."""
    today = local_day(office, now)
    return [today + timedelta(days=offset) for offset in range(horizon_days + 1)]


def find_slot(
    office: OfficeConfigured,
    service: ServicePublished,
    at: datetime,
    now: datetime,
    *,
    horizon_days: int,
    shared_grid_minutes: int,
) -> Slot:
    """The slot starting exactly at `at`, or SlotNotOffered with the reason a citizen understands."""
    day = local_day(office, at)
    if at <= now:
        raise SlotNotOffered("this time is in the past")
    if day not in booking_days(office, now, horizon_days):
        raise SlotNotOffered(f"appointments can be booked at most {horizon_days} days ahead")
    opening = opening_on(office, day)
    if opening is None:
        holiday = next((e for e in office.exceptions if e.date == day and e.closed), None)
        note = f" ({holiday.note})" if holiday and holiday.note else ""
        raise SlotNotOffered(f"the office is closed on {day.isoformat()}{note}")
    local = at.astimezone(zone(office))
    if not opening.is_open_at(at):
        during_break = any(start <= at < end for start, end in opening.breaks)
        what = "during the break" if during_break else "outside the office hours"
        raise SlotNotOffered(f"{local:%H:%M} is {what} on {day.isoformat()} ({opening.describe()})")
    slots = slots_on(office, service, day, shared_grid_minutes=shared_grid_minutes)
    match = next((slot for slot in slots if slot.start == at), None)
    if match is not None:
        return match
    if not slots:
        raise SlotNotOffered(f"no appointment windows for this service on {day.isoformat()}")
    covering = [slot for slot in slots if slot.start <= at < slot.end]
    if covering:
        starts = ", ".join(f"{s.start.astimezone(local.tzinfo):%H:%M}" for s in covering)
        raise SlotNotOffered(f"slots do not start at {local:%H:%M}; the nearest start at {starts}")
    raise SlotNotOffered(f"no appointment windows for this service at {local:%H:%M} on {day.isoformat()}")


# --- seats --------------------------------------------------------------------------------------


def seat_key(office_id: str, pool: str, cell: datetime, seat_no: int) -> str:
    """The `_id` whose unique insert claims one seat for one cell (UTC time: one spelling only)."""
    return f"{office_id}:{pool}:{cell.astimezone(UTC).isoformat()}:{seat_no}"


def free_seat(slot: Slot, taken: set[tuple[datetime, int]]) -> int | None:
    """The lowest seat with every cell of the slot free, given taken (cell, seat) pairs."""
    for seat in range(slot.capacity):
        if all((cell, seat) not in taken for cell in slot.cells):
            return seat
    return None


def seats_left(slot: Slot, taken: set[tuple[datetime, int]]) -> int:
    return sum(all((cell, seat) not in taken for cell in slot.cells) for seat in range(slot.capacity))


# --- codes and check-in ---------------------------------------------------------------------------


def new_checkin_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(typed: str) -> str:
    """What the citizen typed, as stored: upper case, no spaces or dashes."""
    return "".join(ch for ch in typed.upper() if ch not in " -")


def check_in_window(slot_start: datetime, now: datetime, *, early_minutes: int, grace_minutes: int) -> None:
    """Raises TooEarly / TooLate outside [slot_start - early, slot_start + grace]."""
    opens = slot_start - timedelta(minutes=early_minutes)
    closes = slot_start + timedelta(minutes=grace_minutes)
    if now < opens:
        raise TooEarly(
            f"check-in opens {early_minutes} minutes before your appointment",
            come_back_at=opens.isoformat(),
            slot_start=slot_start.isoformat(),
        )
    if now > closes:
        raise TooLate(
            f"your appointment started at {slot_start.isoformat()} and the {grace_minutes}-minute grace "
            "period is over; you can take a regular ticket",
            offer="walk_in_ticket",
        )


def grace_over(slot_start: datetime, now: datetime, grace_minutes: int) -> bool:
    return now > slot_start + timedelta(minutes=grace_minutes)


# --- booking states -------------------------------------------------------------------------------


def ensure_changeable(state: str, slot_start: datetime, now: datetime) -> None:
    """Cancel / reschedule: only a booking that is still booked and has not started."""
    if state != "booked":
        raise BookingNotChangeable(
            f"this appointment is {state.replace('_', ' ')} and can no longer be changed"
        )
    if slot_start <= now:
        raise BookingNotChangeable("this appointment has already started; it can no longer be changed")


def count_move(moves: Moves | None, today: str, limit: int) -> Moves:
    """The booking's move count for `today` after one more move; refused past `limit` a day.

    Each move sends the citizen (or whoever's phone was given) a message: without a limit, moving a
    booking back and forth between two slots floods a phone with SMS.
    """
    done = moves.count if moves and moves.day == today else 0
    if done >= limit:
        raise TooManyChanges(
            f"this appointment was already moved {done} times today; it can be moved again tomorrow, "
            "or cancelled and booked anew",
            moves_today=done,
        )
    return Moves(today, done + 1)


@dataclass(frozen=True)
class NoShowRate:
    attended: int
    missed: int
    cancelled: int

    @property
    def rate(self) -> float | None:
        due = self.attended + self.missed
        return round(self.missed / due, 4) if due else None


def no_show_rate(states: Iterable[str]) -> NoShowRate:
    """Missed among the bookings that were due (cancelled ones are not no-shows)."""
    counted = list(states)
    return NoShowRate(
        attended=sum(s in ("checked_in", "fulfilled") for s in counted),
        missed=counted.count("missed"),
        cancelled=counted.count("cancelled"),
    )


def still_offered(
    office: OfficeConfigured,
    service: ServicePublished | None,
    *,
    slot_start: datetime,
    pool: str,
    seat_no: int,
    shared_grid_minutes: int,
) -> str | None:
    """None if the catalog still backs this booking's seat, else why not (the booking is at risk)."""
    if office.retired:
        return "the office no longer serves visitors"
    if service is None or not service.appointment_allowed:
        return "the service is no longer offered by appointment"
    if all(offering.office_id != office.office_id for offering in service.offerings):
        return "the service is no longer offered at this office"
    day = local_day(office, slot_start)
    slots = slots_on(office, service, day, shared_grid_minutes=shared_grid_minutes)
    slot = next((s for s in slots if s.start == slot_start and s.pool == pool), None)
    if slot is None:
        return "the office hours or appointment windows no longer include this time"
    if seat_no >= slot.capacity:
        return f"the office now sets aside {slot.capacity} window(s) at this time"
    return None
