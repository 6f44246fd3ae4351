"""Events published by the appointments service: bookings and check-ins."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import AwareDatetime, Field

from contracts.common import Identifier, Language, Sealed
from contracts.envelope import EventData


class _AppointmentEvent(EventData):
    TOPIC = "appointments.appointment"

    appointment_id: Identifier
    service_id: Identifier
    slot_start: AwareDatetime


class AppointmentBooked(_AppointmentEvent):
    EVENT_TYPE = "appointments.AppointmentBooked"

    slot_end: AwareDatetime
    local_day: date
    language: Language = "ru"
    contact_sealed: Sealed | None = None
    citizen_token_sealed: Sealed | None = None


class AppointmentCancelled(_AppointmentEvent):
    EVENT_TYPE = "appointments.AppointmentCancelled"

    by: Literal["citizen", "office", "capacity"]


class AppointmentRescheduled(_AppointmentEvent):
    EVENT_TYPE = "appointments.AppointmentRescheduled"

    previous_start: AwareDatetime
    slot_end: AwareDatetime


class AppointmentCheckedIn(_AppointmentEvent):
    EVENT_TYPE = "appointments.AppointmentCheckedIn"

    checked_in_at: AwareDatetime
    language: Language = "ru"
    contact_sealed: Sealed | None = None
    citizen_token_sealed: Sealed | None = Field(
        default=None, description="The booking's token, so the mobile ticket link works for the visit"
    )


class AppointmentMissed(_AppointmentEvent):
    EVENT_TYPE = "appointments.AppointmentMissed"


class AppointmentFulfilled(_AppointmentEvent):
    EVENT_TYPE = "appointments.AppointmentFulfilled"

    ticket_id: Identifier
    outcome: str
