"""Events published by the ticketing service: tickets, windows and the queue."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.common import Identifier, Language, Sealed
from contracts.envelope import EventData


def appointment_ticket_id(appointment_id: str) -> str:
    """The ticket id ticketing derives from an appointment, so a redelivered check-in finds the
    ticket it already issued (and reconciliation finds the ticket of a booking)."""
    return "a-" + hashlib.sha256(appointment_id.encode()).hexdigest()[:32]


Outcome = Literal["served", "documents_missing", "sent_online", "refused"]
Channel = Literal["kiosk", "web", "appointment", "reception"]


class _TicketEvent(EventData):
    TOPIC = "ticketing.ticket"

    ticket_id: Identifier
    number: str = Field(examples=["A017"])
    service_id: Identifier


class TicketIssued(_TicketEvent):
    EVENT_TYPE = "ticketing.TicketIssued"

    service_ids: list[Identifier] = Field(description="All services of the visit, in order")
    zone_id: Identifier
    channel: Channel
    priority_category: Identifier | None = None
    appointment_id: Identifier | None = None
    local_day: date
    issued_at: AwareDatetime
    position: int = Field(ge=1)
    estimated_wait_minutes: int = Field(ge=0)
    language: Language = "ru"
    contact_sealed: Sealed | None = None
    citizen_token_sealed: Sealed | None = None
    # Additive: SHA-256 of the citizen's ticket token (never the token), so the rating link printed
    # on the ticket (which carries the token) finds the visit in feedback.
    citizen_token_digest: str | None = Field(default=None, pattern="^[0-9a-f]{64}$")


class TicketCalled(_TicketEvent):
    EVENT_TYPE = "ticketing.TicketCalled"

    window_no: int
    zone_id: Identifier
    call_no: int = Field(ge=1, description="1 = first call; more = recall")
    operator_ref: str
    waited_seconds: int = Field(ge=0)
    priority_category: Identifier | None = None
    appointment_id: Identifier | None = None
    # Additive: the citizen's language, so the hall announces the call in it after the office's.
    language: Language = "ru"


class TicketNoShow(_TicketEvent):
    EVENT_TYPE = "ticketing.TicketNoShow"

    window_no: int
    calls: int
    appointment_id: Identifier | None = None


class ServiceStarted(_TicketEvent):
    EVENT_TYPE = "ticketing.ServiceStarted"

    window_no: int
    operator_ref: str


class ServiceCompleted(_TicketEvent):
    EVENT_TYPE = "ticketing.ServiceCompleted"

    window_no: int
    zone_id: Identifier
    operator_ref: str
    outcome: Outcome
    waited_seconds: int = Field(ge=0)
    service_seconds: int = Field(ge=0)
    channel: Channel
    appointment_id: Identifier | None = None
    next_service_id: Identifier | None = Field(default=None, description="Multi-service visit goes on")
    language: Language = "ru"


class TicketTransferred(_TicketEvent):
    EVENT_TYPE = "ticketing.TicketTransferred"

    to_service_id: Identifier
    to_zone_id: Identifier
    window_no: int | None = None
    reason: str | None = None


class TicketCancelled(_TicketEvent):
    EVENT_TYPE = "ticketing.TicketCancelled"

    reason: Literal["citizen", "office_closed", "operator"]
    appointment_id: Identifier | None = None


class SlaBreachPredicted(_TicketEvent):
    EVENT_TYPE = "ticketing.SlaBreachPredicted"

    waited_seconds: int
    predicted_wait_seconds: int
    sla_seconds: int


class SlaBreached(_TicketEvent):
    EVENT_TYPE = "ticketing.SlaBreached"

    waited_seconds: int
    sla_seconds: int


class _WindowEvent(EventData):
    TOPIC = "ticketing.window"

    window_no: int
    zone_id: Identifier
    operator_ref: str


class WindowOpened(_WindowEvent):
    EVENT_TYPE = "ticketing.WindowOpened"

    service_ids: list[Identifier]


class WindowPaused(_WindowEvent):
    EVENT_TYPE = "ticketing.WindowPaused"

    reason: str | None = None


class WindowResumed(_WindowEvent):
    EVENT_TYPE = "ticketing.WindowResumed"


class WindowClosed(_WindowEvent):
    EVENT_TYPE = "ticketing.WindowClosed"


class ServiceQueue(BaseModel):
    model_config = ConfigDict(frozen=True)

    service_id: Identifier
    waiting: int = Field(ge=0)
    estimated_wait_minutes: int = Field(ge=0)
    longest_wait_seconds: int = Field(ge=0)
    open_windows: int = Field(ge=0)


class QueueStatus(EventData):
    EVENT_TYPE = "ticketing.QueueStatus"
    TOPIC = "ticketing.queue"

    as_of: datetime
    waiting: int = Field(ge=0)
    open_windows: int = Field(ge=0)
    longest_wait_seconds: int = Field(ge=0)
    services: list[ServiceQueue]
