"""A visit's later events are stored as facts of their own and folded in when read: the same
events give the same visits, KPIs, history and alert timelines whether they came in one poll or
one per poll (each poll redelivering the one before, nothing kept in memory between polls, as
after a crash between the write and the commit), on the real store; and the day-close that folds
the facts into the visits changes none of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts import Envelope, decode, encode
from feedback import domain
from feedback.settings import Settings
from feedback.store import FeedbackStore
from feedback.usecases import Feedback, Monitoring
from servicekit.fakes import RecordingProducer, feed
from servicekit.kafka import Received

from .feedback_scenario import OFFICE, SERVICE_OFFLINE, SERVICE_ONLINE, Ticket, catalog_events
from .test_fixture_day_and_replay import DAY, fixture_day


def events_of_the_day() -> tuple[list[Envelope], list[Envelope]]:
    """The fixture day's tickets interleaved by time, plus a visit in two services and one issued
    just before midnight whose call is delivered before its TicketIssued (its first poll files
    it under the next day, the TicketIssued moves it back); and the day's ratings."""
    tickets, ratings = fixture_day()
    two_services = Ticket("v13", "А013", SERVICE_ONLINE, datetime(2025, 3, 10, 9, tzinfo=UTC), DAY)
    two_services.served(wait=200, service=300, window=1, operator="op-1", next_service_id=SERVICE_OFFLINE)
    two_services.served(wait=100, service=200, window=2, operator="op-2")
    midnight = Ticket("v14", "А014", SERVICE_ONLINE, datetime(2025, 3, 10, 20, 55, tzinfo=UTC), DAY)
    midnight.served(wait=600, service=120, window=1, operator="op-1")  # called 00:05 in Kazan
    issued, called, *rest = midnight.events
    midnight.events = [called, issued, *rest]
    timed = sorted((e for t in [*tickets, two_services] for e in t.events), key=lambda e: e.occurred_at)
    return [*timed, *midnight.events], ratings


def received(envelopes: list[Envelope]) -> list[Received]:
    # No record: nothing is kept in memory between polls, each poll reads what is stored.
    return [Received(envelope, decode(encode(envelope))[1], None) for envelope in envelopes]


@dataclass
class Seen:
    visits: list[domain.Visit]
    kpis: list[dict[str, Any]]
    history: dict[str, Any]
    timelines: dict[str, Any]


async def applied(db: Any, settings: Settings, polls: list[list[Envelope]], ratings: list[Envelope]) -> Seen:
    """The polls applied in turn to a fresh store, then what the readers make of it."""
    store = FeedbackStore(db)
    await store.ensure_indexes()
    await feed(store.catalog, *(decode(encode(envelope))[1] for envelope in catalog_events()))
    feedback = Feedback(store, settings, publish_all=RecordingProducer().publish_all)
    for poll in polls:
        await feedback.record_ticket_events(received(poll))
    for rating in ratings:  # low ones raise alerts with the visit's timeline (`store.visit`)
        await feedback.record_rating(rating, decode(encode(rating))[1])
    return await seen(store, settings)


async def seen(store: FeedbackStore, settings: Settings) -> Seen:
    monitoring = Monitoring(
        store, expires_days=settings.expires_days, max_export_days=settings.max_export_days
    )
    scopes = [
        domain.KpiFilter(),
        domain.KpiFilter(service_id=SERVICE_ONLINE),
        domain.KpiFilter(operator_ref="op-1"),
    ]
    alerts = await store.alerts_of(OFFICE, None)
    return Seen(
        visits=sorted(await store.visits_on(OFFICE, DAY), key=lambda v: v.ticket_id),
        kpis=[
            await monitoring.kpis(OFFICE, day, scope) for day in (DAY, DAY + timedelta(1)) for scope in scopes
        ],
        history=await monitoring.history(OFFICE, DAY - timedelta(days=1), DAY + timedelta(days=1)),
        timelines={alert.ticket_id: alert.timeline for alert in alerts},
    )


async def test_a_day_s_events_in_one_poll_or_one_by_one_across_polls_read_the_same(
    mongo_db: Any, settings: Settings
) -> None:
    events, ratings = events_of_the_day()
    client = mongo_db.client
    whole = await applied(client[f"{mongo_db.name}_whole"], settings, [events], ratings)
    try:
        split_db = client[f"{mongo_db.name}_split"]
        # Event by event, each poll redelivering the event before it (written, never committed).
        polls = [events[max(0, n - 1) : n + 1] for n in range(len(events))]
        split = await applied(split_db, settings, polls, ratings)
        store = FeedbackStore(split_db)
        facts = await store.visit_facts.count_documents({})
        assert len(whole.visits) == 14 and whole.visits[-1].ticket_id == "v14"
        assert facts > 0 and await store.visits.count_documents({}) == 14
        assert split.visits == whole.visits
        assert split.kpis == whole.kpis and whole.kpis[0]["visits"] == 14
        assert split.history == whole.history
        assert split.timelines == whole.timelines and len(whole.timelines) == 2
        for visit in whole.visits:
            assert await store.visit(visit.ticket_id) == visit
            assert len(set(visit.applied)) == len(visit.applied)

        # The day-close folds the facts into their visits: nothing left, nothing changed; late
        # redeliveries after it add nothing.
        assert await store.fold_facts_of_day(DAY) == facts
        assert await store.visit_facts.count_documents({}) == 0
        assert await seen(store, settings) == split
        await Feedback(store, settings).record_ticket_events(received(events[-10:]))
        assert await store.visit_facts.count_documents({}) == 0
        assert await seen(store, settings) == split
    finally:
        for name in ("whole", "split"):
            await client.drop_database(f"{mongo_db.name}_{name}")
