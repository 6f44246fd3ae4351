"""Office calendar rules on an OfficeConfigured payload: local day, hours on a date, open now."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contracts.catalog import DayHours, OfficeConfigured, WindowSchedule

# Where OneWindow started (Kazan): the zone used when an office's own cannot be found.
# Until the catalog told a service an office's zone and language: where OneWindow started (Kazan).
FALLBACK_TIMEZONE = "Europe/Moscow"
FALLBACK_LANGUAGE = "ru"
log = logging.getLogger("contracts.calendar")

WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _t(value: str) -> time:
    hours, minutes = (int(part) for part in value.split(":"))
    return time(23, 59, 59) if hours == 24 else time(hours, minutes)


@dataclass(frozen=True)
class DayOpening:
    day: date
    open: datetime
    close: datetime
    breaks: tuple[tuple[datetime, datetime], ...]

    def is_open_at(self, at: datetime) -> bool:
        return self.open <= at < self.close and not any(start <= at < end for start, end in self.breaks)

    def describe(self) -> str:
        text = f"{self.open:%H:%M}-{self.close:%H:%M}"
        if self.breaks:
            text += " (break " + ", ".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in self.breaks) + ")"
        return text


def is_timezone(name: str) -> bool:
    """An IANA zone this machine knows ("Europe/Moscow"), not a typo."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@lru_cache(maxsize=256)
def zone_named(name: str) -> ZoneInfo:
    """The zone called `name`; an unknown one falls back to Europe/Moscow with a warning (once per
    name), so one typo in an office's configuration never stops the events of that office."""
    if is_timezone(name):
        return ZoneInfo(name)
    log.warning("unknown timezone %r: using %s", name, FALLBACK_TIMEZONE)
    return ZoneInfo(FALLBACK_TIMEZONE)


def zone(office: OfficeConfigured) -> ZoneInfo:
    return zone_named(office.timezone)


def timezone_of(office: OfficeConfigured | None) -> str:
    """The office's zone name, or the fallback for an office the catalog has not told us of yet."""
    return office.timezone if office is not None else FALLBACK_TIMEZONE


def language_of(office: OfficeConfigured | None) -> str:
    return office.default_language if office is not None else FALLBACK_LANGUAGE


def office_day(office: OfficeConfigured | None, at: datetime) -> date:
    """The office-local day at `at` (in the fallback zone for an office not known yet)."""
    return at.astimezone(zone_named(timezone_of(office))).date()


def local_now(office: OfficeConfigured, at: datetime) -> datetime:
    return at.astimezone(zone(office))


def local_day(office: OfficeConfigured, at: datetime) -> date:
    return local_now(office, at).date()


def opening_on(office: OfficeConfigured, day: date) -> DayOpening | None:
    """The office's hours on `day` (holidays and short days applied), None when closed."""
    tz = zone(office)
    exception = next((e for e in office.exceptions if e.date == day), None)
    regular = next((h for h in office.hours if h.weekday == day.weekday()), None)
    if exception is not None and exception.closed:
        return None
    if exception is not None and exception.open and exception.close:
        open_at, close_at = exception.open, exception.close
    elif regular is not None:
        open_at, close_at = regular.open, regular.close
    else:
        return None
    breaks = tuple(
        (datetime.combine(day, _t(b.start), tz), datetime.combine(day, _t(b.end), tz))
        for b in (regular.breaks if regular else [])
    )
    return DayOpening(
        day, datetime.combine(day, _t(open_at), tz), datetime.combine(day, _t(close_at), tz), breaks
    )


def is_open(office: OfficeConfigured, at: datetime) -> bool:
    opening = opening_on(office, local_day(office, at))
    return opening is not None and opening.is_open_at(at)


def closes_at(office: OfficeConfigured, at: datetime) -> datetime | None:
    """When the office closes for the day it is open at `at`; None when it is closed at `at` or runs
    on into the next day without a pause (open 00:00-24:00)."""
    day = local_day(office, at)
    opening = opening_on(office, day)
    if opening is None or not opening.is_open_at(at):
        return None
    if opening.close.time() == time(23, 59, 59):
        following = opening_on(office, day + timedelta(days=1))
        if following is not None and following.open.time() == time(0, 0):
            return None
    return opening.close


def issuing_stops_at(office: OfficeConfigured, at: datetime) -> datetime | None:
    """When kiosks and the web stop issuing today: `issue_cutoff_minutes` before closing."""
    close = closes_at(office, at)
    if close is None:
        return None
    return close - timedelta(minutes=office.issue_cutoff_minutes)


def next_opening(office: OfficeConfigured, at: datetime, horizon_days: int = 14) -> datetime | None:
    """When the office next opens (or `at` itself if open)."""
    day = local_day(office, at)
    for offset in range(horizon_days + 1):
        opening = opening_on(office, day + timedelta(days=offset))
        if opening is None:
            continue
        if opening.is_open_at(at):
            return at
        candidates = [opening.open] + [end for _, end in opening.breaks]
        future = [moment for moment in candidates if moment > at and moment < opening.close]
        if future:
            return min(future)
    return None


def window_schedule(office: OfficeConfigured, window_no: int) -> WindowSchedule | None:
    return next((s for s in office.window_schedules if s.window_no == window_no), None)


def window_on_duty(office: OfficeConfigured, window_no: int, at: datetime) -> bool:
    """Whether the window works at `at`: always for a window without a schedule of its own (the
    office's hours apply as before); else within its hours of the local weekday, outside its
    breaks, and not on a holiday."""
    schedule = window_schedule(office, window_no)
    if schedule is None:
        return True
    local = local_now(office, at)
    day = local.date()
    exception = next((e for e in office.exceptions if e.date == day), None)
    hours = next((h for h in schedule.days if h.weekday == day.weekday()), None)
    if hours is None or (exception is not None and exception.closed):
        return False
    opening = DayOpening(
        day,
        datetime.combine(day, _t(hours.open), local.tzinfo),
        datetime.combine(day, _t(hours.close), local.tzinfo),
        tuple(
            (datetime.combine(day, _t(b.start), local.tzinfo), datetime.combine(day, _t(b.end), local.tzinfo))
            for b in hours.breaks
        ),
    )
    return opening.is_open_at(at)


def describe_days(days: list[DayHours]) -> str:
    """'Mon 08:00-20:00 (break 13:00-14:00); ...' for error messages and pages."""
    parts = []
    for hours in sorted(days, key=lambda h: h.weekday):
        text = f"{WEEKDAYS_EN[hours.weekday]} {hours.open}-{hours.close}"
        if hours.breaks:
            text += " (break " + ", ".join(f"{b.start}-{b.end}" for b in hours.breaks) + ")"
        parts.append(text)
    return "; ".join(parts) or "no day"


def describe_week(office: OfficeConfigured) -> str:
    """'Mon 08:00-20:00 (break 13:00-14:00); ...' for error messages and pages."""
    return describe_days(office.hours) if office.hours else ""
