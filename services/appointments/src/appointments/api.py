"""HTTP routes of the appointments service: citizens book and manage, kiosks check in, supervisors watch."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from contracts.calendar import local_day
from contracts.common import Identifier, Language
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from servicekit.auth import Principal, require, require_office, verify_token
from servicekit.clients import client_address
from servicekit.idempotency import IdempotencyKeyHeader, Keys, request_digest
from servicekit.runtime import from_app_state

from appointments.domain import (
    BookingLimitReached,
    BookingNotChangeable,
    InvalidPeriod,
    ServiceNotBookable,
    SlotFull,
    SlotNotOffered,
    TooEarly,
    TooLate,
    TooManyAttempts,
    TooManyChanges,
    TooManyMessages,
    UnknownBooking,
    UnknownCode,
    UnknownOffice,
    normalize_code,
)
from appointments.guard import FailureLimiter
from appointments.usecases import Appointments, BookingRequest

ERRORS: dict[type[Exception], int] = {
    UnknownOffice: 404,
    UnknownBooking: 404,
    UnknownCode: 404,
    ServiceNotBookable: 422,
    SlotNotOffered: 422,
    InvalidPeriod: 422,
    SlotFull: 409,
    BookingLimitReached: 409,
    BookingNotChangeable: 409,
    TooEarly: 409,
    TooLate: 409,
    TooManyAttempts: 429,
    TooManyChanges: 429,
    TooManyMessages: 429,
}
MAX_REPORT_DAYS = 366

router = APIRouter()


Service = Annotated[Appointments, Depends(from_app_state("appointments", Appointments))]
Supervisor = Annotated[Principal, require("supervisor")]

_START = "2026-03-02T10:00:00+03:00"


# --- models -------------------------------------------------------------------------------------


class FreeSlot(BaseModel):
    slot_start: AwareDatetime = Field(examples=[_START])
    slot_end: AwareDatetime = Field(examples=["2026-03-02T10:15:00+03:00"])
    seats_left: int = Field(examples=[2])


class SlotList(BaseModel):
    office_id: str = Field(examples=["kzn-kirov-moskov"])
    service_id: str = Field(examples=["housing-certificate"])
    slots: list[FreeSlot]


class BookIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "office_id": "kzn-kirov-moskov",
                    "service_id": "housing-certificate",
                    "slot_start": _START,
                    "name": "Иванова Анна",
                    "phone": "+7 900 123-45-67",
                    "language": "ru",
                }
            ]
        }
    )

    office_id: Identifier
    service_id: Identifier
    slot_start: AwareDatetime = Field(description="Start of a slot from the slots list")
    name: str = Field(
        min_length=1, max_length=200, description="Sealed for the notifier, never stored in clear"
    )
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 ()-]{7,20}$")
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    language: Language = "ru"


class BookingOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,  # read from a domain.Booking
        json_schema_extra={
            "examples": [
                {
                    "appointment_id": "apt-3f2a9c",
                    "office_id": "kzn-kirov-moskov",
                    "service_id": "housing-certificate",
                    "slot_start": _START,
                    "slot_end": "2026-03-02T10:15:00+03:00",
                    "state": "booked",
                    "code": "K7MX3A",
                    "at_risk": False,
                }
            ]
        },
    )

    appointment_id: str
    office_id: str
    service_id: str
    slot_start: AwareDatetime
    slot_end: AwareDatetime
    state: str
    code: str = Field(description="Typed at the kiosk on arrival")
    at_risk: bool = Field(description="The office changed its hours or windows; it may contact you")


class BookedOut(BookingOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "appointment_id": "apt-3f2a9c",
                    "office_id": "kzn-kirov-moskov",
                    "service_id": "housing-certificate",
                    "slot_start": _START,
                    "slot_end": "2026-03-02T10:15:00+03:00",
                    "state": "booked",
                    "code": "K7MX3A",
                    "at_risk": False,
                    "token": "q3V...",
                    "manage_path": "/appointments/manage/q3V...",
                }
            ]
        }
    )

    token: str = Field(description="Keep it: the only way to manage the booking (shown once)")
    manage_path: str


class RescheduleIn(BaseModel):
    slot_start: AwareDatetime = Field(examples=["2026-03-03T11:00:00+03:00"])


class CheckInIn(BaseModel):
    office_id: Identifier = Field(examples=["kzn-kirov-moskov"])
    code: str = Field(min_length=1, max_length=16, examples=["K7MX3A"])


class CheckedInOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "appointment_id": "apt-3f2a9c",
                    "service_id": "housing-certificate",
                    "slot_start": _START,
                    "checked_in_at": "2026-03-02T09:52:10+03:00",
                    "already_checked_in": False,
                }
            ]
        }
    )

    appointment_id: str
    service_id: str
    slot_start: AwareDatetime
    checked_in_at: AwareDatetime
    already_checked_in: bool = Field(description="True when this code was checked in before (kiosk retry)")


class DayBooking(BaseModel):
    # What a supervisor sees of a booking: no name, no contact, no token.
    model_config = ConfigDict(from_attributes=True)  # read from a domain.Booking

    appointment_id: str
    code: str
    service_id: str
    slot_start: AwareDatetime
    slot_end: AwareDatetime
    state: str
    at_risk: bool
    at_risk_reason: str | None
    checked_in_at: AwareDatetime | None


class DayBookings(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "office_id": "kzn-kirov-moskov",
                    "day": "2026-03-02",
                    "bookings": [
                        {
                            "appointment_id": "apt-3f2a9c",
                            "code": "K7MX3A",
                            "service_id": "housing-certificate",
                            "slot_start": _START,
                            "slot_end": "2026-03-02T10:15:00+03:00",
                            "state": "checked_in",
                            "at_risk": False,
                            "at_risk_reason": None,
                            "checked_in_at": "2026-03-02T09:52:10+03:00",
                        }
                    ],
                }
            ]
        }
    )

    office_id: str
    day: date
    bookings: list[DayBooking]


class NoShowRateOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "office_id": "kzn-kirov-moskov",
                    "from": "2026-03-01",
                    "to": "2026-03-31",
                    "attended": 412,
                    "missed": 37,
                    "cancelled": 58,
                    "no_show_rate": 0.0824,
                }
            ]
        }
    )

    office_id: str
    from_: date = Field(alias="from")
    to: date
    attended: int
    missed: int
    cancelled: int
    no_show_rate: float | None = Field(description="missed / (attended + missed); null when none were due")


# --- citizens ------------------------------------------------------------------------------------


@router.get(
    "/offices/{office_id}/services/{service_id}/slots",
    summary="Free appointment slots",
    response_model=SlotList,
    tags=["citizen"],
)
async def free_slots(
    office_id: str,
    service_id: str,
    appointments: Service,
    first_day: Annotated[date | None, Query(alias="from", description="Local day, default today")] = None,
    days: Annotated[int, Query(ge=1, le=31)] = 7,
) -> SlotList:
    slots = await appointments.free_slots(office_id, service_id, first_day, days)
    return SlotList(office_id=office_id, service_id=service_id, slots=[FreeSlot(**slot) for slot in slots])


@router.post(
    "/appointments",
    summary="Book an appointment",
    status_code=201,
    response_model=BookedOut,
    tags=["citizen"],
)
async def book(
    body: BookIn, appointments: Service, keys: Keys, idempotency_key: IdempotencyKeyHeader = None
) -> BookedOut:
    request = BookingRequest(
        office_id=body.office_id,
        service_id=body.service_id,
        slot_start=body.slot_start,
        name=body.name,
        phone=body.phone,
        email=body.email,
        language=body.language,
    )
    if idempotency_key is None:
        receipt = await appointments.book(request)
    else:
        claim = await keys.claim(
            "appointments", idempotency_key, request_digest("POST /appointments", body.model_dump_json())
        )
        async with keys.one_at_a_time(claim):
            receipt = await appointments.book(
                replace(
                    request,
                    appointment_id="apt-" + claim.resource_id,
                    token=keys.citizen_token(claim.resource_id),
                )
            )
    token = receipt.token or ""
    return BookedOut(
        **BookingOut.model_validate(receipt.booking).model_dump(),
        token=token,
        manage_path=f"/appointments/manage/{token}",
    )


@router.get(
    "/appointments/by-token/{token}",
    summary="A booking, by its manage link",
    response_model=BookingOut,
    tags=["citizen"],
)
async def by_token(token: str, appointments: Service) -> BookingOut:
    return BookingOut.model_validate(await appointments.by_token(token))


@router.post(
    "/appointments/by-token/{token}/cancel",
    summary="Cancel a booking",
    response_model=BookingOut,
    tags=["citizen"],
)
async def cancel(token: str, appointments: Service) -> BookingOut:
    return BookingOut.model_validate(await appointments.cancel(token))


@router.post(
    "/appointments/by-token/{token}/reschedule",
    summary="Move a booking to another slot",
    response_model=BookingOut,
    tags=["citizen"],
)
async def reschedule(token: str, body: RescheduleIn, appointments: Service) -> BookingOut:
    return BookingOut.model_validate(await appointments.reschedule(token, body.slot_start))


# --- kiosk ---------------------------------------------------------------------------------------


@router.post(
    "/checkin",
    summary="Check in on arrival with the booking code",
    response_model=CheckedInOut,
    tags=["kiosk"],
)
async def check_in(body: CheckInIn, request: Request, appointments: Service) -> CheckedInOut:
    keys = _checkin_failure_keys(body, request, appointments)
    for limiter, key in keys:
        limiter.check(key)
    try:
        booking, changed = await appointments.check_in(body.office_id, body.code)
    except UnknownCode:
        for limiter, key in keys:
            limiter.failed(key)
        raise
    return CheckedInOut(
        appointment_id=booking.appointment_id,
        service_id=booking.service_id,
        slot_start=booking.slot_start,
        checked_in_at=booking.checked_in_at,
        already_checked_in=not changed,
    )


def _checkin_failure_keys(
    body: CheckInIn, request: Request, appointments: Appointments
) -> list[tuple[FailureLimiter, str]]:
    """Where failed check-ins are counted: per typed code always; per client address unless the
    caller is a signed-in kiosk of the office. Never per office: behind one kiosk (or one NAT) a few
    citizens' typos would otherwise block check-in for the whole hall."""
    codes: FailureLimiter = request.app.state.checkin_code_limiter
    keys = [(codes, f"{body.office_id}|{normalize_code(body.code)}")]
    if not _is_office_kiosk(request, appointments, body.office_id):
        clients: FailureLimiter = request.app.state.checkin_limiter
        keys.append((clients, client_address(request, appointments.settings.trusted_proxies)))
    return keys


