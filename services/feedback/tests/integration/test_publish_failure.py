"""Feedback requests whose publish fails while Kafka is up are not lost: the outbox relay sends them."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from aiokafka.errors import KafkaTimeoutError
from contracts import Envelope
from feedback.main import create_app
from feedback.settings import Settings
from servicekit.kafka import EventProducer
from servicekit.testing import Infra, eventually, probe, publish, running

from .feedback_scenario import catalog_arrived, catalog_events, window_opened
from .test_feedback_loop import requested_for, today_ticket


async def test_a_request_whose_event_cannot_be_published_with_the_poll_goes_out_through_the_outbox(
    infra: Infra, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused: list[int] = []

    async def refuse(self: EventProducer, envelopes: Sequence[Envelope]) -> None:
        refused.append(len(envelopes))  # the broker is up, this producer call fails (as on a lost leader)
        raise KafkaTimeoutError()

    monkeypatch.setattr(EventProducer, "publish_all", refuse)  # the relay's single sends still work
    visit = today_ticket("t-pub-1", "А101", 30).served(wait=120, service=300, window=1, operator="op-1")
    app = create_app(settings)
    async with (
        running(app),
        probe(infra, settings.topic("feedback.feedback"), settings.topic("ticketing.ticket.dlt")) as topics,
    ):
        await publish(infra.kafka, settings.topic_prefix, catalog_events())
        await catalog_arrived(app)
        await publish(
            infra.kafka, settings.topic_prefix, [window_opened(1, "op-1", visit.issued_at), *visit.events]
        )
        [requested] = await topics.wait_for(requested_for("t-pub-1"))
        stored = await app.state.store.requests.collection.find_one({"ticket_id": "t-pub-1"})
        assert refused and stored is not None and stored["_id"] == requested.aggregate_id
        consumer = app.state.runtime.routers[0].consumer

        async def committed_all() -> bool:
            return consumer is not None and sum(consumer.lag().values()) == 0 and bool(consumer.committed)

        await eventually(committed_all, what="the ticket records committed")
    dead = [record for record in topics.raw if record.topic.endswith(".dlt")]
    assert dead == []  # acknowledged, not dead-lettered after retries
    assert len(topics.of_type("feedback.FeedbackRequested")) == 1
