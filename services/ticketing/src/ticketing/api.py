"""HTTP routes of ticketing: kiosk/web issuing, the citizen's ticket link, operator windows, queue status."""

from __future__ import annotations

import re
import time
from collections import deque
from datetime import datetime
from typing import Annotated, Literal

from contracts.appointments import AppointmentCheckedIn
from contracts.common import Identifier
from contracts.registry import MalformedEvent, UnknownEvent, decode
from contracts.ticketing import Outcome, QueueStatus
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pymongo.errors import PyMongoError
from servicekit.auth import Principal, require, require_office, staff_principal
from servicekit.idempotency import IdempotencyKeyHeader, Keys, request_digest
from servicekit.logging import mask_text
from servicekit.runtime import from_app_state

from ticketing.domain import (
    DomainError,
    InvalidTransition,
    NoTicketWaiting,
    NotYourWindow,
    OfficeClosed,
    RecallLimitReached,
    ServiceNotOffered,
    Ticket,
    TicketNotFound,
    TooManyTickets,
    UnknownOffice,
    UnknownPriorityCategory,
    UnknownTransferTarget,
    UnknownWindow,
    Window,
    WindowBusy,
    WindowNotOpen,
    WindowOffDuty,
    WindowTaken,
)
from ticketing.forwarding import CHECK_IN_PATH, Forwarder
from ticketing.usecases import IssuedTicket, IssueRequest, TicketDesk

ERRORS: dict[type[Exception], int] = {
    UnknownOffice: 404,
    ServiceNotOffered: 404,
    TicketNotFound: 404,
    OfficeClosed: 409,  # IssuingStopped too (the closing cut-off)
    InvalidTransition: 409,
    RecallLimitReached: 409,
    NoTicketWaiting: 409,
    WindowBusy: 409,
    WindowTaken: 409,
    WindowNotOpen: 409,
    WindowOffDuty: 409,
    NotYourWindow: 403,
    UnknownPriorityCategory: 422,
    UnknownTransferTarget: 422,
    UnknownWindow: 422,
    TooManyTickets: 429,
    DomainError: 400,
    # The store failed or timed out: nothing was decided, the client may retry.
    PyMongoError: 503,
}

router = APIRouter()
_bearer = HTTPBearer(auto_error=False)
PHONE_NOISE = re.compile(r"[\s()\-]")
PHONE = re.compile(r"^\+?[0-9]{10,15}$")


Desk = Annotated[TicketDesk, Depends(from_app_state("desk", TicketDesk))]
Forwarding = Annotated[Forwarder, Depends(from_app_state("forwarder", Forwarder))]
Operator = Annotated[Principal, require("operator")]
Staff = Annotated[Principal, require("operator", "supervisor")]
# Who meets citizens in the hall: the kiosk, the reception desk, the operators.
CounterStaff = Annotated[Principal, require("kiosk", "reception", "operator")]
Reception = Annotated[Principal, require("reception", "operator")]


class AnonymousRateLimit:
    """Tickets per client IP per minute for callers without a kiosk token (in memory, per process)."""

    def __init__(self) -> None:
        self._seen: dict[str, deque[float]] = {}

    def check(self, client: str, per_minute: int) -> None:
        now = time.monotonic()
        recent = self._seen.setdefault(client, deque())
        while recent and now - recent[0] > 60:
            recent.popleft()
        if len(recent) >= per_minute:
            raise TooManyTickets(
                f"at most {per_minute} tickets a minute from one device; ask at the reception"
            )
        recent.append(now)
        if len(self._seen) > 100_000:  # bounded memory under a flood of addresses
            self._seen.clear()


rate_limit = AnonymousRateLimit()


