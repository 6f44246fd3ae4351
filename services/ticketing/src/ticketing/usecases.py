"""Ticketing use cases: issue, windows, call next and the rest of a visit, citizens' links, jobs.

Each use case checks what the catalog says, then runs one command on the office's owner
(`owner.OfficeHost.run`): the command is applied to the office's queue in memory and committed
as one log entry. On a replica that does not own the office, `NotOwner` is raised and the HTTP
layer forwards the request to the owner (`forwarding.py`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import structlog
from contracts import Envelope, calendar
from contracts.appointments import AppointmentCheckedIn
from contracts.catalog import OfficeConfigured, ServicePublished
from contracts.ticketing import Channel, Outcome, QueueStatus, appointment_ticket_id
from servicekit.auth import Principal
from servicekit.catalog_view import CatalogView
from servicekit.clock import SYSTEM_CLOCK, Clock
from servicekit.events import Emitter
from servicekit.kafka import EventProducer
from servicekit.sealing import Sealer, new_citizen_token, operator_ref, token_digest

from ticketing import domain
from ticketing.domain import (
    InvalidTransition,
    IssuingStopped,
    OfficeClosed,
    ServiceNotOffered,
    Ticket,
    TicketNotFound,
    TicketState,
    UnknownOffice,
    UnknownPriorityCategory,
    UnknownTransferTarget,
    UnknownWindow,
    Window,
    WindowOffDuty,
)
from ticketing.owner import PRODUCER, NotOwner, OfficeHost, Offices, OfficeUnavailable
from ticketing.projections import ReadModels
from ticketing.queue import NewTicket, OfficeQueue, Placement
from ticketing.settings import Settings
from ticketing.store import ticket_from

log = structlog.get_logger("ticketing")


@dataclass(frozen=True)
class IssueRequest:
    office_id: str
    service_ids: list[str]
    channel: Channel
    priority_category: str | None = None
    language: str = "ru"
    phone: str | None = None
    # Fixed by an Idempotency-Key claim: a retry finds the ticket its first attempt issued.
    ticket_id: str | None = None
    citizen_token: str | None = None


@dataclass(frozen=True)
class IssuedTicket:
    ticket: Ticket
    citizen_token: str
    position: int
    estimated_wait_minutes: int


class QueueStatusPublisher:
    """At most one QueueStatus per office per interval; a burst of changes ends in one fresh status."""

    def __init__(self, publish: Callable[[str], Any], interval_seconds: float) -> None:
        self._publish = publish
        self.interval = interval_seconds
        self._last: dict[str, float] = {}
        self._pending: dict[str, asyncio.Task[None]] = {}

    def request(self, office_id: str) -> None:
        if office_id not in self._pending:
            self._pending[office_id] = asyncio.create_task(self._publish_later(office_id))

    async def _publish_later(self, office_id: str) -> None:
        try:
            wait = self._last.get(office_id, 0.0) + self.interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        finally:
            self._pending.pop(office_id, None)
        self._last[office_id] = time.monotonic()
        try:
            await self._publish(office_id)
        except Exception as error:  # the next change or the periodic job publishes again
            log.warning("queue status not published", office_id=office_id, error=repr(error))

    async def stop(self) -> None:
        tasks = list(self._pending.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


def appointment_ticket_token(appointment_id: str, key: str) -> str:
    """The mobile-ticket token of a check-in: 256 bits keyed by the service's secret, so the kiosk
    that checked the citizen in can print the same link the SMS carries (nobody without the key can)."""
    mac = hmac.new(key.encode(), b"appointment-ticket:" + appointment_id.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


class TicketDesk:
    def __init__(
        self,
        offices: Offices,
        models: ReadModels,
        catalog: CatalogView,
        producer: EventProducer,
        settings: Settings,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.offices = offices
        self.clock = clock
        self.emitter = Emitter(PRODUCER, clock)
        self.models = models
        self.catalog = catalog
        self.producer = producer
        self.settings = settings
        self.rules = offices.rules
        self.sealer = Sealer(settings.notifier_public_key) if settings.notifier_public_key else None
        self.queue_status = QueueStatusPublisher(
            self.publish_queue_status, settings.queue_status_interval_seconds
        )

    # ------------------------------------------------------------------ helpers

    def operator_ref(self, subject: str) -> str:
        return operator_ref(
            subject,
            self.settings.operator_ref_key.get_secret_value(),
            self.settings.jwt_secret.get_secret_value(),
        )

    def _seal(self, value: str | None) -> str | None:
        if value is None:
            return None
        if self.sealer is None:
            raise RuntimeError("ONEWINDOW_NOTIFIER_PUBLIC_KEY is not set: cannot seal citizen data")
        return self.sealer.seal(value)

    async def office(self, office_id: str) -> OfficeConfigured:
        office = await self.catalog.office(office_id)
        if office is None or office.retired:
            raise UnknownOffice(f"office {office_id} is not known")
        return office

    async def offered(self, office_id: str, service_id: str) -> tuple[ServicePublished, str]:
        """The service and the zone that handles it in this office."""
        service = await self.catalog.service(service_id)
        offering = next((o for o in service.offerings if o.office_id == office_id), None) if service else None
        if service is None or offering is None:
            raise ServiceNotOffered(f"service {service_id} is not offered in office {office_id}")
        return service, offering.zone_id

    async def host(self, office_id: str) -> OfficeHost:
        return await self.offices.host(await self.office(office_id))

    # ------------------------------------------------------------------ issuing

    async def issue(self, request: IssueRequest, now: datetime | None = None) -> IssuedTicket:
        now = now or self.clock.now()
        office = await self.office(request.office_id)
        host = await self.offices.host(office)
        token = request.citizen_token or new_citizen_token()
        if request.ticket_id is not None:
            earlier = await self._issued_before(host, request.ticket_id)
            if earlier is not None:
                return IssuedTicket(earlier, token, *self._placement_now(host, earlier))
        if not self.settings.ignore_hours and not calendar.is_open(office, now):
            opening = calendar.next_opening(office, now)
            raise OfficeClosed(
                f"office {office.office_id} is closed now",
                hours=calendar.describe_week(office),
                next_opening=opening.isoformat() if opening else None,
            )
        stops_at = calendar.issuing_stops_at(office, now)
        # The reception desk still serves whoever it lets in; kiosks and the web stop at the cut-off.
        late = stops_at is not None and now >= stops_at and request.channel != "reception"
        if late and not self.settings.ignore_hours:
            closes = calendar.closes_at(office, now)
            assert closes is not None
            local_close = calendar.local_now(office, closes)
            raise IssuingStopped(
                f"tickets are no longer issued today: the office closes at {local_close:%H:%M}",
                closes_at=closes.isoformat(),
                cutoff_minutes=office.issue_cutoff_minutes,
            )
        if request.priority_category and request.priority_category not in {
            c.code for c in office.priority_categories
        }:
            raise UnknownPriorityCategory(
                f"priority category {request.priority_category} is not used in office {office.office_id}",
                categories=[c.code for c in office.priority_categories],
            )
        offered = [await self.offered(office.office_id, sid) for sid in request.service_ids]
        new = NewTicket(
            ticket_id=request.ticket_id or "t-" + uuid.uuid4().hex,
            letter=offered[0][0].letter,
            service_ids=[s.service_id for s, _ in offered],
            zone_id=offered[0][1],
            channel=request.channel,
            token_digest=token_digest(token),
            language=request.language,
            priority_category=request.priority_category,
            contact_sealed=self._seal(request.phone),
            citizen_token_sealed=self._seal(token),
        )
        ticket, placement = await self._issue(host, office, offered, new)
        log.info("ticket issued", office_id=office.office_id, number=ticket.number, channel=request.channel)
        return IssuedTicket(ticket, token, placement.position, placement.estimated_wait_minutes)

    async def _issue(
        self,
        host: OfficeHost,
        office: OfficeConfigured,
        offered: Sequence[tuple[ServicePublished, str]],
        new: NewTicket,
        cause: Envelope | None = None,
    ) -> tuple[Ticket, Placement]:
        expected = {s.service_id: s.expected_minutes * 60.0 for s, _ in offered}

        def issue(queue: OfficeQueue, now: datetime) -> tuple[Ticket, Placement]:
            earlier = queue.tickets.get(new.ticket_id)
            if earlier is not None:  # a retry queued behind its first attempt
                return earlier, queue.placement(earlier, now)
            queue.expected_seconds.update(expected)
            return queue.issue(new, calendar.local_day(office, now), now)

        result = await host.run(issue, cause)
        self.queue_status.request(office.office_id)
        return result

    async def _issued_before(self, host: OfficeHost, ticket_id: str) -> Ticket | None:
        """The ticket a retried request issued already: in the queue, or finished (read model)."""
        if ticket_id in host.queue.tickets:
            return host.queue.tickets[ticket_id]
        doc = await self.models.ticket_doc(ticket_id)
        return ticket_from(doc) if doc is not None else None

    def _placement_now(self, host: OfficeHost, ticket: Ticket) -> tuple[int, int]:
        if ticket.state != TicketState.WAITING or ticket.ticket_id not in host.queue.tickets:
            return 0, 0
        placement = host.queue.placement(ticket, self.clock.now())
        return placement.position, placement.estimated_wait_minutes

    async def issue_for_appointment(self, envelope: Envelope, data: AppointmentCheckedIn) -> Ticket | None:
        """The checked-in appointment's ticket, issued once however often the event arrives.

        Raises NotOwner on a replica that does not own the office (the handler forwards it).
        """
        ticket_id = appointment_ticket_id(data.appointment_id)
        office = await self.office(envelope.office_id)
        host = await self.offices.host(office)
        if ticket_id in host.queue.tickets or await self.models.ticket_doc(ticket_id) is not None:
            return None
        offered = [await self.offered(office.office_id, data.service_id)]
        token = self.appointment_token(data.appointment_id)
        new = NewTicket(
            ticket_id=ticket_id,
            letter=offered[0][0].letter,
            service_ids=[data.service_id],
            zone_id=offered[0][1],
            channel="appointment",
            # The mobile link of a check-in gets its own token (the booking's arrives sealed), derived
            # from the appointment so the kiosk can print it (appointment_ticket below).
            token_digest=token_digest(token),
            language=data.language,
            appointment_id=data.appointment_id,
            appointment_at=data.slot_start,
            contact_sealed=data.contact_sealed,
            citizen_token_sealed=self._seal(token),
        )
        expected = {offered[0][0].service_id: offered[0][0].expected_minutes * 60.0}

        def issue_once(queue: OfficeQueue, now: datetime) -> Ticket | None:
            if ticket_id in queue.tickets:  # a second delivery queued behind the first
                return None
            queue.expected_seconds.update(expected)
            return queue.issue(new, calendar.local_day(office, now), now)[0]

        ticket = await host.run(issue_once, envelope)
        self.queue_status.request(office.office_id)
        return ticket

    async def resolve_at_reception(
        self, office_id: str, service_id: str, outcome: Outcome, language: str, principal: Principal
    ) -> Ticket:
        """A visit the reception desk settled itself (sent online, say): a reception ticket that ends
        at once with the outcome, counted in the office's numbers like any visit."""
        office = await self.office(office_id)
        offered = [await self.offered(office.office_id, service_id)]
        host = await self.offices.host(office)
        operator_ref = self.operator_ref(principal.subject)
        new = NewTicket(
            ticket_id="t-" + uuid.uuid4().hex,
            letter=offered[0][0].letter,
            service_ids=[service_id],
            zone_id=offered[0][1],
            channel="reception",
            token_digest=token_digest(new_citizen_token()),  # nobody follows this ticket on a phone
            language=language,
        )

        def resolve(queue: OfficeQueue, now: datetime) -> Ticket:
            ticket, _ = queue.issue(new, calendar.local_day(office, now), now)
            done, event = domain.resolve_at_reception(ticket, operator_ref, outcome, now)
            return queue.change_ticket(ticket, done, event)

        ticket = await host.run(resolve)
        self.queue_status.request(office.office_id)
        log.info("visit resolved at the reception", office_id=office_id, outcome=outcome)
        return ticket

    def appointment_token(self, appointment_id: str) -> str:
        key = "checkin:" + self.settings.jwt_secret.get_secret_value()
        return appointment_ticket_token(appointment_id, key)

    async def appointment_ticket(self, office_id: str, appointment_id: str) -> IssuedTicket:
        """The ticket a check-in issued, as a walk-in's (number, place, estimate, link) for the kiosk
        to show and print; TicketNotFound until the check-in event has reached the office's queue."""
        ticket_id = appointment_ticket_id(appointment_id)
        host = await self.host(office_id)
        ticket = host.queue.tickets.get(ticket_id)
        if ticket is None:
            doc = await self.models.ticket_doc(ticket_id)
            if doc is None or doc.get("office_id") != office_id:
                raise TicketNotFound("the check-in has not reached the queue yet; try again in a moment")
            ticket = ticket_from(doc)
        position, wait = 0, 0
        if ticket.state == TicketState.WAITING:
            placement = host.queue.placement(ticket, self.clock.now())
            position, wait = placement.position, placement.estimated_wait_minutes
        return IssuedTicket(ticket, self.appointment_token(appointment_id), position, wait)

    # ------------------------------------------------------------------ citizens

    async def ticket_by_token(self, token: str) -> Ticket:
        doc = await self.models.ticket_by_token(token_digest(token))
        if doc is None:
            raise TicketNotFound("no ticket for this link")
        return ticket_from(doc)

    async def public_status(self, token: str) -> dict[str, Any]:
        stored = await self.ticket_by_token(token)
        host = await self.host(stored.office_id)
        ticket = host.queue.tickets.get(stored.ticket_id, stored)
        status: dict[str, Any] = {
            "office_id": ticket.office_id,
            "number": ticket.number,
            "state": str(ticket.state),
            "service_id": ticket.service_id,
            "service_ids": ticket.service_ids,
            "zone_id": ticket.zone_id,
            "position": None,
            "estimated_wait_minutes": None,
            "window_no": None,
            "calls": ticket.calls,
        }
        if ticket.state == TicketState.WAITING:
            placement = host.queue.placement(ticket, self.clock.now())
            status["position"] = placement.position
            status["estimated_wait_minutes"] = placement.estimated_wait_minutes
        if ticket.state in domain.ACTIVE_AT_WINDOW:
            status["window_no"] = ticket.window_no
        return status

    async def cancel_by_token(self, token: str) -> Ticket:
        stored = await self.ticket_by_token(token)
        host = await self.host(stored.office_id)

        def cancel(queue: OfficeQueue, now: datetime) -> Ticket:
            ticket = queue.tickets.get(stored.ticket_id)
            if ticket is None:  # finished: the domain says why it cannot be cancelled
                domain.cancel(stored, "citizen", now)
                raise TicketNotFound("no ticket for this link")
            cancelled, event = domain.cancel(ticket, "citizen", now)
            return queue.change_ticket(ticket, cancelled, event)

        result = await host.run(cancel)
        self.queue_status.request(stored.office_id)
        return result

    # ------------------------------------------------------------------ windows

    def _window_zone(self, office: OfficeConfigured, window_no: int) -> str:
        zone = next((z for z in office.zones if window_no in z.windows), None)
        if zone is None:
            raise UnknownWindow(f"office {office.office_id} has no window {window_no}")
        return zone.zone_id

    def _on_duty(self, office: OfficeConfigured, window_no: int, doing: str) -> None:
        """A window with a schedule of its own (office settings) works only within it."""
        if not calendar.window_on_duty(office, window_no, self.clock.now()):
            schedule = calendar.window_schedule(office, window_no)
            assert schedule is not None
            raise WindowOffDuty(
                f"window {window_no} cannot {doing} now: it works "
                f"{calendar.describe_days(schedule.days)} (office time, {office.timezone})",
                window_no=window_no,
            )

    async def open_window(
        self, principal: Principal, office_id: str, window_no: int, service_ids: list[str]
    ) -> Window:
        office = await self.office(office_id)
        zone_id = self._window_zone(office, window_no)
        self._on_duty(office, window_no, "be opened")
        expected: dict[str, float] = {}
        for service_id in service_ids:
            try:
                service, _ = await self.offered(office_id, service_id)
            except ServiceNotOffered as error:
                raise UnknownTransferTarget(str(error)) from None
            expected[service_id] = service.expected_minutes * 60.0
        host = await self.offices.host(office)
        ref = self.operator_ref(principal.subject)

        def open_(queue: OfficeQueue, now: datetime) -> Window:
            queue.expected_seconds.update(expected)
            return queue.open_window(principal.subject, ref, window_no, zone_id, service_ids, now)

        window = await host.run(open_)
        self.queue_status.request(office_id)
        return window

    async def set_window_state(
        self, principal: Principal, office_id: str, window_no: int, target: str, reason: str | None = None
    ) -> Window:
        if target == "open":
            self._on_duty(await self.office(office_id), window_no, "be resumed")
        host = await self.host(office_id)
        window = await host.run(
            lambda queue, now: queue.set_window_state(principal.subject, window_no, target, reason)
        )
        self.queue_status.request(office_id)
        return window

    async def window_view(self, principal: Principal, office_id: str, window_no: int) -> dict[str, Any]:
        office = await self.office(office_id)
        host = await self.offices.host(office)
        window = host.queue.windows.get(window_no)
        if window is None:
            raise UnknownWindow(f"window {window_no} has not been opened")
        counts = await self.models.day_counts(
            office_id, calendar.local_day(office, self.clock.now()), window_no
        )
        return {"window": window, "ticket": host.queue.active_ticket(window_no), "today": counts}

    async def windows_of(self, office_id: str) -> list[Window]:
        host = await self.host(office_id)
        return sorted(host.queue.windows.values(), key=lambda w: w.window_no)

    # ------------------------------------------------------------------ calling

    async def call_next(self, principal: Principal, office_id: str, window_no: int) -> Ticket:
        self._on_duty(await self.office(office_id), window_no, "call")
        host = await self.host(office_id)
        ref = self.operator_ref(principal.subject)
        ticket = await host.run(lambda queue, now: queue.call_next(principal.subject, ref, window_no, now))
        log.info("ticket called", office_id=office_id, number=ticket.number, window_no=window_no)
        self.queue_status.request(office_id)
        return ticket

    async def _at_window(
        self,
        principal: Principal,
        office_id: str,
        window_no: int,
        ticket_id: str | None,
        step: Callable[[OfficeQueue, Ticket, datetime], Ticket],
        host: OfficeHost | None = None,
    ) -> Ticket:
        host = host or await self.host(office_id)

        def act(queue: OfficeQueue, now: datetime) -> Ticket:
            queue.my_window(principal.subject, window_no)
            return step(queue, queue.ticket_at(window_no, ticket_id), now)

        try:
            ticket = await host.run(act)
        except TicketNotFound:
            # Not in the live queue: a finished ticket of this office is a wrong step, not unknown.
            stored = await self.models.ticket_doc(ticket_id) if ticket_id else None
            if stored is None or stored["office_id"] != office_id:
                raise
            raise InvalidTransition(
                f"ticket {stored['number']} is {stored['state']}; it can no longer be changed at a window",
                ticket_state=stored["state"],
            ) from None
        self.queue_status.request(office_id)
        return ticket

    async def recall(
        self, principal: Principal, office_id: str, window_no: int, ticket_id: str | None
    ) -> Ticket:
        ref = self.operator_ref(principal.subject)

        def recall(queue: OfficeQueue, ticket: Ticket, now: datetime) -> Ticket:
            changed, event = domain.recall(ticket, window_no, ref, now, self.rules)
            return queue.change_ticket(ticket, changed, event)

        return await self._at_window(principal, office_id, window_no, ticket_id, recall)

    async def no_show(
        self, principal: Principal, office_id: str, window_no: int, ticket_id: str | None
    ) -> Ticket:
        def no_show(queue: OfficeQueue, ticket: Ticket, now: datetime) -> Ticket:
            changed, event = domain.no_show(ticket, window_no, now)
            return queue.change_ticket(ticket, changed, event)

        return await self._at_window(principal, office_id, window_no, ticket_id, no_show)

    async def start(
        self, principal: Principal, office_id: str, window_no: int, ticket_id: str | None
    ) -> Ticket:
        ref = self.operator_ref(principal.subject)

        def start(queue: OfficeQueue, ticket: Ticket, now: datetime) -> Ticket:
            changed, event = domain.start(ticket, window_no, ref, now)
            return queue.change_ticket(ticket, changed, event)

        return await self._at_window(principal, office_id, window_no, ticket_id, start)

    async def complete(
        self, principal: Principal, office_id: str, window_no: int, ticket_id: str | None, outcome: Outcome
    ) -> Ticket:
        host = await self.host(office_id)
        ref = self.operator_ref(principal.subject)
        # The zone of a multi-service visit's next service, looked up before the command runs.
        zones: dict[str, str] = {}
        with contextlib.suppress(domain.DomainError):
            current = host.queue.ticket_at(window_no, ticket_id)
            if current.next_service_id is not None:
                _, zones[current.next_service_id] = await self.offered(office_id, current.next_service_id)

        def complete(queue: OfficeQueue, ticket: Ticket, now: datetime) -> Ticket:
            next_zone = zones.get(ticket.next_service_id or "")
            changed, event = domain.complete(ticket, window_no, ref, outcome, now, next_zone)
            queue.learn_service_time(event.service_id, event.service_seconds)
            return queue.change_ticket(ticket, changed, event)

        return await self._at_window(principal, office_id, window_no, ticket_id, complete, host)

    async def transfer(
        self,
        principal: Principal,
        office_id: str,
        window_no: int,
        ticket_id: str | None,
        to_service_id: str,
        to_zone_id: str | None,
        reason: str | None,
    ) -> Ticket:
        office = await self.office(office_id)
        try:
            _, zone_id = await self.offered(office_id, to_service_id)
        except ServiceNotOffered:
            raise UnknownTransferTarget(
                f"service {to_service_id} is not offered in office {office_id}"
            ) from None
        if to_zone_id is not None:
            if to_zone_id not in {z.zone_id for z in office.zones}:
                raise UnknownTransferTarget(f"office {office_id} has no zone {to_zone_id}")
            zone_id = to_zone_id

        def transfer(queue: OfficeQueue, ticket: Ticket, now: datetime) -> Ticket:
            changed, event = domain.transfer(ticket, window_no, to_service_id, zone_id, now, reason)
            return queue.change_ticket(ticket, changed, event)

        return await self._at_window(principal, office_id, window_no, ticket_id, transfer)

    # ------------------------------------------------------------------ status and jobs (owner only)

    async def queue_status_of(self, office_id: str) -> QueueStatus:
        host = await self.host(office_id)
        return host.queue.queue_status(self.clock.now())

    async def publish_queue_status(self, office_id: str) -> None:
        host = self.offices.hosts.get(office_id)
        if host is None:  # not (or no longer) ours: the owner publishes it
            return
        status = host.queue.queue_status(self.clock.now())
        # A state event on a compacted topic: the version only has to grow (milliseconds do).
        await self.producer.publish(
            self.emitter.event(
                status,
                office_id=office_id,
                aggregate_id=office_id,
                aggregate_version=time.time_ns() // 1_000_000,
            )
        )

    async def watch_sla(self) -> int:
        """SlaBreachPredicted / SlaBreached once per ticket, from memory; a QueueStatus per busy office."""
        raised = 0
        for office_id, host in list(self.offices.hosts.items()):
            if host.queue.waiting_count() == 0:
                continue
            with contextlib.suppress(OfficeUnavailable):
                while True:  # in steps of at most 500 tickets: one log entry each
                    step = await host.run(lambda queue, now: queue.check_sla(now))
                    raised += step
                    if step < 500:
                        break
            self.queue_status.request(office_id)
        return raised

    async def close_day(self) -> int:
        """Cancel tickets still waiting after their office closed for the day (reason office_closed)."""
        closed = 0
        now = self.clock.now()
        for host in list(self.offices.hosts.values()):
            office = host.queue.office
            today = calendar.local_day(office, now)
            opening = calendar.opening_on(office, today)
            over_today = not self.settings.ignore_hours and (opening is None or now >= opening.close)

            def close(queue: OfficeQueue, at: datetime, today: date = today, over: bool = over_today) -> int:
                count = queue.close_day(today, over, at)
                queue.forget_days_before(today)
                return count

            if host.queue.waiting_count() or host.queue.numbers:
                with contextlib.suppress(OfficeUnavailable):
                    closed += await host.run(close)
                    if closed:
                        self.queue_status.request(host.office_id)
        return closed


__all__ = ["IssueRequest", "IssuedTicket", "NotOwner", "TicketDesk"]
