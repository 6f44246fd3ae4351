"""Events published by the catalog service: offices and the services offered in them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.common import Identifier, LocalizedText, Sealed
from contracts.envelope import EventData

TimeOfDay = str  # "HH:MM", local time of the office


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class TimeRange(_Frozen):
    start: TimeOfDay = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", examples=["13:00"])
    end: TimeOfDay = Field(pattern=r"^([01]\d|2[0-4]):[0-5]\d$", examples=["14:00"])


class DayHours(_Frozen):
    weekday: int = Field(ge=0, le=6, description="0 = Monday")
    open: TimeOfDay = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    close: TimeOfDay = Field(pattern=r"^([01]\d|2[0-4]):[0-5]\d$")
    breaks: list[TimeRange] = Field(default_factory=list)


class DateException(_Frozen):
    """A holiday (closed) or a short day (other hours) on one date."""

    date: date
    closed: bool = False
    open: TimeOfDay | None = None
    close: TimeOfDay | None = None
    note: str | None = None


class Zone(_Frozen):
    zone_id: Identifier
    name: LocalizedText
    kind: Literal["acceptance", "issuance", "both", "reception"] = "both"
    windows: list[int] = Field(default_factory=list, description="Window numbers in this zone")


class SlaTargets(_Frozen):
    max_wait_minutes: int = Field(default=15, ge=1, le=240)
    appointment_max_wait_minutes: int = Field(default=5, ge=1, le=240)
    max_service_minutes: int = Field(default=10, ge=1, le=240)


class PriorityCategory(_Frozen):
    code: Identifier
    title: LocalizedText


class AppointmentCapacity(_Frozen):
    """Windows set aside for appointments; `service_id` None = any bookable service."""

    service_id: Identifier | None = None
    weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4, 5])
    start: TimeOfDay
    end: TimeOfDay
    windows: int = Field(ge=0, le=100)


class GeoPoint(_Frozen):
    """Where an office is (WGS 84), for telling a citizen how far another office is."""

    lat: float = Field(ge=-90, le=90, examples=[55.8251])
    lon: float = Field(ge=-180, le=180, examples=[49.1403])


class WindowSchedule(_Frozen):
    """When one window works: its own hours and breaks per weekday (a weekday not listed: the window
    is off that day). A window without a schedule works whenever the office is open. Holidays
    (`exceptions` closed) close every window."""

    window_no: int = Field(ge=1, le=999, examples=[3])
    days: list[DayHours] = Field(default_factory=list, max_length=7)


class OfficeConfigured(EventData):
    EVENT_TYPE = "catalog.OfficeConfigured"
    TOPIC = "catalog.office"

    office_id: Identifier
    version: int = Field(ge=1)
    name: LocalizedText
    address: LocalizedText
    timezone: str = "Europe/Moscow"
    hours: list[DayHours]
    exceptions: list[DateException] = Field(default_factory=list)
    zones: list[Zone]
    sla: SlaTargets = SlaTargets()
    priority_categories: list[PriorityCategory] = Field(default_factory=list)
    appointment_capacity: list[AppointmentCapacity] = Field(default_factory=list)
    default_language: Literal["ru", "tt", "en"] = "ru"
    # Additive (v1 stays compatible): kiosks and the web stop issuing tickets this many minutes
    # before the office closes for the day (0 = until closing).
    issue_cutoff_minutes: int = Field(
        default=0, ge=0, le=600, description="Tickets stop this many minutes before closing"
    )
    # Additive (v1 stays compatible): where the office is; nearby offices are suggested by distance.
    location: GeoPoint | None = None
    # Additive (v1 stays compatible): windows with hours and breaks of their own; ticketing refuses
    # to open or call at a window outside them (409).
    window_schedules: list[WindowSchedule] = Field(default_factory=list)
    # Additive (v1 stays compatible): a closed office keeps its last configuration, marked retired.
    retired: bool = Field(default=False, description="The office no longer serves visitors")


class ChecklistItem(_Frozen):
    item_id: Identifier
    title: LocalizedText
    original: bool = True
    copies: int = Field(default=0, ge=0, le=20)
    notes: LocalizedText | None = None
    exempt: LocalizedText | None = None


class OnlineAlternative(_Frozen):
    available: bool = False
    url: str | None = None


class Offering(_Frozen):
    """Where a service is offered: office and the zone that handles it there."""

    office_id: Identifier
    zone_id: Identifier


class ServicePublished(EventData):
    EVENT_TYPE = "catalog.ServicePublished"
    TOPIC = "catalog.service"

    service_id: Identifier
    version: int = Field(ge=1)
    code: str
    letter: str = Field(pattern=r"^[A-ZА-ЯЁ]{1,2}$")
    category: Literal["administrative", "municipal", "social"]
    title: LocalizedText
    description: LocalizedText | None = None
    expected_minutes: int = Field(ge=1, le=240)
    appointment_allowed: bool = False
    online: OnlineAlternative = OnlineAlternative()
    checklist: list[ChecklistItem] = Field(default_factory=list)
    offerings: list[Offering]


class ServiceRetired(EventData):
    EVENT_TYPE = "catalog.ServiceRetired"
    TOPIC = "catalog.service"

    service_id: Identifier
    version: int = Field(ge=1)
    reason: str | None = None


class AuditRecorded(EventData):
    """One administrative change, as the append-only audit log keeps it: who, when (the envelope's
    `occurred_at`), what, and the changed fields before and after. Never a password or its hash.

    Staff changes (`staff.created`, `staff.disabled`, `staff.enabled`, `staff.password_reset`) and
    office settings (`office.settings_changed`). The envelope's `office_id` is the office concerned
    (the city's id for city-wide changes); other systems (a city's SIEM, HR) consume the topic.
    """

    EVENT_TYPE = "catalog.AuditRecorded"
    TOPIC = "catalog.audit"

    audit_id: Identifier
    actor: str = Field(max_length=64, description="Username of the staff member who made the change")
    actor_role: str = Field(max_length=32, examples=["admin"])
    action: str = Field(max_length=64, examples=["staff.disabled"])
    target_kind: Literal["staff", "office", "service"]
    target_id: str = Field(max_length=64, examples=["operator-kzn-kirov-moskov-3"])
    before: dict[str, object] = Field(default_factory=dict)
    after: dict[str, object] = Field(default_factory=dict)


class OfficeAlertRecipientsSet(EventData):
    """Who receives an office's SLA and low-rating alerts by e-mail, set on the office's settings
    screen. Each address is sealed for the notifier alone (no address travels in clear). The
    aggregate is `<office_id>.alert-recipients`, so the compacted topic keeps the latest list beside
    the office's OfficeConfigured."""

    EVENT_TYPE = "catalog.OfficeAlertRecipientsSet"
    TOPIC = "catalog.office"

    office_id: Identifier
    recipients_sealed: list[Sealed] = Field(default_factory=list, max_length=20)


class StaffAccessRevoked(EventData):
    """Tokens a staff member holds stop working now, not at their expiry: the account was disabled,
    its password reset or its role changed. Every service refuses (401) a token of this staff member
    issued at or before `revoked_at` (the token's `iat_ms` claim, milliseconds); signing in again
    gives a new one, unless the account is disabled.

    The staff member travels only as `subject_ref`, an HMAC-SHA256 of the username under the JWT key
    every service already holds (`servicekit.auth.subject_ref`): no username on the topic. The
    topic is compacted and keyed by `subject_ref`, so it keeps each member's latest revocation.
    """

    EVENT_TYPE = "catalog.StaffAccessRevoked"
    TOPIC = "catalog.staff"

    subject_ref: str = Field(pattern=r"^[0-9a-f]{32}$", examples=["3f9a0c1e5b7d2a4c6e8f0a1b2c3d4e5f"])
    revoked_at: datetime = Field(description="Tokens issued at or before this instant are refused")
    reason: Literal["disabled", "password_reset", "role_changed"]
