"""Catalog rules: what makes an office or a service valid, versions, ticket letters; pure, no I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from contracts.calendar import is_timezone
from contracts.catalog import (
    AppointmentCapacity,
    ChecklistItem,
    DateException,
    DayHours,
    GeoPoint,
    Offering,
    OfficeConfigured,
    OnlineAlternative,
    PriorityCategory,
    ServicePublished,
    ServiceRetired,
    SlaTargets,
    WindowSchedule,
    Zone,
)
from contracts.common import LocalizedText
from pydantic import BaseModel, ConfigDict, Field, field_validator

Category = Literal["administrative", "municipal", "social"]
CATEGORIES: tuple[Category, ...] = ("administrative", "municipal", "social")


# ---------------------------------------------------------------- errors


class CatalogError(Exception):
    """Base of the catalog's domain errors; `details` is merged into the HTTP error body."""

    def __init__(self, message: str = "", details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details: dict[str, Any] = details or {}


class InvalidField(CatalogError):
    """A value that refers to something that does not exist or contradicts another field (422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", {"fields": [{"field": field, "message": message}]})


class StaleVersion(CatalogError):
    """The client edited an older version than the current one (409)."""

    def __init__(self, kind: str, aggregate_id: str, sent: int, current: int) -> None:
        super().__init__(
            f"{kind} {aggregate_id} is at version {current}, you edited version {sent}: reload, apply again",
            {"current_version": current},
        )


class LetterTaken(CatalogError):
    """Another active service in the same office already prints this ticket letter (409)."""

    def __init__(self, letter: str, office_id: str, holder: str) -> None:
        super().__init__(
            f"ticket letter {letter} is already used in office {office_id} by service {holder}",
            {"letter": letter, "office_id": office_id, "used_by": holder},
        )


class AlreadyRetired(CatalogError):
    """A retired office or service is kept for history and no longer changes (409)."""


class StillInUse(CatalogError):
    """An office or zone that active services still point to (409)."""

    def __init__(self, message: str, service_ids: Sequence[str]) -> None:
        super().__init__(message, {"service_ids": sorted(service_ids)})


# ---------------------------------------------------------------- what the admin sends


class OfficeSpec(BaseModel):
    """An office as the admin describes it (the version is assigned by the catalog)."""

    model_config = ConfigDict(extra="forbid")

    name: LocalizedText
    address: LocalizedText
    timezone: str = Field(default="Europe/Moscow", examples=["Europe/Moscow"])
    hours: list[DayHours] = Field(min_length=1)
    exceptions: list[DateException] = Field(default_factory=list)
    zones: list[Zone] = Field(min_length=1)
    sla: SlaTargets = SlaTargets()
    priority_categories: list[PriorityCategory] = Field(default_factory=list)
    appointment_capacity: list[AppointmentCapacity] = Field(default_factory=list)
    default_language: Literal["ru", "tt", "en"] = "ru"
    issue_cutoff_minutes: int = Field(
        default=0, ge=0, le=600, examples=[15], description="Kiosks stop issuing this long before closing"
    )
    location: GeoPoint | None = Field(default=None, description="Where the office is (nearby suggestions)")
    window_schedules: list[WindowSchedule] = Field(
        default_factory=list, description="Windows with hours and breaks of their own"
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str) -> str:
        if not is_timezone(name):
            raise ValueError(f"{name!r} is not an IANA time zone (for example Europe/Moscow)")
        return name


class ServiceSpec(BaseModel):
    """A service as the admin describes it (the version is assigned by the catalog)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64, examples=["HOUSEHOLD-CERT"])
    letter: str = Field(pattern=r"^[A-ZА-ЯЁ]{1,2}$", examples=["С"])
    category: Category
    title: LocalizedText
    description: LocalizedText | None = None
    expected_minutes: int = Field(ge=1, le=240, examples=[10])
    appointment_allowed: bool = False
    online: OnlineAlternative = OnlineAlternative()
    checklist: list[ChecklistItem] = Field(default_factory=list)
    offerings: list[Offering] = Field(min_length=1)


