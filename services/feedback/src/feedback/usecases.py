"""Every state change of the feedback service, and the numbers it reports.

`Feedback` holds the writes: the visit facts, windows and ratings kept from the event stream,
the feedback requests and low-rating alerts; `Monitoring` computes the office's numbers from them.
Routes (`api.py`) and handlers (`handlers.py`) only translate to these calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from contracts import Envelope, calendar
from contracts.feedback import FeedbackAlertRaised, FeedbackAlertResolved, FeedbackGiven, FeedbackRequested
from contracts.portal import OnlineApplicationFiled
from contracts.ticketing import (
    ServiceCompleted,
    TicketIssued,
    WindowClosed,
    WindowOpened,
    WindowPaused,
    WindowResumed,
)
from servicekit.catalog_view import CatalogView
from servicekit.clock import SYSTEM_CLOCK, Clock
from servicekit.events import Emitter
from servicekit.kafka import NO_PARTITION, Received, partition_of, position_of
from servicekit.logging import get_logger
from servicekit.sealing import Sealer, new_citizen_token, token_digest
from servicekit.store import CREATED_FROM, AlreadyExists, Document, NotFound, PublishAll

from feedback import domain
from feedback.settings import Settings
from feedback.store import FeedbackStore, request_document

log = get_logger("feedback.handlers")
TEXT_LOOKBACK_DAYS = 30
# Visit facts are folded into their visits from the day before yesterday (UTC: every office's
# local day is over by then) back this many days, so an outage catches up.
FACT_LOOKBACK_DAYS = 30
# Tickets of a poll applied together, then written while the next slice is applied.
TICKETS_PER_SLICE = 64

WINDOW_STATE = {
    WindowOpened.EVENT_TYPE: "open",
    WindowPaused.EVENT_TYPE: "paused",
    WindowResumed.EVENT_TYPE: "open",
    WindowClosed.EVENT_TYPE: "closed",
}


async def office_day(catalog: CatalogView, office_id: str, at: datetime) -> date:
    return calendar.office_day(await catalog.office(office_id), at)


@dataclass(frozen=True)
class Answer:
    rating: int
    tags: list[str]
    comment: str


class Feedback:
    def __init__(
        self,
        store: FeedbackStore,
        settings: Settings,
        clock: Clock = SYSTEM_CLOCK,
        *,
        publish_all: PublishAll | None = None,
    ) -> None:
        self.store = store
        # The consumer publishes the feedback requests of a poll itself, before its offsets are
        # committed (AggregateStore.create_many); without it they go through the outbox relay.
        self.publish_all = publish_all
        self.settings = settings
        self.clock = clock
        self.emitter = Emitter(settings.service_name, clock)
        self.sealer = None if settings.projections_only else Sealer(settings.notifier_public_key)

    # ------------------------------------------------------------ from the event stream

    async def record_ticket_events(self, received: Sequence[Received]) -> None:
        """A poll's ticket events land in the visits' facts (idempotent per event_id), with no read
        in the usual case: the open visits of the partitions this consumer owns are kept in memory
        between polls (`store.open_visits`), and a ticket first seen by its TicketIssued is taken
        for new and inserted (insert-first: if it was stored after all, a replay, it is read and
        the poll's events are applied again on it). A later event of a stored visit is inserted as
        a fact of its own (`_id` its event id), never a replace of the visit. Per slice of tickets:
        one insert of visits, one of facts, one of the feedback requests, whose FeedbackRequested
        are published before the poll's offsets are committed."""
        store = self.store
        by_ticket: dict[str, list[Received]] = {}
        for item in received:
            by_ticket.setdefault(str(item.envelope.data["ticket_id"]), []).append(item)
        base: dict[str, domain.Visit | None] = {}
        to_read: list[str] = []
        for ticket_id, items in by_ticket.items():
            kept = store.open_visits.get(ticket_id)
            if kept is not None:
                base[ticket_id] = kept
            elif items[0].envelope.event_type == TicketIssued.EVENT_TYPE:
                base[ticket_id] = None  # taken for new: checked by the insert
            else:
                to_read.append(ticket_id)
        base.update(await store.visits_by_id(to_read))
        # In slices of tickets: the next slice is applied (Python) while the store writes the
        # one before (at most two slices' writes in flight, a few statements each).
        visits: dict[str, domain.Visit] = {}
        writing: list[asyncio.Task[dict[str, domain.Visit]]] = []
        tickets = list(by_ticket)
        try:
            for start in range(0, len(tickets), TICKETS_PER_SLICE):
                part = {t: by_ticket[t] for t in tickets[start : start + TICKETS_PER_SLICE]}
                changed, facts, requests = await self._apply_to_visits(part, base)
                if len(writing) >= 2:
                    visits.update(await writing.pop(0))
                writing.append(asyncio.create_task(self._write_slice(part, base, changed, facts, requests)))
                await asyncio.sleep(0)  # let it send its writes before the next slice is applied
        finally:
            done = await asyncio.gather(*writing, return_exceptions=True)
        for result in done:
            if isinstance(result, BaseException):
                raise result
            visits.update(result)
        # Written: kept for the next polls while open and the partition ours (records handed over
        # without one, as by `dispatch`, are not kept); a finished visit rarely changes again.
        for ticket_id, visit in visits.items():
            partition = partition_of(by_ticket[ticket_id][0])
            if visit.finished or partition == NO_PARTITION:
                store.open_visits.drop(ticket_id)
            else:
                store.open_visits.keep(partition, ticket_id, visit)

    async def _write_slice(
        self,
        by_ticket: Mapping[str, Sequence[Received]],
        base: Mapping[str, domain.Visit | None],
        visits: dict[str, domain.Visit],
        facts: Mapping[str, Sequence[domain.TicketFact]],
        requests: list[tuple[dict[str, object], list[Envelope]]],
    ) -> dict[str, domain.Visit]:
        """The independent writes of a slice at once (each one statement); the visits as written.
        Redelivered: the first request (and its token) stands, a duplicate insert is dropped."""
        store = self.store
        new = [visits[t] for t in visits if base.get(t) is None]
        taken, _, _ = await asyncio.gather(
            store.insert_visits(new),
            self._write_known(base, visits, facts),
            store.requests.create_many(requests, publish_all=self.publish_all),
        )
        if taken:  # stored before (a replay after a restart or a rebalance): apply on what is stored
            stored = await store.visits_by_id(sorted(taken))
            again, _, _ = await self._apply_to_visits({t: by_ticket[t] for t in stored}, dict(stored))
            await self._write_known(stored, again, facts)
            visits = {**visits, **again}
        return visits

    async def _write_known(
        self,
        before: Mapping[str, domain.Visit | None],
        after: Mapping[str, domain.Visit],
        facts: Mapping[str, Sequence[domain.TicketFact]],
    ) -> None:
        """Stored visits changed by the poll: its newly applied events as facts, one insert; a
        visit that moved to another office or day (its TicketIssued came after a later event),
        which its facts are found by, is replaced whole where it now belongs."""
        new_facts: list[tuple[domain.Visit, domain.TicketFact]] = []
        moved: list[domain.Visit] = []
        for ticket_id, visit in after.items():
            was = before.get(ticket_id)
            if was is None:
                continue
            if (visit.office_id, visit.local_day) != (was.office_id, was.local_day):
                moved.append(visit)
            else:
                new_facts += [(visit, f) for f in domain.new_facts(was, visit, facts[ticket_id])]
        await asyncio.gather(self.store.insert_facts(new_facts), self.store.replace_visits(moved))

    async def _apply_to_visits(
        self,
        by_ticket: Mapping[str, Sequence[Received]],
        base: Mapping[str, domain.Visit | None],
    ) -> tuple[
        dict[str, domain.Visit],
        dict[str, list[domain.TicketFact]],
        list[tuple[dict[str, object], list[Envelope]]],
    ]:
        """The visits these events change (ticket id -> new visit: a ticket's events of the poll
        applied with one copy), each ticket's events as facts, and the feedback requests their
        completions make, with the ticket's token digest as known after them; `base` is not changed."""
        changed: dict[str, domain.Visit] = {}
        ticket_facts: dict[str, list[domain.TicketFact]] = {}
        requests = []
        # Each office once (a cached read, but one await per event adds up over a poll).
        catalog = self.store.catalog
        offices = {
            office_id: await catalog.office(office_id)
            for office_id in {item.envelope.office_id for items in by_ticket.values() for item in items}
        }
        for ticket_id, items in by_ticket.items():
            facts = [
                domain.TicketFact(
                    event_id=str(envelope.event_id),
                    event_type=envelope.event_type,
                    occurred_at=envelope.occurred_at,
                    office_id=envelope.office_id,
                    aggregate_version=envelope.aggregate_version,
                    data=envelope.data,
                    local_day=calendar.office_day(offices[envelope.office_id], envelope.occurred_at),
                )
                for envelope in (item.envelope for item in items)
            ]
            ticket_facts[ticket_id] = facts
            visit = base.get(ticket_id)
            after = domain.apply_ticket_events(visit, facts)
            if after is not None:
                visit = changed[ticket_id] = after
            for item in items:
                data = item.data
                if (
                    isinstance(data, ServiceCompleted)
                    and data.next_service_id is None
                    and self.sealer is not None
                ):
                    envelope = item.envelope
                    local_day = calendar.office_day(offices[envelope.office_id], envelope.occurred_at)
                    request = self._feedback_request(envelope, data, self.sealer, local_day, visit)
                    if request is not None:
                        request[0][CREATED_FROM] = position_of(item)  # a replay of it publishes again
                        requests.append(request)
        return changed, ticket_facts, requests

    def _feedback_request(
        self,
        envelope: Envelope,
        data: ServiceCompleted,
        sealer: Sealer,
        visit_day: date,
        visit: domain.Visit | None,
    ) -> tuple[dict[str, object], list[Envelope]] | None:
        """One request per visit, sent through the notifier with a sealed link token; the ticket's own
        link (printed on it) and the window's rating screen answer the same request. A visit whose
        TicketIssued carried no contact gets no sealed token (nobody to send it to, and the seal is
        the largest CPU item of a request); one whose TicketIssued was not seen is sealed."""
        expires_at = envelope.occurred_at + timedelta(days=self.settings.expires_days)
        if expires_at <= self.clock.now():
            return None  # an old visit read again: its link would already be dead
        request_id = domain.request_id_for(data.ticket_id)
        token = new_citizen_token()
        event = self.emitter.event(
            FeedbackRequested(
                request_id=request_id,
                ticket_id=data.ticket_id,
                service_id=data.service_id,
                expires_at=expires_at,
                language=data.language,
                token_sealed=None if visit is not None and visit.has_contact is False else sealer.seal(token),
            ),
            office_id=envelope.office_id,
            aggregate_id=request_id,
            aggregate_version=1,
            cause=envelope,
        )
        request = domain.FeedbackRequest(
            request_id=request_id,
            ticket_id=data.ticket_id,
            office_id=envelope.office_id,
            service_id=data.service_id,
            visit_day=visit_day,
            window_no=data.window_no,
            number=data.number,
            operator_ref=data.operator_ref,
            language=data.language,
            token_digest=token_digest(token),
            ticket_token_digest=visit.ticket_token_digest if visit else None,
            expires_at=expires_at,
            requested_at=envelope.occurred_at,
            correlation_id=envelope.correlation_id,
        )
        return request_document(request), [event]

    async def record_online_applications(self, received: Sequence[Received]) -> None:
        """The portal's applications, counted on the office's local day they were filed."""
        applications = []
        for item in received:
            data: OnlineApplicationFiled = item.data
            office_id = item.envelope.office_id
            applications.append(
                domain.OnlineApplication(
                    application_id=data.application_id,
                    office_id=office_id,
                    service_id=data.service_id,
                    channel=data.channel,
                    after_office_visit=data.after_office_visit,
                    filed_at=data.filed_at,
                    local_day=await office_day(self.store.catalog, office_id, data.filed_at),
                )
            )
        await self.store.save_online_applications(applications)

    async def record_window(self, envelope: Envelope, data: WindowOpened) -> None:
        reported = domain.WindowState(
            office_id=envelope.office_id,
            window_no=data.window_no,
            zone_id=data.zone_id,
            operator_ref=data.operator_ref,
            state=WINDOW_STATE[envelope.event_type],
            order=(envelope.aggregate_version, envelope.occurred_at.isoformat()),
        )
        window = domain.window_after(await self.store.window(envelope.office_id, data.window_no), reported)
        if window is not None:
            await self.store.save_window(window)

    async def record_rating(self, envelope: Envelope, data: FeedbackGiven) -> None:
        """The rating counts in the numbers; a low one opens an alert for the supervisors."""
        given_day = await office_day(self.store.catalog, envelope.office_id, envelope.occurred_at)
        await self.store.save_rating(
            domain.Rating(
                ticket_id=data.ticket_id,
                event_id=str(envelope.event_id),
                office_id=envelope.office_id,
                request_id=data.request_id,
                service_id=data.service_id,
                operator_ref=data.operator_ref,
                window_no=data.window_no,
                rating=data.rating,
                tags=tuple(data.tags),
                given_at=envelope.occurred_at,
                given_day=given_day,
            )
        )
        if data.rating <= domain.ALERT_MAX_RATING and not self.settings.projections_only:
            await self._raise_alert(envelope, data)

    async def _raise_alert(self, envelope: Envelope, data: FeedbackGiven) -> None:
        visit = await self.store.visit(data.ticket_id)
        entries = domain.timeline(visit) if visit is not None else []
        alert_id = domain.alert_id_for(data.ticket_id)
        event = self.emitter.event(
            FeedbackAlertRaised(
                request_id=data.request_id,
                ticket_id=data.ticket_id,
                service_id=data.service_id,
                alert_id=alert_id,
                rating=data.rating,
                tags=data.tags,
                timeline=entries,
            ),
            office_id=envelope.office_id,
            aggregate_id=alert_id,
            aggregate_version=1,
            cause=envelope,
        )
        alert = domain.Alert(
            alert_id=alert_id,
            request_id=data.request_id,
            ticket_id=data.ticket_id,
            office_id=envelope.office_id,
            service_id=data.service_id,
            window_no=data.window_no,
            operator_ref=data.operator_ref,
            rating=data.rating,
            tags=tuple(data.tags),
            timeline=tuple(entry.model_dump(mode="json") for entry in entries),
            raised_at=envelope.occurred_at,
        )
        try:
            await self.store.alert_models.create(alert, [event])
        except AlreadyExists:
            return
        log.info("feedback alert raised", alert_id=alert_id, rating=data.rating)

    # ------------------------------------------------------------ citizens

    async def request_by_token(self, token: str) -> domain.FeedbackRequest:
        request = await self.store.request_by_token_digest(token_digest(token))
        if request is None or request.expires_at <= self.clock.now():
            raise domain.FeedbackLinkUnusable()
        return request

    async def give(self, token: str, answer: Answer) -> domain.FeedbackRequest:
        """The citizen's rating from the SMS/e-mail link, once per visit."""
        request = await self.request_by_token(token)
        return await self._answer(request.request_id, answer, domain.FeedbackLinkUnusable)

    async def request_by_ticket_token(self, token: str) -> domain.FeedbackRequest:
        """The visit's request behind the rating link printed on its ticket (the ticket's token)."""
        request = await self.store.request_by_ticket_token_digest(token_digest(token))
        if request is None or request.expires_at <= self.clock.now():
            raise domain.FeedbackLinkUnusable()
        return request

    async def give_by_ticket(self, token: str, answer: Answer) -> domain.FeedbackRequest:
        request = await self.request_by_ticket_token(token)
        return await self._answer(request.request_id, answer, domain.VisitAlreadyRated)

    async def waiting_at_window(self, office_id: str, window_no: int) -> domain.FeedbackRequest | None:
        """The visit a window's rating screen offers: the last one completed there in the last
        minutes and not rated yet (from any link)."""
        since = self.clock.now() - timedelta(minutes=self.settings.window_rating_minutes)
        return await self.store.latest_request_at_window(office_id, window_no, since)

    async def give_at_window(
        self, office_id: str, window_no: int, request_id: str, answer: Answer
    ) -> domain.FeedbackRequest:
        try:
            request = await self.store.request_models.load(request_id)
        except NotFound:
            raise domain.FeedbackLinkUnusable() from None
        if (request.office_id, request.window_no) != (office_id, window_no):
            raise domain.FeedbackLinkUnusable()
        return await self._answer(request_id, answer, domain.VisitAlreadyRated)

    async def _answer(
        self, request_id: str, answer: Answer, answered: type[Exception]
    ) -> domain.FeedbackRequest:
        """FeedbackGiven through the request's outbox; `answered` is raised when the visit was rated."""

        def decide(current: domain.FeedbackRequest) -> tuple[domain.FeedbackRequest, list[Envelope]]:
            now = self.clock.now()
            if current.state == "answered":
                raise answered()
            given = domain.answer(
                current, rating=answer.rating, tags=answer.tags, comment=answer.comment, now=now
            )
            event = self.emitter.event(
                FeedbackGiven(
                    request_id=current.request_id,
                    ticket_id=current.ticket_id,
                    service_id=current.service_id,
                    rating=answer.rating,
                    tags=list(given.tags),
                    has_comment=given.comment is not None,
                    window_no=current.window_no,
                    operator_ref=current.operator_ref,
                ),
                office_id=current.office_id,
                aggregate_id=current.request_id,
                aggregate_version=current.rev + 1,
                correlation_id=current.correlation_id,
                occurred_at=now,
            )
            return given, [event]

        given = await self.store.request_models.change(request_id, decide)
        if given.comment:
            await self.store.mark_text("requests", request_id, self.clock.now().date())
        return given

    async def forget_old_texts(self) -> int:
        """Comments and alert notes written `text_retention_days` ago are erased (looking back
        TEXT_LOOKBACK_DAYS more, so an outage catches up); the rating, tags and numbers stay."""
        now = self.clock.now()
        newest = (now - timedelta(days=self.settings.text_retention_days)).date()
        forgotten = 0
        for back in range(TEXT_LOOKBACK_DAYS):
            for marker in await self.store.texts_written_on(newest - timedelta(days=back)):
                kind, aggregate_id = str(marker["kind"]), str(marker["_id"]).split(":", 1)[1]
                store, field = (
                    (self.store.requests, "comment") if kind == "requests" else (self.store.alerts, "note")
                )

                def decide(current: Document, field: str = field) -> tuple[Document, list[Any]]:
                    return {field: None, "text_forgotten_at": now}, []

                with contextlib.suppress(NotFound):
                    await store.change(aggregate_id, decide)
                    forgotten += 1
                await self.store.forget_marker(str(marker["_id"]))
        return forgotten

    async def fold_visit_facts(self) -> int:
        """The day-close of the visits: the facts of the visits of days that are over are folded
        into their visit documents and deleted (visit_facts holds only the last days' events);
        how many were folded."""
        newest = self.clock.now().date() - timedelta(days=2)
        folded = 0
        for back in range(FACT_LOOKBACK_DAYS):
            folded += await self.store.fold_facts_of_day(newest - timedelta(days=back))
        return folded

    # ------------------------------------------------------------ supervisors: alerts

    async def alert(self, alert_id: str) -> domain.Alert:
        return await self.store.alert_models.load(alert_id)

    async def acknowledge_alert(self, alert_id: str, *, by: str) -> domain.Alert:
        def decide(current: domain.Alert) -> tuple[domain.Alert, list[Envelope]]:
            return domain.acknowledge(current, by=by, now=self.clock.now()), []

        return await self.store.alert_models.change(alert_id, decide)

    async def resolve_alert(self, alert_id: str, *, by: str, note: str) -> domain.Alert:
        def decide(current: domain.Alert) -> tuple[domain.Alert, list[Envelope]]:
            resolved = domain.resolve(current, by=by, note=note, now=self.clock.now())
            event = self.emitter.event(
                FeedbackAlertResolved(
                    request_id=current.request_id,
                    ticket_id=current.ticket_id,
                    service_id=current.service_id,
                    alert_id=current.alert_id,
                    resolved_by=by,
                    has_note=bool(note.strip()),  # the note stays here (personal data, 90 days)
                ),
                office_id=current.office_id,
                aggregate_id=current.alert_id,
                aggregate_version=current.rev + 1,
            )
            return resolved, [event]

        resolved = await self.store.alert_models.change(alert_id, decide)
        await self.store.mark_text("alerts", alert_id, self.clock.now().date())
        return resolved


# ---------------------------------------------------------------- the office's numbers

CSV_COLUMNS = (
    "day",
    "service_id",
    "operator_ref",
    "visits",
    "served_visits",
    "no_shows",
    "cancelled",
    "no_show_rate",
    "served_legs",
    "wait_mean_seconds",
    "wait_p50_seconds",
    "wait_p90_seconds",
    "service_mean_seconds",
    "within_sla",
    "within_sla_share",
    "ratings",
    "rating_mean",
    "rating_1",
    "rating_2",
    "rating_3",
    "rating_4",
    "rating_5",
    "served",
    "documents_missing",
    "sent_online",
    "refused",
    "online_could_have_done",
)


class Monitoring:
    def __init__(
        self, store: FeedbackStore, *, expires_days: int, max_export_days: int, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.store = store
        self.clock = clock
        self.expires_days = expires_days
        self.max_export_days = max_export_days

    async def today(self, office_id: str, now: datetime | None = None) -> date:
        return await office_day(self.store.catalog, office_id, now or self.clock.now())

    async def _targets(self, office_id: str) -> tuple[domain.SlaTargets, set[str]]:
        office = await self.store.catalog.office(office_id)
        sla = (
            domain.SlaTargets(office.sla.max_wait_minutes, office.sla.appointment_max_wait_minutes)
            if office is not None
            else domain.SlaTargets()
        )
        services = await self.store.catalog.services_in(office_id)
        return sla, {s.service_id for s in services if s.online.available}

    async def _day_facts(self, office_id: str, day: date) -> tuple[list[domain.Visit], dict[str, int]]:
        visits = await self.store.visits_on(office_id, day)
        # A rating arrives at most `expires_days` after the visit (a day more for the time zone edge).
        rating_days = [day + timedelta(days=n) for n in range(self.expires_days + 2)]
        return visits, await self._ratings(office_id, rating_days)

    async def _ratings(self, office_id: str, days: list[date]) -> dict[str, int]:
        """Ticket id -> rating, of the ratings given on these days."""
        return {given.ticket_id: given.rating for given in await self.store.ratings_given_on(office_id, days)}

    async def kpis(self, office_id: str, day: date, scope: domain.KpiFilter) -> dict[str, Any]:
        visits, ratings = await self._day_facts(office_id, day)
        sla, online = await self._targets(office_id)
        figures = domain.compute_kpis(visits, ratings, sla=sla, online_services=online, scope=scope)
        return {
            "office_id": office_id,
            "day": day.isoformat(),
            "service_id": scope.service_id,
            "operator_ref": scope.operator_ref,
            "sla_max_wait_minutes": sla.max_wait_minutes,
            "sla_appointment_max_wait_minutes": sla.appointment_max_wait_minutes,
            **figures,
        }

    async def csv_export(self, office_id: str, start: date, end: date) -> str:
        """One row per day for the whole office, then one per service and one per operator seen."""
        days = domain.days_between(start, end, limit=self.max_export_days)
        sla, online = await self._targets(office_id)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for day in days:
            visits, ratings = await self._day_facts(office_id, day)
            for scope in _scopes(visits):
                figures = domain.compute_kpis(visits, ratings, sla=sla, online_services=online, scope=scope)
                writer.writerow(_csv_row(day, scope, figures))
        return out.getvalue()

    async def history(self, office_id: str, start: date, end: date) -> dict[str, Any]:
        """The office over [start, end]: totals, per service and operator, per day, week and month."""
        days = domain.days_between(start, end, limit=self.max_export_days)
        sla, online = await self._targets(office_id)
        visits = await self.store.visits_over(office_id, days)
        later = [
            end + timedelta(days=n + 1)
            for n in range(self.expires_days + 1)
            if end < date.max - timedelta(n + 1)
        ]
        rating_days = days + later
        ratings = await self._ratings(office_id, rating_days)
        figures = domain.compute_history(
            visits, ratings, start=start, end=end, sla=sla, online_services=online
        )
        return {"office_id": office_id, **figures}

    async def digital_share(self, office_id: str, start: date, end: date) -> dict[str, Any]:
        """Online vs in-office applications of the office over [start, end], per service."""
        days = domain.days_between(start, end, limit=self.max_export_days)
        _, online = await self._targets(office_id)
        visits = await self.store.visits_over(office_id, days)
        applications = await self.store.online_applications_over(office_id, days)
        figures = domain.compute_digital_share(visits, applications, online_services=online)
        return {"office_id": office_id, "from": start.isoformat(), "to": end.isoformat(), **figures}

    async def live(self, office_id: str, now: datetime | None = None) -> dict[str, Any]:
        now = now or self.clock.now()
        today = await self.today(office_id, now)
        visits = await self.store.visits_on(office_id, today)
        waiting, longest = domain.waiting_now(visits, now)
        windows = await self.store.open_windows(office_id)
        given = [each.rating for each in await self.store.ratings_given_on(office_id, [today])]
        return {
            "office_id": office_id,
            "day": today.isoformat(),
            "as_of": now.isoformat(),
            "visits_today": len(visits),
            "served_today": sum(1 for v in visits if v.legs),
            "waiting_now": waiting,
            "longest_wait_seconds": longest,
            "open_windows": len(windows),
            "open_window_numbers": sorted(w.window_no for w in windows),
            "ratings_today": len(given),
            "rating_mean_today": round(sum(given) / len(given), 2) if given else None,
        }


def _scopes(visits: list[domain.Visit]) -> list[domain.KpiFilter]:
    services = domain.served_services(visits)
    operators = sorted({leg.operator_ref for v in visits for leg in v.legs})
    return (
        [domain.KpiFilter()]
        + [domain.KpiFilter(service_id=s) for s in services]
        + [domain.KpiFilter(operator_ref=o) for o in operators]
    )


def _csv_row(day: date, scope: domain.KpiFilter, figures: dict[str, Any]) -> list[Any]:
    flat = {
        "day": day.isoformat(),
        "service_id": scope.service_id or "",
        "operator_ref": scope.operator_ref or "",
        **{k: v for k, v in figures.items() if k not in ("rating_distribution", "outcomes")},
        **{f"rating_{score}": count for score, count in figures["rating_distribution"].items()},
        **figures["outcomes"],
    }
    return ["" if flat.get(column) is None else flat[column] for column in CSV_COLUMNS]