async def optional_staff(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal | None:
    if credentials is None:
        return None
    return await staff_principal(request, credentials.credentials)


# --------------------------------------------------------------------------- models


class IssueTicketBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "office_id": "kzn-kirov-moskov",
                    "service_id": "housing-certificate",
                    "language": "ru",
                    "priority_category": None,
                    "phone": "+7 917 123-45-67",
                    "channel": "kiosk",
                }
            ]
        }
    )

    office_id: Identifier
    service_id: Identifier | None = Field(default=None, description="One service; or service_ids for several")
    service_ids: list[Identifier] | None = Field(
        default=None, min_length=1, max_length=5, description="Services of one visit, in order"
    )
    priority_category: Identifier | None = Field(default=None, examples=["pregnant"])
    language: Literal["ru", "tt", "en"] = "ru"
    phone: str | None = Field(default=None, description="For the call SMS; sealed, never stored in clear")
    channel: Literal["kiosk", "web", "reception"] = "kiosk"

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        digits = PHONE_NOISE.sub("", value)
        if not PHONE.match(digits):
            raise ValueError("a phone number has 10 to 15 digits, optionally with a leading +")
        return digits

    @model_validator(mode="after")
    def _one_or_more_services(self) -> IssueTicketBody:
        if not self.service_ids and not self.service_id:
            raise ValueError("give service_id or service_ids")
        return self

    @property
    def services(self) -> list[str]:
        return list(self.service_ids or [self.service_id or ""])


class IssuedTicketView(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ticket_id": "t-4f1c...",
                    "number": "А017",
                    "service_ids": ["housing-certificate"],
                    "zone_id": "z1",
                    "position": 3,
                    "estimated_wait_minutes": 13,
                    "citizen_token": "Zb3...",
                    "link": "/t/Zb3...",
                    "issued_at": "2025-03-03T09:12:00Z",
                }
            ]
        }
    )

    ticket_id: str
    number: str
    service_ids: list[str]
    zone_id: str
    position: int
    estimated_wait_minutes: int
    citizen_token: str = Field(description="Shown once: the mobile ticket link carries it")
    link: str
    issued_at: datetime

    @classmethod
    def of(cls, issued: IssuedTicket, ticket_path: str) -> IssuedTicketView:
        ticket = issued.ticket
        return cls(
            ticket_id=ticket.ticket_id,
            number=ticket.number,
            service_ids=ticket.service_ids,
            zone_id=ticket.zone_id,
            position=issued.position,
            estimated_wait_minutes=issued.estimated_wait_minutes,
            citizen_token=issued.citizen_token,
            link=f"{ticket_path}{issued.citizen_token}",
            issued_at=ticket.issued_at,
        )


class TicketStatusView(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "office_id": "kzn-kirov-moskov",
                    "number": "А017",
                    "state": "called",
                    "service_id": "housing-certificate",
                    "service_ids": ["housing-certificate"],
                    "zone_id": "z1",
                    "position": None,
                    "estimated_wait_minutes": None,
                    "window_no": 4,
                    "calls": 1,
                }
            ]
        }
    )

    office_id: str | None = None
    number: str
    state: str
    service_id: str
    service_ids: list[str]
    zone_id: str
    position: int | None
    estimated_wait_minutes: int | None
    window_no: int | None
    calls: int