# ---------------------------------------------------------------- offices


def _check_expected(kind: str, aggregate_id: str, current_version: int, sent: int) -> None:
    if sent != current_version:
        raise StaleVersion(kind, aggregate_id, sent, current_version)


def _minutes(value: str) -> int:
    hours, minutes = (int(part) for part in value.split(":"))
    return hours * 60 + minutes


def _validate_days(where: str, days: Sequence[DayHours]) -> None:
    """One entry per weekday, closing after opening, breaks within the hours."""
    weekdays: set[int] = set()
    for index, day in enumerate(days):
        if day.weekday in weekdays:
            raise InvalidField(f"{where}.{index}.weekday", f"weekday {day.weekday} is listed twice")
        weekdays.add(day.weekday)
        if _minutes(day.open) >= _minutes(day.close):
            raise InvalidField(f"{where}.{index}.close", "closing time must be after opening time")
        for b_index, pause in enumerate(day.breaks):
            if not _minutes(day.open) <= _minutes(pause.start) < _minutes(pause.end) <= _minutes(day.close):
                raise InvalidField(
                    f"{where}.{index}.breaks.{b_index}", "a break must lie within the opening hours"
                )


def validate_office(spec: OfficeSpec) -> None:
    """Internal consistency of an office: unique zones, windows, weekdays, sane hours."""
    for index, (zone_id, count) in enumerate(Counter(z.zone_id for z in spec.zones).items()):
        if count > 1:
            raise InvalidField(f"zones.{index}.zone_id", f"zone {zone_id} is listed {count} times")
    seen_windows: dict[int, str] = {}
    for z_index, zone in enumerate(spec.zones):
        for w_index, window in enumerate(zone.windows):
            if window < 1:
                raise InvalidField(f"zones.{z_index}.windows.{w_index}", "window numbers start at 1")
            if window in seen_windows:
                raise InvalidField(
                    f"zones.{z_index}.windows.{w_index}",
                    f"window {window} already belongs to zone {seen_windows[window]}",
                )
            seen_windows[window] = zone.zone_id
    _validate_days("hours", spec.hours)
    scheduled: set[int] = set()
    for index, schedule in enumerate(spec.window_schedules):
        if schedule.window_no not in seen_windows:
            raise InvalidField(
                f"window_schedules.{index}.window_no", f"the office has no window {schedule.window_no}"
            )
        if schedule.window_no in scheduled:
            raise InvalidField(
                f"window_schedules.{index}.window_no", f"window {schedule.window_no} has two schedules"
            )
        scheduled.add(schedule.window_no)
        _validate_days(f"window_schedules.{index}.days", schedule.days)
    dates: set[object] = set()
    for index, exception in enumerate(spec.exceptions):
        if exception.date in dates:
            raise InvalidField(f"exceptions.{index}.date", f"{exception.date} is listed twice")
        dates.add(exception.date)
        if not exception.closed and not (exception.open and exception.close):
            raise InvalidField(f"exceptions.{index}", "a day that is not closed needs both open and close")
    known_windows = len(seen_windows)
    for index, capacity in enumerate(spec.appointment_capacity):
        if capacity.windows > known_windows:
            raise InvalidField(
                f"appointment_capacity.{index}.windows",
                f"{capacity.windows} windows set aside but the office has {known_windows}",
            )