def _is_office_kiosk(request: Request, appointments: Appointments, office_id: str) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    try:
        principal = verify_token(appointments.settings.jwt_secret.get_secret_value(), token)
    except HTTPException:
        return False
    return principal.role in ("kiosk", "reception", "admin") and principal.may_act_in(office_id)


# --- supervisors ---------------------------------------------------------------------------------


@router.get(
    "/offices/{office_id}/appointments",
    summary="The day's bookings of an office (supervisor)",
    response_model=DayBookings,
    tags=["supervisor"],
)
async def day_bookings(
    office_id: str,
    principal: Supervisor,
    appointments: Service,
    day: Annotated[date | None, Query(description="Local day, default today")] = None,
) -> DayBookings:
    require_office(principal, office_id)
    if day is None:
        office = await appointments.view.office(office_id)
        now: datetime = appointments.clock.now()
        day = local_day(office, now) if office else now.date()
    bookings = await appointments.day_list(office_id, day)
    return DayBookings(
        office_id=office_id, day=day, bookings=[DayBooking.model_validate(b) for b in bookings]
    )


@router.get(
    "/offices/{office_id}/no-show-rate",
    summary="Share of due bookings nobody came to (supervisor)",
    response_model=NoShowRateOut,
    response_model_by_alias=True,
    tags=["supervisor"],
)
async def no_show_rate(
    office_id: str,
    principal: Supervisor,
    appointments: Service,
    first: Annotated[date, Query(alias="from")],
    last: Annotated[date, Query(alias="to")],
) -> dict[str, Any]:
    require_office(principal, office_id)
    if last < first or last - first > timedelta(days=MAX_REPORT_DAYS):
        raise InvalidPeriod(f"'to' must be on or after 'from' and at most {MAX_REPORT_DAYS} days later")
    rate = await appointments.no_shows(office_id, first, last)
    return {
        "office_id": office_id,
        "from": first,
        "to": last,
        "attended": rate.attended,
        "missed": rate.missed,
        "cancelled": rate.cancelled,
        "no_show_rate": rate.rate,
    }
