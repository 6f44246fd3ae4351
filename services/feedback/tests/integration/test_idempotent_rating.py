"""Idempotency-Key on a rating: a retry after a lost answer gets the first answer, not 'unusable link'."""

from __future__ import annotations

import uuid

from feedback.main import create_app
from feedback.settings import Settings
from servicekit.sealing import new_citizen_token, token_digest
from servicekit.testing import Infra, probe, publish, running, staff_headers

from .feedback_scenario import OFFICE, catalog_arrived, catalog_events
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
        assert again.json() == first.json() and again.json()["rating"] == 5
        other = await client.post(f"/feedback/{token}", json={"rating": 1}, headers=key)
        assert other.status_code == 422 and "different request" in other.json()["reason"]
        unkeyed = await client.post(f"/feedback/{token}", json=answer)
        assert unkeyed.status_code == 404  # without the key: a used link, told apart from nothing
        await topic.wait_for(lambda e: e.event_type == "feedback.FeedbackGiven")
        given = [e for e in topic.of_type("feedback.FeedbackGiven") if e.data["ticket_id"] == "t-key-1"]
        assert len(given) == 1


async def test_the_ticket_link_and_the_window_screen_answer_a_keyed_retry_as_the_first_time(
    infra: Infra, settings: Settings
) -> None:
    """The QR on the ticket (/r/{token}) and the window's rating screen (/rate/) send a key too: a
    retry after a lost answer is the first answer again (201), not 409 "already rated"."""
    ticket_token = new_citizen_token()
    by_ticket = today_ticket("t-key-2", "А031", 5, token_digest=token_digest(ticket_token)).served(
        wait=60, service=120, window=5, operator="op-5"
    )
    at_window = today_ticket("t-key-3", "А032", 4).served(wait=60, service=120, window=6, operator="op-6")
    app = create_app(settings)
    screen = staff_headers(settings, "operator", OFFICE)
    async with running(app) as client, probe(infra, settings.topic("feedback.feedback")) as topic:
        await publish(infra.kafka, settings.topic_prefix, catalog_events())
        await catalog_arrived(app)
        await publish(infra.kafka, settings.topic_prefix, [*by_ticket.events, *at_window.events])
        await topic.wait_for(requested_for("t-key-2"))
        await topic.wait_for(requested_for("t-key-3"))

        key = {"Idempotency-Key": uuid.uuid4().hex}
        first = await client.post(f"/feedback/by-ticket/{ticket_token}", json={"rating": 4}, headers=key)
        again = await client.post(f"/feedback/by-ticket/{ticket_token}", json={"rating": 4}, headers=key)
        assert first.status_code == again.status_code == 201, (first.text, again.text)
        assert again.json() == first.json()
        other = await client.post(f"/feedback/by-ticket/{ticket_token}", json={"rating": 2}, headers=key)
        assert other.status_code == 422 and "different request" in other.json()["reason"], other.text
        unkeyed = await client.post(f"/feedback/by-ticket/{ticket_token}", json={"rating": 4})
        assert unkeyed.status_code == 409 and unkeyed.json()["error"] == "VisitAlreadyRated"

        offered = await client.get(f"/offices/{OFFICE}/windows/6/rating", headers=screen)
        assert offered.status_code == 200 and offered.json()["number"] == "А032", offered.text
        rating = {"request_id": offered.json()["request_id"], "rating": 5}
        tap = {**screen, "Idempotency-Key": uuid.uuid4().hex}
        rated = await client.post(f"/offices/{OFFICE}/windows/6/rating", json=rating, headers=tap)
        retried = await client.post(f"/offices/{OFFICE}/windows/6/rating", json=rating, headers=tap)
        assert rated.status_code == retried.status_code == 201, (rated.text, retried.text)
        assert retried.json() == rated.json()
        fresh_tap = {**screen, "Idempotency-Key": uuid.uuid4().hex}  # a second tap is a second intent
        second = await client.post(f"/offices/{OFFICE}/windows/6/rating", json=rating, headers=fresh_tap)
        assert second.status_code == 409, second.text
        bad_key = {**screen, "Idempotency-Key": "short"}
        refused = await client.post(f"/offices/{OFFICE}/windows/6/rating", json=rating, headers=bad_key)
        assert refused.status_code == 422, refused.text

        given = await topic.wait_for(
            lambda e: (
                e.event_type == "feedback.FeedbackGiven" and e.data["ticket_id"] in ("t-key-2", "t-key-3")
            ),
            count=2,
        )
        assert sorted(e.data["ticket_id"] for e in given) == ["t-key-2", "t-key-3"]  # once each
