"""Free text people write is personal data: a rating's comment and a supervisor's note on an alert are
erased `text_retention_days` after they were written; the rating, its tags and the numbers stay."""

from __future__ import annotations

from datetime import timedelta

from feedback.main import create_app
from feedback.settings import Settings
from servicekit.clock import ManualClock
from servicekit.testing import Infra, probe, publish, running, staff_headers

from .feedback_scenario import OFFICE, catalog_arrived, catalog_events
from .test_feedback_loop import requested_for, today_ticket, token_from


async def test_comments_and_alert_notes_are_forgotten_after_the_retention_period(
    infra: Infra, settings: Settings, keypair: tuple[str, str]
) -> None:
    clock = ManualClock()
    visit = today_ticket("t-text-1", "А020", 30).served(wait=900, service=300, window=3, operator="op-3")
    app = create_app(settings, clock=clock)
    store = app.state.store
    async with running(app) as client, probe(infra, settings.topic("feedback.feedback")) as topic:
        await publish(infra.kafka, settings.topic_prefix, catalog_events())
        await catalog_arrived(app)
        await publish(infra.kafka, settings.topic_prefix, visit.events)
        token = await token_from((await topic.wait_for(requested_for("t-text-1")))[0], keypair[1])
        rated = await client.post(
            f"/feedback/{token}",
            json={"rating": 1, "tags": ["waiting_time"], "comment": "Иванова И. грубила"},
        )
        assert rated.status_code == 201, rated.text
        raised = (await topic.wait_for(lambda e: e.event_type == "feedback.FeedbackAlertRaised"))[0]
        alert_id = raised.data["alert_id"]
        note = {"note": "Talked to Ivanova; the visitor was called back."}
        resolved = await client.post(
            f"/alerts/{alert_id}/resolve", json=note, headers=staff_headers(settings, "supervisor", OFFICE)
        )
        assert resolved.status_code == 200, resolved.text

        clock.advance(timedelta(days=settings.text_retention_days - 1))
        assert await app.state.feedback.forget_old_texts() == 0  # not yet
        clock.advance(timedelta(days=2))
        assert await app.state.feedback.forget_old_texts() == 2
        request = await store.requests.collection.find_one({"ticket_id": "t-text-1"})
        assert request["comment"] is None and request["rating"] == 1 and request["tags"] == ["waiting_time"]
        alert = await store.alerts.collection.find_one({"_id": alert_id})
        assert alert["note"] is None and alert["state"] == "resolved"
        assert await app.state.feedback.forget_old_texts() == 0  # nothing is read twice