def configure_office(
    office_id: str,
    spec: OfficeSpec,
    *,
    current: OfficeConfigured | None,
    expected_version: int | None,
    services_here: Sequence[ServicePublished] = (),
) -> OfficeConfigured:
    """The next configuration of an office (version 1 when new)."""
    validate_office(spec)
    version = 1
    if current is not None:
        if current.retired:
            raise AlreadyRetired(f"office {office_id} is retired")
        _check_expected("office", office_id, current.version, expected_version or 0)
        zone_ids = {zone.zone_id for zone in spec.zones}
        orphans = [
            service.service_id
            for service in services_here
            for offering in service.offerings
            if offering.office_id == office_id and offering.zone_id not in zone_ids
        ]
        if orphans:
            raise StillInUse(
                f"removed zones of office {office_id} still handle {len(orphans)} services: move them first",
                orphans,
            )
        version = current.version + 1
    return OfficeConfigured(office_id=office_id, version=version, **spec.model_dump())


def retire_office(
    current: OfficeConfigured, *, expected_version: int, services_here: Sequence[ServicePublished]
) -> OfficeConfigured:
    if current.retired:
        raise AlreadyRetired(f"office {current.office_id} is already retired")
    _check_expected("office", current.office_id, current.version, expected_version)
    if services_here:
        raise StillInUse(
            f"office {current.office_id} still offers {len(services_here)} services: retire or move them",
            [service.service_id for service in services_here],
        )
    return current.model_copy(update={"version": current.version + 1, "retired": True})


# ---------------------------------------------------------------- services


def validate_offerings(spec: ServiceSpec, offices: Mapping[str, OfficeConfigured]) -> None:
    seen: set[str] = set()
    for index, offering in enumerate(spec.offerings):
        office = offices.get(offering.office_id)
        if office is None or office.retired:
            raise InvalidField(f"offerings.{index}.office_id", f"unknown office {offering.office_id}")
        if offering.office_id in seen:
            raise InvalidField(f"offerings.{index}.office_id", f"office {offering.office_id} is listed twice")
        seen.add(offering.office_id)
        if offering.zone_id not in {zone.zone_id for zone in office.zones}:
            raise InvalidField(
                f"offerings.{index}.zone_id", f"office {offering.office_id} has no zone {offering.zone_id}"
            )


def validate_checklist(spec: ServiceSpec) -> None:
    for index, (item_id, count) in enumerate(Counter(item.item_id for item in spec.checklist).items()):
        if count > 1:
            raise InvalidField(f"checklist.{index}.item_id", f"item {item_id} is listed {count} times")
    if spec.online.available and not spec.online.url:
        raise InvalidField("online.url", "an online alternative needs the link citizens follow")


def check_letter(service_id: str, spec: ServiceSpec, others: Sequence[ServicePublished]) -> None:
    """A ticket letter names one active service per office, or the board and the queue get mixed."""
    for offering in spec.offerings:
        for other in others:
            if other.service_id == service_id or other.letter != spec.letter:
                continue
            if any(o.office_id == offering.office_id for o in other.offerings):
                raise LetterTaken(spec.letter, offering.office_id, other.service_id)


def publish_service(
    service_id: str,
    spec: ServiceSpec,
    *,
    current: ServicePublished | None,
    retired: bool = False,
    expected_version: int | None,
    offices: Mapping[str, OfficeConfigured],
    active_services: Sequence[ServicePublished],
) -> ServicePublished:
    """The next published state of a service (version 1 when new)."""
    version = 1
    if current is not None:
        if retired:
            raise AlreadyRetired(f"service {service_id} is retired; publish it under a new id")
        _check_expected("service", service_id, current.version, expected_version or 0)
        version = current.version + 1
    validate_offerings(spec, offices)
    validate_checklist(spec)
    check_letter(service_id, spec, active_services)
    return ServicePublished(service_id=service_id, version=version, **spec.model_dump())


def retire_service(
    current: ServicePublished, *, retired: bool, expected_version: int, reason: str | None
) -> ServiceRetired:
    if retired:
        raise AlreadyRetired(f"service {current.service_id} is already retired")
    _check_expected("service", current.service_id, current.version, expected_version)
    return ServiceRetired(service_id=current.service_id, version=current.version + 1, reason=reason)