class TicketView(BaseModel):
    """A ticket as an operator sees it (no citizen data: contacts are sealed, never stored here)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ticket_id": "t-4f1c...",
                    "number": "А017",
                    "state": "serving",
                    "service_id": "housing-certificate",
                    "service_ids": ["housing-certificate"],
                    "zone_id": "z1",
                    "window_no": 4,
                    "calls": 1,
                    "priority_category": None,
                    "appointment_id": None,
                    "channel": "kiosk",
                    "language": "ru",
                    "issued_at": "2025-03-03T09:12:00Z",
                    "waited_seconds": 420,
                    "outcome": None,
                }
            ]
        }
    )

    ticket_id: str
    number: str
    state: str
    service_id: str
    service_ids: list[str]
    zone_id: str
    window_no: int | None
    calls: int
    priority_category: str | None
    appointment_id: str | None
    channel: str
    language: str
    issued_at: datetime
    waited_seconds: int | None
    outcome: str | None

    @classmethod
    def of(cls, ticket: Ticket) -> TicketView:
        waited = int((ticket.called_at - ticket.queued_at).total_seconds()) if ticket.called_at else None
        return cls(
            ticket_id=ticket.ticket_id,
            number=ticket.number,
            state=str(ticket.state),
            service_id=ticket.service_id,
            service_ids=ticket.service_ids,
            zone_id=ticket.zone_id,
            window_no=ticket.window_no,
            calls=ticket.calls,
            priority_category=ticket.priority_category,
            appointment_id=ticket.appointment_id,
            channel=ticket.channel,
            language=ticket.language,
            issued_at=ticket.issued_at,
            waited_seconds=waited,
            outcome=ticket.outcome,
        )


class OpenWindowBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"office_id": "kzn-kirov-moskov", "window_no": 4, "service_ids": ["housing-certificate"]}
            ]
        }
    )

    office_id: Identifier
    window_no: int = Field(ge=1, le=999)
    service_ids: list[Identifier] = Field(min_length=1, max_length=100)


class WindowView(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "office_id": "kzn-kirov-moskov",
                    "window_no": 4,
                    "zone_id": "z2",
                    "service_ids": ["housing-certificate"],
                    "state": "open",
                    "operator_ref": "3f9a0c1d2e4b5a6c",
                }
            ]
        }
    )

    office_id: str
    window_no: int
    zone_id: str
    service_ids: list[str]
    state: str
    operator_ref: str

    @classmethod
    def of(cls, window: Window) -> WindowView:
        return cls(
            office_id=window.office_id,
            window_no=window.window_no,
            zone_id=window.zone_id,
            service_ids=window.service_ids,
            state=window.state,
            operator_ref=window.operator_ref,
        )


class WindowConsoleView(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "window": WindowView.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
                    "ticket": None,
                    "today": {"called": 12, "served": 10, "no_show": 1, "transferred_or_next": 1},
                }
            ]
        }
    )

    window: WindowView
    ticket: TicketView | None
    today: dict[str, int]


class TicketRef(BaseModel):
    """Optional: the ticket the console shows; without it, the ticket now at the window."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"ticket_id": "t-4f1c..."}]})

    ticket_id: Identifier | None = None


class CompleteBody(TicketRef):
    model_config = ConfigDict(json_schema_extra={"examples": [{"outcome": "served"}]})

    outcome: Outcome


# An operator's free text travels in events (TicketTransferred, WindowPaused) to feedback's alert
# timelines and the supervisors' e-mails: a phone or e-mail typed into it is masked on the way in.
Reason = Annotated[
    str | None,
    Field(default=None, max_length=200, description="Free text; phone numbers and e-mails are masked"),
    AfterValidator(lambda text: mask_text(text) if text else text),
]


class TransferBody(TicketRef):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"to_service_id": "social-benefit", "to_zone_id": None, "reason": "needs a social worker"}
            ]
        }
    )

    to_service_id: Identifier
    to_zone_id: Identifier | None = None
    reason: Reason = None


class PauseBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "break"}]})

    reason: Reason = None


# --------------------------------------------------------------------------- citizens and kiosks


@router.post("/tickets", summary="Take a ticket (kiosk, web or reception)", status_code=201, tags=["tickets"])
async def issue_ticket(
    body: IssueTicketBody,
    request: Request,
    desk: Desk,
    forwarder: Forwarding,
    staff: Annotated[Principal | None, Depends(optional_staff)],
    keys: Keys,
    idempotency_key: IdempotencyKeyHeader = None,
) -> IssuedTicketView:
    channel = body.channel
    if staff is None:
        if body.priority_category:
            # A legal priority is confirmed by staff (kiosk or reception), never claimed from the web.
            raise HTTPException(
                403, "a priority category is confirmed by staff: take the ticket at a kiosk or the reception"
            )
        if not forwarder.is_forwarded(request):  # a forwarded request was counted where it arrived
            client = request.client.host if request.client else "unknown"
            rate_limit.check(client, desk.settings.anonymous_tickets_per_minute)
        channel = "web"  # without a kiosk token the caller is a citizen on the web
    else:
        require_office(staff, body.office_id)
    ticket_id = citizen_token = None
    if idempotency_key is not None:
        caller = staff.subject if staff else "anonymous"
        claim = await keys.claim(
            "tickets", idempotency_key, request_digest("POST /tickets", caller, body.model_dump_json())
        )
        ticket_id, citizen_token = "t-" + claim.resource_id, keys.citizen_token(claim.resource_id)
    issued = await desk.issue(
        IssueRequest(
            office_id=body.office_id,
            service_ids=body.services,
            channel=channel,
            priority_category=body.priority_category,
            language=body.language,
            phone=body.phone,
            ticket_id=ticket_id,
            citizen_token=citizen_token,
        )
    )
    return IssuedTicketView.of(issued, desk.settings.public_ticket_path)


class ReceptionOutcomeBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "office_id": "kzn-kirov-moskov",
                    "service_id": "housing-certificate",
                    "outcome": "sent_online",
                    "language": "ru",
                }
            ]
        }
    )

    office_id: Identifier
    service_id: Identifier
    outcome: Literal["sent_online", "documents_missing", "refused"] = "sent_online"
    language: Literal["ru", "tt", "en"] = "ru"


class ReceptionOutcomeView(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"ticket_id": "t-4f1c...", "number": "А018", "outcome": "sent_online"}]
        }
    )

    ticket_id: str
    number: str
    outcome: str


@router.post(
    "/reception/outcomes",
    summary="The reception settled a visit itself (e.g. sent the citizen online): recorded as an outcome",
    status_code=201,
    tags=["tickets"],
)
async def reception_outcome(body: ReceptionOutcomeBody, desk: Desk, staff: Reception) -> ReceptionOutcomeView:
    require_office(staff, body.office_id)
    ticket = await desk.resolve_at_reception(
        body.office_id, body.service_id, body.outcome, body.language, staff
    )
    return ReceptionOutcomeView(
        ticket_id=ticket.ticket_id, number=ticket.number, outcome=ticket.outcome or ""
    )


@router.get(
    "/offices/{office_id}/appointment-tickets/{appointment_id}",
    summary="The ticket a check-in by code issued, to show and print at the kiosk",
    description="404 until the check-in has reached the queue (a moment after `POST /checkin`); poll.",
    tags=["tickets"],
)
async def appointment_ticket(
    office_id: Identifier, appointment_id: Identifier, desk: Desk, staff: CounterStaff
) -> IssuedTicketView:
    require_office(staff, office_id)
    issued = await desk.appointment_ticket(office_id, appointment_id)
    return IssuedTicketView.of(issued, desk.settings.public_ticket_path)


@router.get(
    "/tickets/by-token/{token}",
    summary="The citizen's ticket: state, position, estimate, window",
    tags=["tickets"],
)
async def ticket_status(token: str, desk: Desk) -> TicketStatusView:
    return TicketStatusView.model_validate(await desk.public_status(token))


@router.post("/tickets/by-token/{token}/cancel", summary="The citizen gives up the ticket", tags=["tickets"])
async def cancel_ticket(token: str, desk: Desk) -> TicketStatusView:
    await desk.cancel_by_token(token)
    return TicketStatusView.model_validate(await desk.public_status(token))


@router.get(
    "/offices/{office_id}/queue",
    summary="Live queue of an office (public, for boards and the web)",
    tags=["queue"],
)
async def office_queue(office_id: str, desk: Desk) -> QueueStatus:
    return await desk.queue_status_of(office_id)


# --------------------------------------------------------------------------- operators


@router.post("/windows/open", summary="Open a window for a set of services", tags=["windows"])
async def open_window(body: OpenWindowBody, principal: Operator, desk: Desk) -> WindowView:
    require_office(principal, body.office_id)
    return WindowView.of(await desk.open_window(principal, body.office_id, body.window_no, body.service_ids))


@router.get(
    "/offices/{office_id}/windows", summary="Windows of an office (supervisor, operator)", tags=["windows"]
)
async def office_windows(office_id: str, principal: Staff, desk: Desk) -> list[WindowView]:
    require_office(principal, office_id)
    return [WindowView.of(window) for window in await desk.windows_of(office_id)]


@router.get(
    "/windows/{office_id}/{window_no}",
    summary="The window's current ticket and today's counts",
    tags=["windows"],
)
async def window_console(office_id: str, window_no: int, principal: Staff, desk: Desk) -> WindowConsoleView:
    require_office(principal, office_id)
    view = await desk.window_view(principal, office_id, window_no)
    ticket = view["ticket"]
    return WindowConsoleView(
        window=WindowView.of(view["window"]),
        ticket=TicketView.of(ticket) if ticket else None,
        today=view["today"],
    )


@router.post("/windows/{office_id}/{window_no}/pause", summary="Pause the window (a break)", tags=["windows"])
async def pause_window(
    office_id: str, window_no: int, principal: Operator, desk: Desk, body: PauseBody | None = None
) -> WindowView:
    require_office(principal, office_id)
    reason = body.reason if body else None
    return WindowView.of(await desk.set_window_state(principal, office_id, window_no, "paused", reason))


