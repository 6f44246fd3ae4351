"""Idempotency-Key on a rating: a retry after a lost answer gets the first answer, not 'unusable link'."""

from __future__ import annotations

import uuid

from feedback.main import create_app
from feedback.settings import Settings
from servicekit.testing import Infra, probe, publish, running

from .feedback_scenario import catalog_arrived, catalog_events
from .test_feedback_loop import requested_for, today_ticket, token_from


async def test_a_retried_rating_with_one_key_answers_as_the_first_did(
    infra: Infra, settings: Settings, keypair: tuple[str, str]
) -> None:
    visit = today_ticket("t-key-1", "А030", 30).served(wait=300, service=300, window=1, operator="op-1")
    app = create_app(settings)
    async with running(app) as client, probe(infra, settings.topic("feedback.feedback")) as topic:
        await publish(infra.kafka, settings.topic_prefix, catalog_events())
        await catalog_arrived(app)
        await publish(infra.kafka, settings.topic_prefix, visit.events)
        token = await token_from((await topic.wait_for(requested_for("t-key-1")))[0], keypair[1])
        key = {"Idempotency-Key": uuid.uuid4().hex}
        answer = {"rating": 5, "tags": ["politeness"]}
        first = await client.post(f"/feedback/{token}", json=answer, headers=key)
        again = await client.post(f"/feedback/{token}", json=answer, headers=key)
        assert first.status_code == again.status_code == 201, (first.text, again.text)
        assert again.json()["request_id"] == first.json()["request_id"] and again.json()["rating"] == 5
        assert again.json()["answered_at"][:23] == first.json()["answered_at"][:23]  # stored to the ms
        other = await client.post(f"/feedback/{token}", json={"rating": 1}, headers=key)
        assert other.status_code == 422 and "different request" in other.json()["reason"]
        unkeyed = await client.post(f"/feedback/{token}", json=answer)
        assert unkeyed.status_code == 404  # without the key: a used link, told apart from nothing
        await topic.wait_for(lambda e: e.event_type == "feedback.FeedbackGiven")
        given = [e for e in topic.of_type("feedback.FeedbackGiven") if e.data["ticket_id"] == "t-key-1"]
        assert len(given) == 1
