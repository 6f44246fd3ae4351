"""Ticketing use cases: issue, windows, call next and the rest of a visit, jobs (domain + store + outbox)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from contracts import Envelope, EventData, calendar, new_event
from contracts.appointments import AppointmentCheckedIn
from contracts.catalog import OfficeConfigured, ServicePublished
from contracts.ticketing import (
    Channel,
    Outcome,
    QueueStatus,
    ServiceCompleted,
    TicketIssued,
    WindowClosed,
    WindowOpened,
    WindowPaused,
    WindowResumed,
)
from servicekit.auth import Principal
from servicekit.catalog_view import CatalogView
from servicekit.sealing import Sealer, new_citizen_token, pseudonym, token_digest
from servicekit.store import AlreadyExists, ConcurrentChange, Document

from ticketing import domain
from ticketing.domain import (
    InvalidTransition,
    NoTicketWaiting,
    NotYourWindow,
    OfficeClosed,
    QueueRules,
    ServiceNotOffered,
    Ticket,
    TicketNotFound,
    TicketState,
    UnknownOffice,
    UnknownPriorityCategory,
    UnknownTransferTarget,
    UnknownWindow,
    WindowBusy,
    WindowNotOpen,
    WindowTaken,
    window_key,
)
from ticketing.settings import TicketingSettings
from ticketing.store import TicketStore

log = structlog.get_logger("ticketing")
PRODUCER = "ticketing"


@dataclass(frozen=True)
class IssueRequest:
    office_id: str
    service_ids: list[str]
    channel: Channel
    priority_category: str | None = None
    language: str = "ru"
    phone: str | None = None


@dataclass(frozen=True)
class IssuedTicket:
    ticket: Ticket
    citizen_token: str
    position: int
    estimated_wait_minutes: int


@dataclass(frozen=True)
class QueueSnapshot:
    """One office's waiting tickets, open windows and service times, read once per decision."""

    office: OfficeConfigured
    waiting: list[Ticket]
    open_windows: list[Document]
    mean_seconds: dict[str, float]

    def windows_for(self, service_id: str) -> int:
        return sum(1 for w in self.open_windows if service_id in w["service_ids"])

    @property
    def sla_seconds(self) -> int:
        return self.office.sla.max_wait_minutes * 60


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


def appointment_ticket_id(appointment_id: str) -> str:
    """Derived from the appointment, so a redelivered check-in finds the ticket it already issued."""
    return "a-" + hashlib.sha256(appointment_id.encode()).hexdigest()[:32]