@router.post("/windows/{office_id}/{window_no}/resume", summary="Resume a paused window", tags=["windows"])
async def resume_window(office_id: str, window_no: int, principal: Operator, desk: Desk) -> WindowView:
    require_office(principal, office_id)
    return WindowView.of(await desk.set_window_state(principal, office_id, window_no, "open"))


@router.post("/windows/{office_id}/{window_no}/close", summary="Close the window", tags=["windows"])
async def close_window(office_id: str, window_no: int, principal: Operator, desk: Desk) -> WindowView:
    require_office(principal, office_id)
    return WindowView.of(await desk.set_window_state(principal, office_id, window_no, "closed"))


@router.post(
    "/windows/{office_id}/{window_no}/call-next",
    summary="Call the next ticket to this window",
    tags=["calling"],
)
async def call_next(office_id: str, window_no: int, principal: Operator, desk: Desk) -> TicketView:
    require_office(principal, office_id)
    return TicketView.of(await desk.call_next(principal, office_id, window_no))


@router.post(
    "/windows/{office_id}/{window_no}/recall",
    summary="Call the same ticket again (limited)",
    tags=["calling"],
)
async def recall(
    office_id: str, window_no: int, principal: Operator, desk: Desk, body: TicketRef | None = None
) -> TicketView:
    require_office(principal, office_id)
    return TicketView.of(await desk.recall(principal, office_id, window_no, body.ticket_id if body else None))


@router.post(
    "/windows/{office_id}/{window_no}/no-show", summary="The called citizen did not come", tags=["calling"]
)
async def no_show(
    office_id: str, window_no: int, principal: Operator, desk: Desk, body: TicketRef | None = None
) -> TicketView:
    require_office(principal, office_id)
    return TicketView.of(
        await desk.no_show(principal, office_id, window_no, body.ticket_id if body else None)
    )


@router.post(
    "/windows/{office_id}/{window_no}/start",
    summary="The citizen arrived: start the service",
    tags=["calling"],
)
async def start(
    office_id: str, window_no: int, principal: Operator, desk: Desk, body: TicketRef | None = None
) -> TicketView:
    require_office(principal, office_id)
    return TicketView.of(await desk.start(principal, office_id, window_no, body.ticket_id if body else None))


@router.post(
    "/windows/{office_id}/{window_no}/complete",
    summary="Finish the service with an outcome (a multi-service visit re-queues)",
    tags=["calling"],
)
async def complete(
    office_id: str, window_no: int, body: CompleteBody, principal: Operator, desk: Desk
) -> TicketView:
    require_office(principal, office_id)
    return TicketView.of(await desk.complete(principal, office_id, window_no, body.ticket_id, body.outcome))


@router.post(
    "/windows/{office_id}/{window_no}/transfer",
    summary="Send the ticket to another service or zone",
    tags=["calling"],
)
async def transfer(
    office_id: str, window_no: int, body: TransferBody, principal: Operator, desk: Desk
) -> TicketView:
    require_office(principal, office_id)
    ticket = await desk.transfer(
        principal, office_id, window_no, body.ticket_id, body.to_service_id, body.to_zone_id, body.reason
    )
    return TicketView.of(ticket)


# --------------------------------------------------------------------------- replicas


@router.post(CHECK_IN_PATH, include_in_schema=False)
async def check_in_on_owner(request: Request, desk: Desk, forwarder: Forwarding) -> dict[str, str | None]:
    """An appointment check-in handed over by the replica that consumed it (signed, not public)."""
    if not forwarder.is_forwarded(request):
        raise HTTPException(403, "internal endpoint of the ticketing replicas")
    try:
        envelope, data = decode(await request.body())
    except (MalformedEvent, UnknownEvent) as error:
        raise InvalidTransition(f"not a check-in event: {error}") from None
    if not isinstance(data, AppointmentCheckedIn):
        raise InvalidTransition(f"{envelope.event_type} is not a check-in")
    ticket = await desk.issue_for_appointment(envelope, data)
    return {"ticket_id": ticket.ticket_id if ticket else None}
