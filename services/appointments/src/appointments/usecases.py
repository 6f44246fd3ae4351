"""What the service does: book, cancel, reschedule, check in, fulfil, sweep - domain rules plus claims.

Shared by the HTTP routes and the event handlers. Every booking change goes through the aggregate
store (revision claims + outbox); seats, codes and per-citizen limits are unique-insert claims
taken before the booking is written and given back if it is not.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from contracts import Envelope, EventData
from contracts.appointments import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentCheckedIn,
    AppointmentFulfilled,
    AppointmentMissed,
    AppointmentRescheduled,
)
from contracts.calendar import local_day, zone_named
from contracts.catalog import OfficeConfigured, ServicePublished
from servicekit.catalog_view import CatalogView
from servicekit.clock import Clock
from servicekit.events import Emitter
from servicekit.privacy import contact_identity as identity_of
from servicekit.sealing import Sealer, new_citizen_token, pseudonym, token_digest
from servicekit.store import AlreadyExists

from appointments.domain import (
    AppointmentError,
    Booking,
    BookingLimitReached,
    NoShowRate,
    Slot,
    SlotFull,
    SlotNotOffered,
    State,
    TooLate,
    TooManyMessages,
    UnknownBooking,
    UnknownCode,
    booking_days,
    check_in_window,
    count_move,
    ensure_bookable,
    ensure_changeable,
    find_slot,
    free_seat,
    grace_over,
    no_show_rate,
    normalize_code,
    seats_left,
    slots_on,
    still_offered,
)
from appointments.metrics import AppointmentMetrics
from appointments.settings import Settings
from appointments.store import AppointmentStore, Decision

log = structlog.get_logger("appointments")
PRODUCER = "appointments"
RETENTION_LOOKBACK_DAYS = 30
# A decision on the current booking: (the booking after it, its events' data), or None to leave it.
Change = tuple[Booking, list[EventData]] | None


@dataclass(frozen=True)
class BookingRequest:
    office_id: str
    service_id: str
    slot_start: datetime
    name: str
    phone: str | None
    email: str | None
    language: str
    # Fixed by an Idempotency-Key claim: a retry finds the booking its first attempt made.
    appointment_id: str | None = None
    token: str | None = None


@dataclass(frozen=True)
class Receipt:
    booking: Booking
    token: str | None = None


def contact_identity(phone: str | None, email: str | None) -> str | None:
    """One spelling per contact, so '+7 (900) 123-45-67' and '89001234567' are the same citizen."""
    contact = phone or email
    return identity_of(contact) if contact else None


class Appointments:
    def __init__(
        self,
        store: AppointmentStore,
        view: CatalogView,
        settings: Settings,
        clock: Clock,
        metrics: AppointmentMetrics,
    ) -> None:
        self.store = store
        self.view = view
        self.settings = settings
        self.clock = clock
        self.emitter = Emitter(PRODUCER, clock)
        self.metrics = metrics
        self._sealer: Sealer | None = None

    @property
    def sealer(self) -> Sealer:
        if self._sealer is None:
            self._sealer = Sealer(self.settings.notifier_public_key)
        return self._sealer

    # --- catalog -------------------------------------------------------------------------------

    async def office_label(self, office_id: str) -> str:
        """`office_id` as a metrics label if the catalog knows it: callers choose what they send, and
        every distinct label value is a new time series."""
        return office_id if await self.view.office(office_id) is not None else "unknown"

    async def _bookable(self, office_id: str, service_id: str) -> tuple[OfficeConfigured, ServicePublished]:
        office = await self.view.office(office_id)
        service = await self.view.service(service_id)
        ensure_bookable(office, service, office_id)
        assert office is not None and service is not None
        return office, service

    def _slots(self, office: OfficeConfigured, service: ServicePublished, day: date) -> list[Slot]:
        return slots_on(office, service, day, shared_grid_minutes=self.settings.shared_grid_minutes)

    def _find(self, office: OfficeConfigured, service: ServicePublished, at: datetime) -> Slot:
        return find_slot(
            office,
            service,
            at,
            self.clock.now(),
            horizon_days=self.settings.horizon_days,
            shared_grid_minutes=self.settings.shared_grid_minutes,
        )

    # --- slots ---------------------------------------------------------------------------------

    async def free_slots(
        self, office_id: str, service_id: str, first_day: date | None, days: int
    ) -> list[dict[str, Any]]:
        """Slots with at least one free seat, from `first_day` (default today) for `days` days."""
        office, service = await self._bookable(office_id, service_id)
        now = self.clock.now()
        allowed = booking_days(office, now, self.settings.horizon_days)
        start = first_day or allowed[0]
        wanted = [day for day in allowed if start <= day < start + timedelta(days=days)]
        found: list[dict[str, Any]] = []
        for day in wanted:
            found += await self._free_on(office, service, day, after=now)
        return found

    async def _free_on(
        self, office: OfficeConfigured, service: ServicePublished, day: date, *, after: datetime
    ) -> list[dict[str, Any]]:
        taken: dict[str, set[tuple[datetime, int]]] = {}
        free: list[dict[str, Any]] = []
        for slot in self._slots(office, service, day):
            if slot.start <= after:
                continue
            if slot.pool not in taken:
                taken[slot.pool] = await self.store.taken_cells(office.office_id, slot.pool, day)
            left = seats_left(slot, taken[slot.pool])
            if left:
                free.append({**slot.describe(), "seats_left": left})
        return free

    async def alternatives(
        self, office: OfficeConfigured, service: ServicePublished, after: datetime
    ) -> list[dict[str, Any]]:
        """The next free slots after `after` (or now), as many as the settings offer."""
        now = self.clock.now()
        after = max(after, now)
        found: list[dict[str, Any]] = []
        for day in booking_days(office, now, self.settings.horizon_days):
            if day < local_day(office, after):
                continue
            found += await self._free_on(office, service, day, after=after)
            if len(found) >= self.settings.alternatives:
                break
        return found[: self.settings.alternatives]

    async def _slot_or_alternatives(
        self, office: OfficeConfigured, service: ServicePublished, at: datetime
    ) -> Slot:
        try:
            return self._find(office, service, at)
        except SlotNotOffered as error:
            error.details["alternatives"] = await self.alternatives(office, service, at)
            raise

    async def _claim_seat_or_alternatives(
        self, office: OfficeConfigured, service: ServicePublished, slot: Slot, appointment_id: str
    ) -> tuple[int, list[str]]:
        day = local_day(office, slot.start)
        taken = await self.store.taken_cells(office.office_id, slot.pool, day)
        claimed = None
        if free_seat(slot, taken) is not None:
            claimed = await self.store.claim_seat(office.office_id, slot, day, appointment_id, taken)
        if claimed is None:
            raise SlotFull(
                "this slot is fully booked", alternatives=await self.alternatives(office, service, slot.start)
            )
        return claimed

    # --- booking -------------------------------------------------------------------------------

    async def book(self, request: BookingRequest) -> Receipt:
        try:
            receipt = await self._book(request)
        except AppointmentError as error:
            self.metrics.refused.labels(
                await self.office_label(request.office_id), type(error).__name__
            ).inc()
            raise
        self.metrics.booked.labels(request.office_id).inc()
        return receipt

    async def _book(self, request: BookingRequest) -> Receipt:
        token = request.token or new_citizen_token()
        if request.appointment_id is not None:
            earlier = await self.store.booking(request.appointment_id)
            if earlier is not None:  # a retry: the first attempt's booking, nothing sent again
                return Receipt(earlier, token)
        office, service = await self._bookable(request.office_id, request.service_id)
        slot = await self._slot_or_alternatives(office, service, request.slot_start)
        appointment_id = request.appointment_id or f"apt-{uuid.uuid4().hex}"
        identity = contact_identity(request.phone, request.email)
        contact_hash = self.contact_hash(identity) if identity else None
        if contact_hash:
            await self._count_message(contact_hash, office)
        undo: list[Callable[[], Awaitable[None]]] = []
        try:
            limit_key = None
            if contact_hash:
                limit_key = await self.store.claim_limit(
                    contact_hash, service.service_id, appointment_id, self.settings.max_bookings_per_service
                )
                if limit_key is None:
                    raise BookingLimitReached(
                        f"you already hold {self.settings.max_bookings_per_service} future appointments "
                        "for this service; cancel one to book another"
                    )
                undo.append(lambda: self.store.release_limit(limit_key, appointment_id))
            seat_no, seat_keys = await self._claim_seat_or_alternatives(office, service, slot, appointment_id)
            undo.append(lambda: self.store.release_seats(seat_keys, appointment_id))
            code = await self.store.claim_code(office.office_id, appointment_id)
            undo.append(lambda: self.store.release_code(office.office_id, code, appointment_id))
            booking = self._new_booking(
                request, office, slot, appointment_id, code, token, seat_no, seat_keys
            )
            booking = replace(booking, limit_key=limit_key, contact_hash=contact_hash)
            booked = AppointmentBooked(
                appointment_id=appointment_id,
                service_id=service.service_id,
                slot_start=slot.start,
                slot_end=slot.end,
                local_day=local_day(office, slot.start),
                language=request.language,
                contact_sealed=booking.contact_sealed,
                citizen_token_sealed=booking.citizen_token_sealed,
            )
            try:
                created = await self.store.create(booking, [self._event(booking, booked, 1)])
            except AlreadyExists:
                if request.appointment_id is None:
                    raise
                # A retry raced its first attempt, which booked first: give back this attempt's claims.
                created = None
        except BaseException:
            for step in reversed(undo):
                await step()
            raise
        if created is None:
            for step in reversed(undo):
                await step()
            booked_first = await self.store.booking(appointment_id)
            assert booked_first is not None  # AlreadyExists: it is there
            return Receipt(booked_first, token)
        log.info(
            "appointment booked",
            appointment_id=appointment_id,
            office_id=office.office_id,
            service_id=service.service_id,
            slot_start=slot.start.isoformat(),
            seat=seat_no,
        )
        return Receipt(created, token)

    def _new_booking(
        self,
        request: BookingRequest,
        office: OfficeConfigured,
        slot: Slot,
        appointment_id: str,
        code: str,
        token: str,
        seat_no: int,
        seat_keys: list[str],
    ) -> Booking:
        contact = request.phone or request.email
        return Booking(
            appointment_id=appointment_id,
            office_id=office.office_id,
            service_id=request.service_id,
            timezone=office.timezone,
            slot_start=slot.start,
            slot_end=slot.end,
            local_day=local_day(office, slot.start),
            pool=slot.pool,
            seat_no=seat_no,
            seat_keys=tuple(seat_keys),
            state="booked",
            code=code,
            token_digest=token_digest(token),
            language=request.language,
            # Only the notifier's key opens these; the clear name and contact are never stored.
            name_sealed=self.sealer.seal(request.name),
            contact_sealed=self.sealer.seal(contact) if contact else None,
            citizen_token_sealed=self.sealer.seal(token),
            booked_at=self.clock.now(),
        )

    def _event(
        self, booking: Booking, data: EventData, version: int, cause: Envelope | None = None
    ) -> Envelope:
        return self.emitter.event(
            data,
            office_id=booking.office_id,
            aggregate_id=booking.appointment_id,
            aggregate_version=version,
            cause=cause,
        )

    async def _change(
        self, appointment_id: str, decide: Callable[[Booking], Change], cause: Envelope | None = None
    ) -> tuple[Booking, bool]:
        """The store's load, decide, commit, with the decided events' envelopes (at the next revision).

        Returns (booking, changed); `decide` returning None leaves the booking as it is.
        """

        def decided(current: Booking) -> Decision:
            change = decide(current)
            if change is None:
                return None
            booking, payloads = change
            return booking, [self._event(current, data, current.rev + 1, cause) for data in payloads]

        return await self.store.change(appointment_id, decided)

    async def _booking_by_token(self, token: str) -> Booking:
        booking = await self.store.by_token(token_digest(token))
        if booking is None:
            raise UnknownBooking("no appointment behind this link")
        return booking

    async def by_token(self, token: str) -> Booking:
        return await self._booking_by_token(token)

    async def cancel(self, token: str) -> Booking:
        booking = await self._booking_by_token(token)

        def decide(current: Booking) -> Change:
            ensure_changeable(current.state, current.slot_start, self.clock.now())
            return replace(current, state="cancelled", cancelled_at=self.clock.now()), [
                AppointmentCancelled(
                    appointment_id=current.appointment_id,
                    service_id=current.service_id,
                    slot_start=current.slot_start,
                    by="citizen",
                )
            ]

        cancelled, _ = await self._change(booking.appointment_id, decide)
        await self._release_all(cancelled)
        self.metrics.closed.labels(booking.office_id, "cancelled").inc()
        log.info(
            "appointment cancelled",
            appointment_id=booking.appointment_id,
            office_id=booking.office_id,
            by="citizen",
        )
        return cancelled

    async def reschedule(self, token: str, slot_start: datetime) -> Booking:
        booking = await self._booking_by_token(token)
        ensure_changeable(booking.state, booking.slot_start, self.clock.now())
        if booking.slot_start == slot_start:
            return booking
        office, service = await self._bookable(booking.office_id, booking.service_id)
        today = local_day(office, self.clock.now()).isoformat()
        count_move(booking.moves, today, self.settings.max_moves_per_day)  # refuse before claiming
        if booking.contact_hash:
            await self._count_message(booking.contact_hash, office)
        slot = await self._slot_or_alternatives(office, service, slot_start)
        seat_no, seat_keys = await self._claim_seat_or_alternatives(
            office, service, slot, booking.appointment_id
        )

        def decide(current: Booking) -> Change:
            ensure_changeable(current.state, current.slot_start, self.clock.now())
            moved = replace(
                current,
                slot_start=slot.start,
                slot_end=slot.end,
                pool=slot.pool,
                seat_no=seat_no,
                seat_keys=tuple(seat_keys),
                local_day=local_day(office, slot.start),
                at_risk_reason=None,
                moves=count_move(current.moves, today, self.settings.max_moves_per_day),
            )
            return moved, [
                AppointmentRescheduled(
                    appointment_id=current.appointment_id,
                    service_id=current.service_id,
                    slot_start=slot.start,
                    slot_end=slot.end,
                    previous_start=current.slot_start,
                )
            ]

        try:
            moved, _ = await self._change(booking.appointment_id, decide)
        except BaseException:
            await self.store.release_seats(seat_keys, booking.appointment_id)
            raise
        previous = [key for key in booking.seat_keys if key not in seat_keys]
        await self.store.release_seats(previous, booking.appointment_id)
        log.info(
            "appointment rescheduled",
            appointment_id=booking.appointment_id,
            office_id=booking.office_id,
            slot_start=slot.start.isoformat(),
        )
        return moved

    async def _count_message(self, contact_hash: str, office: OfficeConfigured) -> None:
        """Counts the message a booking or move is about to send to its contact; refused past the
        day's allowance (a cancellation is never refused: it frees a seat)."""
        day = local_day(office, self.clock.now())
        allowed = self.settings.max_messages_per_contact_per_day
        if not await self.store.claim_contact_message(contact_hash, day, allowed):
            raise TooManyMessages(
                f"this phone number or e-mail already received {allowed} booking messages today; "
                "please try again tomorrow or call the office"
            )

    async def _release_all(self, booking: Booking) -> None:
        await self.store.release_seats(booking.seat_keys, booking.appointment_id)
        await self.store.release_code(booking.office_id, booking.code, booking.appointment_id)
        await self.store.release_limit(booking.limit_key, booking.appointment_id)

    # --- personal data ---------------------------------------------------------------------------

    def contact_hash(self, identity: str) -> str:
        return pseudonym(identity, self.settings.jwt_secret.get_secret_value() or "appointments")

    async def erase_contact(self, identity: str) -> dict[str, int]:
        """A citizen's request: every booking of this contact loses name and contact, and the
        per-contact limits forget it (the bookings themselves stay, without anyone to message)."""
        contact_hash = self.contact_hash(identity)
        bookings = 0
        for booking in await self.store.with_contact(contact_hash):
            bookings += await self._forget_personal(booking.appointment_id)
        claims = await self.store.forget_contact_claims(contact_hash)
        return {"bookings": bookings, "claims": claims}

    async def forget_past_contacts(self) -> int:
        """Bookings whose local day ended `contact_retention_days` ago lose name and contact (the
        job looks back RETENTION_LOOKBACK_DAYS, so a long outage still catches up)."""
        newest = (self.clock.now() - timedelta(days=self.settings.contact_retention_days + 1)).date()
        forgotten = 0
        for back in range(RETENTION_LOOKBACK_DAYS):
            for booking in await self.store.on_day(newest - timedelta(days=back)):
                if any(value is not None for value in booking.personal_data):
                    forgotten += await self._forget_personal(booking.appointment_id)
        if forgotten:
            log.info("contacts of past bookings forgotten", bookings=forgotten)
        return forgotten

    async def _forget_personal(self, appointment_id: str) -> int:
        def decide(current: Booking) -> Change:
            if all(value is None for value in current.personal_data):
                return None
            return current.without_personal_data(self.clock.now()), []

        _, changed = await self._change(appointment_id, decide)
        return int(changed)

    # --- check-in ------------------------------------------------------------------------------

    async def check_in(self, office_id: str, typed_code: str) -> tuple[Booking, bool]:
        """(booking, newly checked in); a repeated check-in of the same booking answers the same."""
        try:
            booking, changed = await self._check_in(office_id, typed_code)
        except AppointmentError as error:
            self.metrics.check_ins.labels(await self.office_label(office_id), type(error).__name__).inc()
            raise
        self.metrics.check_ins.labels(office_id, "checked_in" if changed else "repeated").inc()
        return booking, changed

    async def _check_in(self, office_id: str, typed_code: str) -> tuple[Booking, bool]:
        code = normalize_code(typed_code)
        appointment_id = await self.store.appointment_for_code(office_id, code)
        booking = await self.store.booking(appointment_id) if appointment_id else None
        if booking is None or booking.office_id != office_id or booking.state in ("cancelled", "fulfilled"):
            raise UnknownCode("no appointment with this code today: check the code or ask at the reception")
        if booking.state == "missed":
            raise TooLate(
                "the grace period of your appointment is over; you can take a regular ticket",
                offer="walk_in_ticket",
            )
        if booking.state == "checked_in":
            return booking, False

        def decide(current: Booking) -> Change:
            if current.state != "booked":
                return None
            now = self.clock.now()
            check_in_window(
                current.slot_start,
                now,
                early_minutes=self.settings.checkin_early_minutes,
                grace_minutes=self.settings.checkin_grace_minutes,
            )
            return replace(current, state="checked_in", checked_in_at=now), [
                AppointmentCheckedIn(
                    appointment_id=current.appointment_id,
                    service_id=current.service_id,
                    slot_start=current.slot_start,
                    checked_in_at=now,
                    language=current.language,
                    contact_sealed=current.contact_sealed,
                    citizen_token_sealed=current.citizen_token_sealed,
                )
            ]

        checked_in, changed = await self._change(booking.appointment_id, decide)
        if changed:
            # No longer a *future* booking: the citizen may book this service again.
            await self.store.release_limit(checked_in.limit_key, checked_in.appointment_id)
            log.info("appointment checked in", appointment_id=booking.appointment_id, office_id=office_id)
        return checked_in, changed

    # --- events from ticketing ------------------------------------------------------------------

    async def fulfil(self, cause: Envelope, appointment_id: str, ticket_id: str, outcome: str) -> None:
        if await self.store.booking(appointment_id) is None:
            log.warning("service completed for an unknown appointment", appointment_id=appointment_id)
            return

        def decide(current: Booking) -> Change:
            if current.state in ("fulfilled", "cancelled"):
                return None
            fulfilled = replace(
                current,
                state="fulfilled",
                ticket_id=ticket_id,
                outcome=outcome,
                fulfilled_at=cause.occurred_at,
            )
            return fulfilled, [
                AppointmentFulfilled(
                    appointment_id=current.appointment_id,
                    service_id=current.service_id,
                    slot_start=current.slot_start,
                    ticket_id=ticket_id,
                    outcome=outcome,
                )
            ]

        booking, changed = await self._change(appointment_id, decide, cause)
        if changed:
            await self._release_all(booking)
            self.metrics.closed.labels(booking.office_id, "fulfilled").inc()

    async def close_after_ticket(self, appointment_id: str, state: State, reason: str) -> None:
        """The appointment ticket was not served (no-show at the window, cancelled): record it.

        No appointment event: ticketing's own event already told everyone (no double messages).
        """
        if await self.store.booking(appointment_id) is None:
            return

        def decide(current: Booking) -> Change:
            if current.state != "checked_in":
                return None
            return replace(current, state=state, closed_reason=reason), []

        booking, changed = await self._change(appointment_id, decide)
        if changed:
            await self._release_all(booking)
            self.metrics.closed.labels(booking.office_id, state).inc()

    # --- catalog changes ----------------------------------------------------------------------

    async def reassess_office(self, office_id: str) -> int:
        """Flag (or clear) future bookings the catalog no longer backs; returns how many changed.

        The office decides what to do with a flagged booking (call the citizen, keep it): the
        service does not cancel on its own, because a capacity cut is often a draft being fixed.
        """
        office = await self.view.office(office_id)
        if office is None:
            return 0
        changed = 0
        now = self.clock.now()
        for booking in await self.store.in_state_at(office_id, "booked"):
            if booking.slot_start <= now:
                continue
            reason = still_offered(
                office,
                await self.view.service(booking.service_id),
                slot_start=booking.slot_start,
                pool=booking.pool,
                seat_no=booking.seat_no,
                shared_grid_minutes=self.settings.shared_grid_minutes,
            )
            if reason == booking.at_risk_reason:
                continue

            def decide(current: Booking, reason: str | None = reason) -> Change:
                if current.state != "booked" or current.at_risk_reason == reason:
                    return None
                return replace(current, at_risk_reason=reason), []

            await self._change(booking.appointment_id, decide)
            changed += 1
            log.info(
                "booking at risk" if reason else "booking no longer at risk",
                appointment_id=booking.appointment_id,
                office_id=office_id,
                why=reason,
            )
        return changed

    async def reassess_offices(self, office_ids: list[str]) -> None:
        for office_id in office_ids:
            await self.reassess_office(office_id)

    # --- periodic -----------------------------------------------------------------------------

    async def sweep(self) -> int:
        """Bookings past their grace without check-in -> missed; codes of past days freed."""
        now = self.clock.now()
        today_utc = now.date()
        missed = 0
        for day in (today_utc + timedelta(days=offset) for offset in range(-3, 2)):
            for booking in await self.store.in_state_on(day, "booked"):
                if grace_over(booking.slot_start, now, self.settings.checkin_grace_minutes):
                    missed += await self._mark_missed(booking.appointment_id)
            for state in ("missed", "checked_in"):
                for booking in await self.store.in_state_on(day, state):
                    if booking.local_day < now.astimezone(zone_named(booking.timezone)).date():
                        # The day is over: "too late" is no longer a useful answer, free the code.
                        await self.store.release_code(booking.office_id, booking.code, booking.appointment_id)
        await self.store.forget_contact_messages_before(today_utc - timedelta(days=2))
        return missed

    async def _mark_missed(self, appointment_id: str) -> int:
        def decide(current: Booking) -> Change:
            if current.state != "booked":
                return None
            if not grace_over(current.slot_start, self.clock.now(), self.settings.checkin_grace_minutes):
                return None
            return replace(current, state="missed", missed_at=self.clock.now()), [
                AppointmentMissed(
                    appointment_id=current.appointment_id,
                    service_id=current.service_id,
                    slot_start=current.slot_start,
                )
            ]

        booking, changed = await self._change(appointment_id, decide)
        if changed:
            await self.store.release_seats(booking.seat_keys, booking.appointment_id)
            await self.store.release_limit(booking.limit_key, booking.appointment_id)
            self.metrics.closed.labels(booking.office_id, "missed").inc()
            log.info("appointment missed", appointment_id=appointment_id, office_id=booking.office_id)
        return int(changed)

    # --- supervisor ---------------------------------------------------------------------------

    async def day_list(self, office_id: str, day: date) -> list[Booking]:
        return sorted(await self.store.of_office_on(office_id, day), key=lambda booking: booking.slot_start)

    async def no_shows(self, office_id: str, first: date, last: date) -> NoShowRate:
        states: list[str] = []
        day = first
        while day <= last:
            states += [booking.state for booking in await self.store.of_office_on(office_id, day)]
            day += timedelta(days=1)
        return no_show_rate(states)
