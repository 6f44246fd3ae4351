"""What the feedback service consumes: ticket lifecycle, windows, catalog, and its own ratings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from contracts import Envelope
from contracts.calendar import local_day
from contracts.feedback import FeedbackAlertRaised, FeedbackGiven, FeedbackRequested
from contracts.ticketing import (
    ServiceCompleted,
    ServiceStarted,
    SlaBreached,
    TicketCalled,
    TicketCancelled,
    TicketIssued,
    TicketNoShow,
    TicketTransferred,
    WindowClosed,
    WindowOpened,
    WindowPaused,
    WindowResumed,
)
from servicekit.kafka import EventRouter, Received
from servicekit.logging import get_logger
from servicekit.sealing import Sealer, new_citizen_token, token_digest
from servicekit.store import AlreadyExists

from feedback import domain
from feedback.settings import Settings
from feedback.store import FeedbackStore

log = get_logger("feedback.handlers")

TICKET_EVENTS = (
    TicketIssued,
    TicketCalled,
    TicketNoShow,
    ServiceStarted,
    ServiceCompleted,
    TicketTransferred,
    TicketCancelled,
    SlaBreached,
)
WINDOW_STATE = {
    WindowOpened.EVENT_TYPE: "open",
    WindowPaused.EVENT_TYPE: "paused",
    WindowResumed.EVENT_TYPE: "open",
    WindowClosed.EVENT_TYPE: "closed",
}
# Until the catalog told us the office's zone: where OneWindow started (Kazan).
DEFAULT_TIMEZONE = ZoneInfo("Europe/Moscow")


def build_event_router(store: FeedbackStore, settings: Settings) -> EventRouter:
    router = EventRouter()
    store.catalog.subscribe(router)
    sealer = None if settings.projections_only else Sealer(settings.notifier_public_key)

    async def office_day(office_id: str, at: datetime) -> date:
        office = await store.catalog.office(office_id)
        if office is not None:
            return local_day(office, at)
        return at.astimezone(DEFAULT_TIMEZONE).date()

    @router.on_batch(*TICKET_EVENTS)
    async def on_ticket_events(received: Sequence[Received]) -> None:
        """A poll's ticket events land in the visits' facts (idempotent per event_id): one
        parallel read of the visits it touches, one bulk write, one insert of the feedback requests."""
        ticket_ids = list(dict.fromkeys(str(item.envelope.data["ticket_id"]) for item in received))
        visits = await store.visits_by_id(ticket_ids)
        stored = set(visits)
        changed: dict[str, dict[str, object]] = {}
        requests = []
        for item in received:
            envelope, data = item.envelope, item.data
            fact = domain.TicketFact(
                event_id=str(envelope.event_id),
                event_type=envelope.event_type,
                occurred_at=envelope.occurred_at,
                office_id=envelope.office_id,
                aggregate_version=envelope.aggregate_version,
                data=envelope.data,
                local_day=await office_day(envelope.office_id, envelope.occurred_at),
            )
            ticket_id = str(envelope.data["ticket_id"])
            visit = domain.apply_ticket_event(visits.get(ticket_id), fact)
            if visit is not None:
                visits[ticket_id] = changed[ticket_id] = visit
            if isinstance(data, ServiceCompleted) and data.next_service_id is None and sealer is not None:
                request = await feedback_request(envelope, data, sealer)
                if request is not None:
                    requests.append(request)
        await store.save_visits(list(changed.values()), stored)
        # Redelivered: the first request (and its token) stands, the duplicate insert is dropped.
        await store.requests.create_many(requests)

    async def feedback_request(
        envelope: Envelope, data: ServiceCompleted, sealer: Sealer
    ) -> tuple[dict[str, object], list[Envelope]] | None:
        """One request per visit, sent through the notifier with a sealed link token."""
        expires_at = envelope.occurred_at + timedelta(days=settings.expires_days)
        if expires_at <= datetime.now(UTC):
            return None  # an old visit read again: its link would already be dead
        request_id = domain.request_id_for(data.ticket_id)
        token = new_citizen_token()
        event = envelope.caused(
            FeedbackRequested(
                request_id=request_id,
                ticket_id=data.ticket_id,
                service_id=data.service_id,
                expires_at=expires_at,
                language=data.language,
                token_sealed=sealer.seal(token),
            ),
            producer=settings.service_name,
            aggregate_id=request_id,
            aggregate_version=1,
        )
        doc = {
            "_id": request_id,
            "ticket_id": data.ticket_id,
            "office_id": envelope.office_id,
            "service_id": data.service_id,
            "visit_day": (await office_day(envelope.office_id, envelope.occurred_at)).isoformat(),
            "window_no": data.window_no,
            "operator_ref": data.operator_ref,
            "language": data.language,
            "token_digest": token_digest(token),
            "expires_at": expires_at,
            "requested_at": envelope.occurred_at,
            "state": "requested",
            "correlation_id": envelope.correlation_id,
        }
        return doc, [event]

    @router.on(WindowOpened)
    @router.on(WindowPaused)
    @router.on(WindowResumed)
    @router.on(WindowClosed)
    async def on_window_event(envelope: Envelope, data: WindowOpened) -> None:
        key = f"{envelope.office_id}:{data.window_no}"
        current = await store.window(key)
        order = [envelope.aggregate_version, envelope.occurred_at.isoformat()]
        if current is not None and current["order"] >= order:
            return  # a duplicate or an older state
        await store.save_window(
            {
                "_id": key,
                "office_id": envelope.office_id,
                "window_no": data.window_no,
                "zone_id": data.zone_id,
                "operator_ref": data.operator_ref,
                "state": WINDOW_STATE[envelope.event_type],
                "order": order,
            }
        )

    @router.on(FeedbackGiven)
    async def on_feedback_given(envelope: Envelope, data: FeedbackGiven) -> None:
        """The rating counts in the numbers; a low one opens an alert for the supervisors."""
        given_day = await office_day(envelope.office_id, envelope.occurred_at)
        await store.save_rating(
            {
                "_id": data.ticket_id,
                "event_id": str(envelope.event_id),
                "office_id": envelope.office_id,
                "request_id": data.request_id,
                "service_id": data.service_id,
                "operator_ref": data.operator_ref,
                "window_no": data.window_no,
                "rating": data.rating,
                "tags": data.tags,
                "given_at": envelope.occurred_at,
                "given_day": given_day.isoformat(),
            }
        )
        if data.rating <= domain.ALERT_MAX_RATING and not settings.projections_only:
            await raise_alert(envelope, data)

    async def raise_alert(envelope: Envelope, data: FeedbackGiven) -> None:
        visit = await store.visit(data.ticket_id)
        entries = domain.timeline(visit) if visit is not None else []
        alert_id = domain.alert_id_for(data.ticket_id)
        event = envelope.caused(
            FeedbackAlertRaised(
                request_id=data.request_id,
                ticket_id=data.ticket_id,
                service_id=data.service_id,
                alert_id=alert_id,
                rating=data.rating,
                tags=data.tags,
                timeline=entries,
            ),
            producer=settings.service_name,
            aggregate_id=alert_id,
            aggregate_version=1,
        )
        doc = {
            "_id": alert_id,
            "alert_id": alert_id,
            "request_id": data.request_id,
            "ticket_id": data.ticket_id,
            "office_id": envelope.office_id,
            "service_id": data.service_id,
            "window_no": data.window_no,
            "operator_ref": data.operator_ref,
            "rating": data.rating,
            "tags": data.tags,
            "timeline": [entry.model_dump(mode="json") for entry in entries],
            "raised_at": envelope.occurred_at,
            "state": "open",
        }
        try:
            await store.alerts.create(doc, [event])
        except AlreadyExists:
            return
        log.info("feedback alert raised", alert_id=alert_id, rating=data.rating)

    return router