class TicketDesk:
    def __init__(self, store: TicketStore, catalog: CatalogView, settings: TicketingSettings) -> None:
        self.store = store
        self.catalog = catalog
        self.settings = settings
        self.rules = QueueRules(
            max_calls=settings.max_calls,
            ageing_share=settings.ageing_share,
            appointment_early_minutes=settings.appointment_early_minutes,
        )
        self.sealer = Sealer(settings.notifier_public_key) if settings.notifier_public_key else None
        key = (
            settings.operator_ref_key.get_secret_value()
            or "operator-ref:" + settings.jwt_secret.get_secret_value()
        )
        self._ref_key = key
        self.queue_status = QueueStatusPublisher(
            self.publish_queue_status, settings.queue_status_interval_seconds
        )
        self._window_locks: dict[str, asyncio.Lock] = {}
        # Tickets a call-next of this process is claiming right now: the other windows of this
        # process pass over them instead of racing for the same first candidate.
        self._being_claimed: set[str] = set()
        self._recent: dict[str, tuple[float, list[Document], dict[str, float]]] = {}
        self._waiting_counts: dict[tuple[str, str], list[float]] = {}
        self._counting: dict[tuple[str, str], asyncio.Lock] = {}

    # ------------------------------------------------------------------ helpers

    def operator_ref(self, subject: str) -> str:
        return pseudonym(subject, self._ref_key)

    def _seal(self, value: str | None) -> str | None:
        if value is None:
            return None
        if self.sealer is None:
            raise RuntimeError("ONEWINDOW_NOTIFIER_PUBLIC_KEY is not set: cannot seal citizen data")
        return self.sealer.seal(value)

    @staticmethod
    def _event(
        data: EventData, office_id: str, aggregate_id: str, version: int, cause: Envelope | None = None
    ) -> Envelope:
        if cause is not None:
            return cause.caused(
                data,
                producer=PRODUCER,
                office_id=office_id,
                aggregate_id=aggregate_id,
                aggregate_version=version,
            )
        return new_event(
            data, producer=PRODUCER, office_id=office_id, aggregate_id=aggregate_id, aggregate_version=version
        )

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

    async def _means(self, office_id: str, service_ids: set[str]) -> dict[str, float]:
        """Learned mean service time per service; the catalog's expected minutes until one is learned."""
        means = await self.store.mean_service_seconds(office_id)
        for service_id in service_ids - set(means):
            service = await self.catalog.service(service_id, include_retired=True)
            means[service_id] = (service.expected_minutes if service else 10) * 60.0
        return means

    async def snapshot(self, office: OfficeConfigured) -> QueueSnapshot:
        waiting = await self.store.waiting(office.office_id)
        windows = await self.store.open_windows(office.office_id)
        services = {t.service_id for t in waiting} | {s for w in windows for s in w["service_ids"]}
        return QueueSnapshot(office, waiting, windows, await self._means(office.office_id, services))

    def position_and_estimate(
        self, ticket: Ticket, snapshot: QueueSnapshot, now: datetime
    ) -> tuple[int, int]:
        position = domain.position_of(ticket, snapshot.waiting, now, snapshot.sla_seconds, self.rules)
        minutes = domain.estimate_wait_minutes(
            position,
            snapshot.mean_seconds.get(ticket.service_id, 600.0),
            snapshot.windows_for(ticket.service_id),
        )
        return position, minutes

    # ------------------------------------------------------------------ issuing

    async def issue(self, request: IssueRequest, now: datetime | None = None) -> IssuedTicket:
        now = now or datetime.now(UTC)
        office = await self.office(request.office_id)
        if not self.settings.ignore_hours and not calendar.is_open(office, now):
            opening = calendar.next_opening(office, now)
            raise OfficeClosed(
                f"office {office.office_id} is closed now",
                hours=calendar.describe_week(office),
                next_opening=opening.isoformat() if opening else None,
            )
        if request.priority_category and request.priority_category not in {
            c.code for c in office.priority_categories
        }:
            raise UnknownPriorityCategory(
                f"priority category {request.priority_category} is not used in office {office.office_id}",
                categories=[c.code for c in office.priority_categories],
            )
        offered = [await self.offered(office.office_id, sid) for sid in request.service_ids]
        return await self._issue(
            office,
            offered,
            now,
            ticket_id="t-" + uuid.uuid4().hex,
            channel=request.channel,
            priority_category=request.priority_category,
            language=request.language,
            contact_sealed=self._seal(request.phone),
        )

    async def issue_for_appointment(self, envelope: Envelope, data: AppointmentCheckedIn) -> Ticket | None:
        """The checked-in appointment's ticket, issued once however often the event arrives."""
        ticket_id = appointment_ticket_id(data.appointment_id)
        if await self.store.ticket_doc(ticket_id) is not None:
            return None
        office = await self.office(envelope.office_id)
        offered = [await self.offered(office.office_id, data.service_id)]
        try:
            issued = await self._issue(
                office,
                offered,
                datetime.now(UTC),
                ticket_id=ticket_id,
                channel="appointment",
                language=data.language,
                contact_sealed=data.contact_sealed,
                appointment_id=data.appointment_id,
                appointment_at=data.slot_start,
                cause=envelope,
            )
        except AlreadyExists:
            return None
        return issued.ticket

    async def _issue(
        self,
        office: OfficeConfigured,
        offered: Sequence[tuple[ServicePublished, str]],
        now: datetime,
        *,
        ticket_id: str,
        channel: Channel,
        language: str,
        contact_sealed: str | None,
        priority_category: str | None = None,
        appointment_id: str | None = None,
        appointment_at: datetime | None = None,
        cause: Envelope | None = None,
    ) -> IssuedTicket:
        first, zone_id = offered[0]
        day = calendar.local_day(office, now)
        seq = await self.store.numbers.claim(office.office_id, day, first.letter, ticket_id)
        # The mobile link of a check-in gets its own token: the booking's arrives sealed, without a digest.
        token = new_citizen_token()
        ticket = Ticket(
            ticket_id=ticket_id,
            office_id=office.office_id,
            number=domain.format_number(first.letter, seq),
            seq=seq,
            local_day=day,
            service_ids=[s.service_id for s, _ in offered],
            zone_id=zone_id,
            channel=channel,
            issued_at=now,
            queued_at=now,
            token_digest=token_digest(token),
            priority_category=priority_category,
            appointment_id=appointment_id,
            appointment_at=appointment_at,
            language=language,
        )
        position, minutes = await self._place_new_ticket(office, ticket, now)
        issued = TicketIssued(
            ticket_id=ticket.ticket_id,
            number=ticket.number,
            service_id=ticket.service_id,
            service_ids=ticket.service_ids,
            zone_id=zone_id,
            channel=channel,
            priority_category=priority_category,
            appointment_id=appointment_id,
            local_day=day,
            issued_at=now,
            position=position,
            estimated_wait_minutes=minutes,
            language=language,
            contact_sealed=contact_sealed,
            citizen_token_sealed=self._seal(token),
        )
        await self.store.remember_token(ticket.token_digest, ticket_id)
        await self.store.tickets.create(
            ticket.to_doc(), [self._event(issued, office.office_id, ticket_id, 1, cause)]
        )
        self.queue_status.request(office.office_id)
        log.info("ticket issued", office_id=office.office_id, number=ticket.number, channel=channel)
        return IssuedTicket(ticket, token, position, minutes)

    async def _place_new_ticket(
        self, office: OfficeConfigured, ticket: Ticket, now: datetime
    ) -> tuple[int, int]:
        """Position and estimate at issue time.

        A plain ticket is the latest of its service, so everyone waiting is ahead: a count, not a read
        of the whole queue (issuing stays fast with hundreds waiting). Priority and appointment tickets
        are placed by the routing rule over the queue.
        """
        if ticket.priority_category or ticket.appointment_id:
            snapshot = await self.snapshot(office)
            snapshot.waiting.append(ticket)
            return self.position_and_estimate(ticket, snapshot, now)
        position = await self._waiting_ahead(office.office_id, ticket.service_id) + 1
        windows, means = await self._recent_windows_and_means(office.office_id)
        if ticket.service_id not in means:
            means = {**means, **await self._means(office.office_id, {ticket.service_id})}
        serving = sum(1 for w in windows if ticket.service_id in w["service_ids"])
        return position, domain.estimate_wait_minutes(position, means[ticket.service_id], serving)

    async def _waiting_ahead(self, office_id: str, service_id: str) -> int:
        """Tickets waiting for the service: counted at most once a second, plus those issued here since.

        Exact in an office's normal pace; in a burst, tickets another replica issued within the last
        second are not yet in the count (the position shown later by the ticket link is exact).
        """
        key = (office_id, service_id)
        cached = self._waiting_counts.get(key)
        if cached is None or time.monotonic() - cached[0] >= 1.0:
            async with self._counting.setdefault(key, asyncio.Lock()):  # one count in flight, not a stampede
                cached = self._waiting_counts.get(key)
                if cached is None or time.monotonic() - cached[0] >= 1.0:
                    counted_at = time.monotonic()
                    cached = [counted_at, float(await self.store.count_waiting(office_id, service_id))]
                    self._waiting_counts[key] = cached
        ahead = int(cached[1])
        cached[1] += 1  # this ticket is ahead of the next one issued here
        return ahead

    async def _recent_windows_and_means(self, office_id: str) -> tuple[list[Document], dict[str, float]]:
        """Open windows and service times, re-read at most every 2 s: a burst of issues reads them once."""
        cached = self._recent.get(office_id)
        if cached is not None and time.monotonic() - cached[0] < 2.0:
            return cached[1], cached[2]
        windows = await self.store.open_windows(office_id)
        means = await self.store.mean_service_seconds(office_id)
        self._recent[office_id] = (time.monotonic(), windows, means)
        return windows, means

    # ------------------------------------------------------------------ citizens

    async def ticket_by_token(self, token: str) -> tuple[Document, Ticket]:
        doc = await self.store.ticket_by_token(token_digest(token))
        if doc is None:
            raise TicketNotFound("no ticket for this link")
        return doc, Ticket.from_doc(doc)

    async def public_status(self, token: str) -> dict[str, Any]:
        _, ticket = await self.ticket_by_token(token)
        status: dict[str, Any] = {
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
            now = datetime.now(UTC)
            snapshot = await self.snapshot(await self.office(ticket.office_id))
            status["position"], status["estimated_wait_minutes"] = self.position_and_estimate(
                ticket, snapshot, now
            )
        if ticket.state in domain.ACTIVE_AT_WINDOW:
            status["window_no"] = ticket.window_no
        return status

    async def cancel_by_token(self, token: str) -> Ticket:
        doc, _ = await self.ticket_by_token(token)
        return await self._change_ticket(str(doc["_id"]), lambda t, now: domain.cancel(t, "citizen", now))

    # ------------------------------------------------------------------ ticket changes

    async def _change_ticket(
        self,
        ticket_id: str,
        decide: Callable[[Ticket, datetime], tuple[Ticket, EventData]],
    ) -> Ticket:
        result: list[Ticket] = []

        def apply(doc: Document) -> tuple[dict[str, Any], list[Envelope]]:
            ticket = Ticket.from_doc(doc)
            new, data = decide(ticket, datetime.now(UTC))
            result[:] = [new]
            return new.to_doc(), [self._event(data, ticket.office_id, ticket.ticket_id, int(doc["rev"]) + 1)]

        if await self.store.ticket_doc(ticket_id) is None:
            raise TicketNotFound(f"ticket {ticket_id} not found")
        await self.store.tickets.change(ticket_id, apply)
        self.queue_status.request(result[0].office_id)
        return result[0]

    # ------------------------------------------------------------------ windows

    async def _window_zone(self, office: OfficeConfigured, window_no: int) -> str:
        zone = next((z for z in office.zones if window_no in z.windows), None)
        if zone is None:
            raise UnknownWindow(f"office {office.office_id} has no window {window_no}")
        return zone.zone_id

    async def open_window(
        self, principal: Principal, office_id: str, window_no: int, service_ids: list[str]
    ) -> Document:
        office = await self.office(office_id)
        zone_id = await self._window_zone(office, window_no)
        for service_id in service_ids:
            try:
                await self.offered(office_id, service_id)
            except ServiceNotOffered as error:
                raise UnknownTransferTarget(str(error)) from None
        key = window_key(office_id, window_no)
        ref = self.operator_ref(principal.subject)
        state = {
            "_id": key,
            "office_id": office_id,
            "window_no": window_no,
            "zone_id": zone_id,
            "service_ids": service_ids,
            "state": "open",
            "operator_subject": principal.subject,
            "operator_ref": ref,
            "opened_at": datetime.now(UTC),
        }

        def event(version: int) -> Envelope:
            data = WindowOpened(
                window_no=window_no, zone_id=zone_id, operator_ref=ref, service_ids=service_ids
            )
            return self._event(data, office_id, key, version)

        if await self.store.windows.get(key) is None:
            try:
                doc = await self.store.windows.create(state, [event(1)])
                self.queue_status.request(office_id)
                return doc
            except AlreadyExists:
                pass

        def reopen(current: Document) -> tuple[dict[str, Any], list[Envelope]]:
            if current["state"] != "closed" and current["operator_subject"] != principal.subject:
                raise WindowTaken(f"window {window_no} is open by another operator; they must close it first")
            return state, [event(int(current["rev"]) + 1)]

        doc = await self.store.windows.change(key, reopen)
        self.queue_status.request(office_id)
        return doc

    async def my_window(self, principal: Principal, office_id: str, window_no: int) -> Document:
        doc = await self.store.windows.get(window_key(office_id, window_no))
        if doc is None or doc["state"] == "closed":
            raise NotYourWindow(f"window {window_no} is not open; open it first")
        if doc["operator_subject"] != principal.subject:
            raise NotYourWindow(f"window {window_no} was opened by another operator")
        return doc

    async def set_window_state(
        self, principal: Principal, office_id: str, window_no: int, target: str, reason: str | None = None
    ) -> Document:
        window = await self.my_window(principal, office_id, window_no)
        key = window["_id"]
        if target in ("paused", "closed") and await self.store.active_at_window(key) is not None:
            raise WindowBusy(f"window {window_no} has a called ticket: finish, transfer or no-show it first")

        def decide(current: Document) -> tuple[dict[str, Any], list[Envelope]]:
            common = {
                "window_no": window_no,
                "zone_id": current["zone_id"],
                "operator_ref": current["operator_ref"],
            }
            data: EventData
            if target == "paused":
                if current["state"] != "open":
                    raise WindowNotOpen(f"window {window_no} is {current['state']}")
                data = WindowPaused(**common, reason=reason)
            elif target == "open":
                if current["state"] != "paused":
                    raise WindowNotOpen(f"window {window_no} is {current['state']}, not paused")
                data = WindowResumed(**common)
            else:
                data = WindowClosed(**common)
            return {"state": target}, [self._event(data, office_id, key, int(current["rev"]) + 1)]

        doc = await self.store.windows.change(key, decide)
        self.queue_status.request(office_id)
        return doc

    async def window_view(self, principal: Principal, office_id: str, window_no: int) -> dict[str, Any]:
        key = window_key(office_id, window_no)
        window = await self.store.windows.get(key)
        if window is None:
            raise UnknownWindow(f"window {window_no} has not been opened")
        office = await self.office(office_id)
        active = await self.store.active_at_window(key)
        counts = await self.store.day_counts(
            office_id, calendar.local_day(office, datetime.now(UTC)), window_no
        )
        return {"window": window, "ticket": Ticket.from_doc(active) if active else None, "today": counts}

    # ------------------------------------------------------------------ calling

    async def call_next(self, principal: Principal, office_id: str, window_no: int) -> Ticket:
        window = await self.my_window(principal, office_id, window_no)
        if window["state"] != "open":
            raise WindowNotOpen(f"window {window_no} is {window['state']}; resume it to call")
        key = window["_id"]
        # One call at a time per window in this process (a double click calls one ticket).
        async with self._window_locks.setdefault(key, asyncio.Lock()):
            if await self.store.active_at_window(key) is not None:
                raise WindowBusy(
                    f"window {window_no} still has a ticket: finish, transfer or no-show it first"
                )
            office = await self.office(office_id)
            ticket = await self._claim_next(office, window, self.operator_ref(principal.subject))
        self.queue_status.request(office_id)
        return ticket

    async def _claim_next(self, office: OfficeConfigured, window: Document, ref: str) -> Ticket:
        """The first waiting ticket in routing order this window wins; a lost race moves on to the next."""
        for _ in range(5):
            waiting = await self.store.waiting_docs_for(office.office_id, window["service_ids"])
            now = datetime.now(UTC)
            ordered = domain.order_for_call(
                [Ticket.from_doc(d) for d in waiting],
                window["service_ids"],
                now,
                office.sla.max_wait_minutes * 60,
                self.rules,
            )
            if not ordered:
                break
            for candidate in ordered:
                if candidate.ticket_id in self._being_claimed:
                    continue
                self._being_claimed.add(candidate.ticket_id)
                try:
                    called = await self._try_claim(office, window, ref, candidate.ticket_id, now)
                finally:
                    self._being_claimed.discard(candidate.ticket_id)
                if called is None:
                    continue  # another window got it (or it changed): the next one in order
                log.info(
                    "ticket called",
                    office_id=office.office_id,
                    number=called.number,
                    window_no=window["window_no"],
                )
                return called
        raise NoTicketWaiting(f"nobody is waiting for the services of window {window['window_no']}")

    async def _try_claim(
        self, office: OfficeConfigured, window: Document, ref: str, ticket_id: str, now: datetime
    ) -> Ticket | None:
        # Commit on a fresh read (by _id, cheap): never on a document read long ago, whose next
        # revision may have been claimed long ago, and skip, without a claim, one already taken.
        current = await self.store.ticket_doc(ticket_id)
        if current is None or current["state"] != TicketState.WAITING:
            return None
        candidate = Ticket.from_doc(current)
        called, data = domain.call(candidate, window["window_no"], ref, now)
        envelope = self._event(data, office.office_id, candidate.ticket_id, int(current["rev"]) + 1)
        try:
            await self.store.tickets.commit(current, called.to_doc(), [envelope])
        except ConcurrentChange:
            return None
        # A crash right here leaves the ticket called with no pointer: active_at_window finds it by
        # its at_window, so the window stays busy with it (not skipping to the next) until finished.
        await self.store.point_window(window["_id"], candidate.ticket_id)
        return called

    async def _window_ticket(
        self, principal: Principal, office_id: str, window_no: int, ticket_id: str | None
    ) -> str:
        await self.my_window(principal, office_id, window_no)
        if ticket_id is not None:
            doc = await self.store.ticket_doc(ticket_id)
            if doc is None or doc["office_id"] != office_id:
                raise TicketNotFound(f"ticket {ticket_id} not found in office {office_id}")
            return ticket_id
        active = await self.store.active_at_window(window_key(office_id, window_no))
        if active is None:
            raise InvalidTransition(f"window {window_no} has no called ticket")
        return str(active["_id"])

    async def recall(
        self, principal: Principal, office_id: str, window_no: int, ticket_id: str | None
    ) -> Ticket:
        ticket_id = await self._window_ticket(principal, office_id, window_no, ticket_id)
        ref = self.operator_ref(principal.subject)
        return await self._change_ticket(
            ticket_id, lambda t, now: domain.recall(t, window_no, ref, now, self.rules)
        )

    async def no_show(
        self, principal: Principal, office_id: str, window_no: int, ticket_id: str | None
    ) -> Ticket:
        ticket_id = await self._window_ticket(principal, office_id, window_no, ticket_id)
        return await self._change_ticket(ticket_id, lambda t, now: domain.no_show(t, window_no, now))

    async def start(
        self, principal: Principal, office_id: str, window_no: int, ticket_id: str | None
    ) -> Ticket:
        ticket_id = await self._window_ticket(principal, office_id, window_no, ticket_id)
        ref = self.operator_ref(principal.subject)
        return await self._change_ticket(ticket_id, lambda t, now: domain.start(t, window_no, ref, now))

    async def complete(
        self, principal: Principal, office_id: str, window_no: int, ticket_id: str | None, outcome: Outcome
    ) -> Ticket:
        ticket_id = await self._window_ticket(principal, office_id, window_no, ticket_id)
        ref = self.operator_ref(principal.subject)
        doc = await self.store.ticket_doc(ticket_id)
        assert doc is not None
        ticket = Ticket.from_doc(doc)
        next_zone = None
        if ticket.next_service_id is not None:
            _, next_zone = await self.offered(office_id, ticket.next_service_id)
        return await self._change_ticket(
            ticket_id, lambda t, now: domain.complete(t, window_no, ref, outcome, now, next_zone)
        )

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
        ticket_id = await self._window_ticket(principal, office_id, window_no, ticket_id)
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
        return await self._change_ticket(
            ticket_id, lambda t, now: domain.transfer(t, window_no, to_service_id, zone_id, now, reason)
        )

    # ------------------------------------------------------------------ learning, status, jobs

    async def learn_service_time(self, envelope: Envelope, data: ServiceCompleted) -> None:
        if await self.store.already_handled(str(envelope.event_id)):
            return
        current = await self.store.service_time(envelope.office_id, data.service_id)
        previous = float(current["mean_seconds"]) if current else None
        if previous is None:
            service = await self.catalog.service(data.service_id, include_retired=True)
            previous = service.expected_minutes * 60.0 if service else None
        mean = domain.rolling_mean(previous, data.service_seconds)
        samples = int(current["samples"]) + 1 if current else 1
        await self.store.save_service_time(envelope.office_id, data.service_id, mean, samples)
        await self.store.mark_handled(str(envelope.event_id))

    async def queue_status_of(self, office_id: str) -> QueueStatus:
        office = await self.office(office_id)
        waiting_entries = await self.store.waiting_summary(office.office_id)
        windows = await self.store.open_windows(office.office_id)
        means = await self._means(office.office_id, {s for s, _ in waiting_entries})
        now = datetime.now(UTC)
        windows_by_service: dict[str, int] = {}
        for window in windows:
            for service_id in window["service_ids"]:
                windows_by_service[service_id] = windows_by_service.get(service_id, 0) + 1
        waiting, longest, lines = domain.summarize_queue(waiting_entries, windows_by_service, means, now)
        return QueueStatus(
            as_of=now,
            waiting=waiting,
            open_windows=len(windows),
            longest_wait_seconds=longest,
            services=lines,
        )

    async def publish_queue_status(self, office_id: str) -> None:
        status = await self.queue_status_of(office_id)
        store = self.store.queue_status
        if await store.get(office_id) is None:
            with contextlib.suppress(AlreadyExists):
                await store.create(
                    {"_id": office_id, "office_id": office_id, "as_of": status.as_of},
                    [self._event(status, office_id, office_id, 1)],
                )
                return

        def decide(current: Document) -> tuple[dict[str, Any], list[Envelope]]:
            return {"as_of": status.as_of}, [
                self._event(status, office_id, office_id, int(current["rev"]) + 1)
            ]

        try:
            await store.change(office_id, decide, attempts=4)
        except ConcurrentChange:
            log.info("queue status skipped: another replica is publishing", office_id=office_id)

    async def watch_sla(self) -> int:
        """SlaBreachPredicted / SlaBreached once per ticket; a fresh QueueStatus per office with a queue."""
        raised = 0
        for office_id in await self.store.offices_with_waiting():
            try:
                office = await self.office(office_id)
            except UnknownOffice:
                continue
            snapshot = await self.snapshot(office)
            now = datetime.now(UTC)
            for ticket in snapshot.waiting:
                _, minutes = self.position_and_estimate(ticket, snapshot, now)
                sla = domain.sla_seconds_for(
                    ticket, office.sla.max_wait_minutes, office.sla.appointment_max_wait_minutes
                )
                raised += await self._record_sla(ticket, now, sla, minutes * 60)
            self.queue_status.request(office_id)
        return raised

    async def _record_sla(self, ticket: Ticket, now: datetime, sla: int, estimate_seconds: int) -> int:
        _, events = domain.check_sla(ticket, now, sla, estimate_seconds)
        if not events:
            return 0
        current = await self.store.ticket_doc(ticket.ticket_id)
        if current is None:
            return 0
        # Decide again on the latest revision: its flags say what was already announced.
        checked, events = domain.check_sla(Ticket.from_doc(current), now, sla, estimate_seconds)
        if not events:
            return 0
        rev = int(current["rev"])
        envelopes = [self._event(e, ticket.office_id, ticket.ticket_id, rev + 1) for e in events]
        try:
            # Only the flags: the ticket may have moved since it was read; then the next round decides again.
            await self.store.tickets.commit(
                current,
                {"sla_predicted": checked.sla_predicted, "sla_breached": checked.sla_breached},
                envelopes,
            )
        except ConcurrentChange:
            return 0
        return len(events)

    async def close_day(self) -> int:
        """Cancel tickets still waiting after their office closed for the day (reason office_closed)."""
        closed = 0
        now = datetime.now(UTC)
        for office_id in await self.store.offices_with_waiting():
            try:
                office = await self.office(office_id)
            except UnknownOffice:
                continue
            today = calendar.local_day(office, now)
            opening = calendar.opening_on(office, today)
            over_today = not self.settings.ignore_hours and (opening is None or now >= opening.close)
            for ticket in await self.store.waiting(office_id):
                if ticket.local_day < today or over_today:
                    with contextlib.suppress(InvalidTransition, ConcurrentChange):
                        await self._change_ticket(
                            ticket.ticket_id, lambda t, at: domain.cancel(t, "office_closed", at)
                        )
                        closed += 1
        return closed
