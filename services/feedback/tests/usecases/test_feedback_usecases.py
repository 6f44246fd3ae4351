"""Feedback's use cases on in-memory stand-ins (servicekit.fakes): no broker, no store process.

The visit's events go straight to `Feedback.record_ticket_events`, as the consumer would hand
them over; the rating and the alert follow through the real store code on `memory_db()`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from contracts import Envelope, decode, encode
from feedback.domain import FeedbackLinkUnusable
from feedback.settings import Settings
from feedback.store import FeedbackStore
from feedback.usecases import Answer, Feedback
from servicekit.fakes import RecordingProducer, feed, memory_db
from servicekit.kafka import Received
from servicekit.sealing import Unsealer, generate_keypair, new_citizen_token, token_digest

from ..integration.feedback_scenario import catalog_events
from ..integration.test_feedback_loop import today_ticket


@pytest.fixture
async def feedback() -> tuple[Feedback, str]:
    public, private = generate_keypair()
    store = FeedbackStore(memory_db())
    await store.ensure_indexes()
    await feed(store.catalog, *(decode(encode(envelope))[1] for envelope in catalog_events()))
    settings = Settings.model_validate(
        {"ONEWINDOW_JWT_SECRET": "usecase-tests-" + "x" * 32, "ONEWINDOW_NOTIFIER_PUBLIC_KEY": public}
    )
    return Feedback(store, settings, publish_all=RecordingProducer().publish_all), private


def published(usecases: Feedback, event_type: str) -> list[Envelope]:
    """What the consumer published itself (the feedback requests of its polls)."""
    producer = getattr(usecases.publish_all, "__self__", None)
    assert isinstance(producer, RecordingProducer)
    return producer.of_type(event_type)


def received(envelopes: list[Envelope]) -> list[Received]:
    return [Received(envelope, decode(encode(envelope))[1], None) for envelope in envelopes]


def outbox_of(doc: dict[str, Any]) -> list[Envelope]:
    return [Envelope.model_validate(entry["event"]) for entry in doc["outbox"]]


async def test_a_served_visit_asks_once_and_a_low_rating_raises_an_alert_with_the_timeline(
    feedback: tuple[Feedback, str],
) -> None:
    usecases, private = feedback
    visit = today_ticket("t-uc-1", "А001", 40).served(wait=300, service=420, window=1, operator="op-1")
    await usecases.record_ticket_events(received(visit.events))
    await usecases.record_ticket_events(received(visit.events))  # redelivered: nothing new
    [request] = await usecases.store.requests.collection.find({}).to_list()
    # Published by the consumer with its poll, not with the redelivered one (another record).
    [asked] = published(usecases, "feedback.FeedbackRequested")
    assert not request["outbox"]
    assert asked.event_type == "feedback.FeedbackRequested" and asked.correlation_id == "visit-t-uc-1"

    token = Unsealer(private).unseal(asked.data["token_sealed"])
    answered = await usecases.give(token, Answer(rating=1, tags=["waiting_time"], comment="slow"))
    given = outbox_of(await usecases.store.requests.load(answered.request_id))[-1]
    assert given.event_type == "feedback.FeedbackGiven" and given.data["has_comment"] is True
    with pytest.raises(FeedbackLinkUnusable):
        await usecases.give(token, Answer(rating=5, tags=[], comment=""))

    await usecases.record_rating(given, decode(encode(given))[1])
    [alert] = await usecases.store.alerts_of("kzn-kirov-moskov", "open")
    assert [entry["what"] for entry in alert.timeline][:2] == [
        "ticketing.TicketIssued",
        "ticketing.TicketCalled",
    ]
    stored = await usecases.store.alerts.load(alert.alert_id)
    assert outbox_of(stored)[0].causation_id == str(given.event_id)


async def test_a_visit_applied_in_any_order_ends_in_the_same_facts(feedback: tuple[Feedback, str]) -> None:
    usecases, _ = feedback
    visit = today_ticket("t-uc-2", "А002", 30).served(wait=120, service=300, window=2, operator="op-2")
    await usecases.record_ticket_events(received(list(reversed(visit.events))))
    backwards = await usecases.store.visit("t-uc-2")
    await usecases.store.visits.delete_many({})
    await usecases.record_ticket_events(received(visit.events))
    forwards = await usecases.store.visit("t-uc-2")
    assert backwards is not None and forwards is not None
    assert sorted(backwards.applied) == sorted(forwards.applied)  # a set of event ids
    assert replace(backwards, applied=()) == replace(forwards, applied=())


def counting_seals(usecases: Feedback, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The values `usecases` seals from now on (each still sealed for real)."""
    sealer = usecases.sealer
    assert sealer is not None
    sealed: list[str] = []
    seal = sealer.seal

    def counted(value: str) -> str:
        sealed.append(value)
        return seal(value)

    monkeypatch.setattr(sealer, "seal", counted)
    return sealed


async def test_a_visit_whose_ticket_left_no_contact_asks_without_sealing_a_token(
    feedback: tuple[Feedback, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    usecases, _ = feedback
    sealed = counting_seals(usecases, monkeypatch)
    ticket_token = new_citizen_token()
    visit = today_ticket(
        "t-uc-3", "А003", 4, contact_sealed=None, token_digest=token_digest(ticket_token)
    ).served(wait=60, service=120, window=2, operator="op-2")
    # Issued in one poll, completed in a later one: the visit read back from its document says so.
    await usecases.record_ticket_events(received(visit.events[:1]))
    stored = await usecases.store.visits.find_one({"_id": "t-uc-3"})
    assert stored is not None and stored["has_contact"] is False
    await usecases.record_ticket_events(received(visit.events[1:]))

    [asked] = published(usecases, "feedback.FeedbackRequested")
    assert asked.data["token_sealed"] is None and asked.event_version == 2
    assert sealed == []
    # The ticket's printed link and the window's screen answer the request all the same.
    offered = await usecases.waiting_at_window("kzn-kirov-moskov", 2)
    assert offered is not None and offered.request_id == "fr-t-uc-3"
    rated = await usecases.give_by_ticket(ticket_token, Answer(rating=4, tags=[], comment=""))
    assert rated.request_id == "fr-t-uc-3"


async def test_a_completion_whose_ticket_feedback_never_saw_is_sealed_as_before(
    feedback: tuple[Feedback, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    usecases, private = feedback
    sealed = counting_seals(usecases, monkeypatch)
    visit = today_ticket("t-uc-4", "А004", 30, contact_sealed=None).served(
        wait=60, service=120, window=2, operator="op-2"
    )
    await usecases.record_ticket_events(received(visit.events[1:]))  # its TicketIssued never came

    [asked] = published(usecases, "feedback.FeedbackRequested")
    assert Unsealer(private).unseal(asked.data["token_sealed"]) == sealed[0]
    assert len(sealed) == 1


async def test_a_visit_whose_ticket_left_a_contact_is_sealed(
    feedback: tuple[Feedback, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    usecases, private = feedback
    sealed = counting_seals(usecases, monkeypatch)
    visit = today_ticket("t-uc-5", "А005", 30).served(wait=60, service=120, window=2, operator="op-2")
    await usecases.record_ticket_events(received(visit.events))

    [asked] = published(usecases, "feedback.FeedbackRequested")
    assert Unsealer(private).unseal(asked.data["token_sealed"]) == sealed[0]
    assert (await usecases.store.visits.find_one({"_id": "t-uc-5"}) or {})["has_contact"] is True
