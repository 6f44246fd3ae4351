"""A visit ends -> feedback request -> rating over HTTP -> FeedbackGiven -> numbers; low rating -> alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from contracts import Envelope
from contracts.feedback import FeedbackAlertRaised
from feedback.main import create_app
from feedback.settings import Settings
from servicekit.sealing import Unsealer, new_citizen_token, token_digest
from servicekit.testing import Infra, eventually, probe, publish, running, staff_headers

from .feedback_scenario import (
    OFFICE,
    SERVICE_OFFLINE,
    SERVICE_ONLINE,
    Ticket,
    catalog_arrived,
    catalog_events,
    get_json,
    window_opened,
)


def requested_for(ticket_id: str) -> Any:
    return lambda e: e.event_type == "feedback.FeedbackRequested" and e.data["ticket_id"] == ticket_id


# A contact left at issue, as feedback sees it: sealed for the notifier, never opened here.
SEALED_CONTACT = "sealed-phone-for-the-notifier"


def today_ticket(ticket_id: str, number: str, minutes_ago: int, **kwargs: Any) -> Ticket:
    """A ticket of today whose citizen left a contact (so its feedback link is sealed), unless
    `contact_sealed=None`."""
    kwargs.setdefault("contact_sealed", SEALED_CONTACT)
    issued = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    day = issued.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Moscow")).date()
    return Ticket(ticket_id, number, kwargs.pop("service_id", SERVICE_ONLINE), issued, day, **kwargs)


async def token_from(envelope: Envelope, private_key: str) -> str:
    return Unsealer(private_key).unseal(envelope.data["token_sealed"])


async def test_a_finished_visit_is_rated_once_and_the_rating_reaches_the_numbers(
    infra: Infra, settings: Settings, keypair: tuple[str, str]
) -> None:
    visit = today_ticket("t-flow-1", "А001", 40).served(wait=300, service=420, window=1, operator="op-1")
    waiting = today_ticket("t-flow-2", "А002", 10)
    app = create_app(settings)
    supervisor = staff_headers(settings, "supervisor", OFFICE)
    async with running(app) as client, probe(infra, settings.topic("feedback.feedback")) as feedback_topic:
        await publish(infra.kafka, settings.topic_prefix, catalog_events())
        await catalog_arrived(app)
        await publish(
            infra.kafka,
            settings.topic_prefix,
            [window_opened(1, "op-1", visit.issued_at), *visit.events, *waiting.events],
        )
        requested = (await feedback_topic.wait_for(requested_for("t-flow-1")))[0]
        assert requested.data["service_id"] == SERVICE_ONLINE
        assert requested.correlation_id == "visit-t-flow-1"
        token = await token_from(requested, keypair[1])
        assert len(token) >= 43  # 256 random bits, URL-safe
        assert token not in str(await app.state.store.requests.collection.find_one({}))

        page = await client.get(f"/feedback/{token}")
        assert page.status_code == 200, page.text
        assert page.json()["service_title"]["en"] == "Certificate of household composition"
        assert page.json()["answered"] is False

        too_high = await client.post(f"/feedback/{token}", json={"rating": 6})
        too_long = await client.post(f"/feedback/{token}", json={"rating": 4, "comment": "x" * 1001})
        unknown_tag = await client.post(f"/feedback/{token}", json={"rating": 4, "tags": ["weather"]})
        assert [too_high.status_code, too_long.status_code, unknown_tag.status_code] == [422, 422, 422]
        assert "rating" in too_high.json()["reason"] and "comment" in too_long.json()["reason"]

        given = await client.post(
            f"/feedback/{token}",
            json={
                "rating": 4,
                "tags": ["politeness", "waiting_time"],
                "comment": "Позвоните мне +7 917 123-45-67",
            },
        )
        assert given.status_code == 201, given.text
        again = await client.post(f"/feedback/{token}", json={"rating": 1})
        unknown = await client.post("/feedback/" + "x" * 43, json={"rating": 1})
        assert again.status_code == unknown.status_code == 404
        assert again.json()["reason"] == unknown.json()["reason"]  # nothing tells a used link from a guess
        assert (await client.get(f"/feedback/{token}")).json()["answered"] is True

        feedback_given = await feedback_topic.wait_for(lambda e: e.event_type == "feedback.FeedbackGiven")
        assert feedback_given[0].data["rating"] == 4 and feedback_given[0].data["has_comment"] is True
        assert feedback_given[0].data["operator_ref"] == "op-1"
        assert all(b"917" not in record.value for record in feedback_topic.raw)  # the comment stays home

        kpis = await eventually(
            lambda: get_json(client, f"/offices/{OFFICE}/kpis", supervisor), lambda k: k["ratings"] == 1
        )
        assert (kpis["visits"], kpis["served_visits"], kpis["wait_mean_seconds"]) == (2, 1, 300.0)
        assert (kpis["rating_mean"], kpis["rating_distribution"]["4"]) == (4.0, 1)
        assert (kpis["within_sla"], kpis["online_could_have_done"], kpis["outcomes"]["served"]) == (1, 1, 1)

        live = await eventually(
            lambda: get_json(client, f"/offices/{OFFICE}/live", supervisor), lambda v: v["open_windows"] == 1
        )
        assert (live["waiting_now"], live["open_windows"], live["ratings_today"]) == (1, 1, 1)
        assert 9 * 60 <= live["longest_wait_seconds"] <= 12 * 60

        # The same visit delivered again (a republished outbox): still one request.
        await publish(infra.kafka, settings.topic_prefix, visit.events)
        sentinel = today_ticket("t-flow-3", "А003", 5).served(wait=60, service=60, window=1, operator="op-1")
        await publish(infra.kafka, settings.topic_prefix, sentinel.events)
        await feedback_topic.wait_for(requested_for("t-flow-3"))
        assert (
            len(
                [
                    e
                    for e in feedback_topic.of_type("feedback.FeedbackRequested")
                    if e.data["ticket_id"] == "t-flow-1"
                ]
            )
            == 1
        )


async def test_the_ticket_link_and_the_window_screen_each_rate_their_visit_once(
    infra: Infra, settings: Settings
) -> None:
    """Neither citizen left a contact: their requests carry no sealed token (no SMS link), and the
    printed link and the window's screen answer them all the same."""
    ticket_token = new_citizen_token()
    by_ticket = today_ticket(
        "t-win-1", "А020", 5, token_digest=token_digest(ticket_token), contact_sealed=None
    ).served(wait=60, service=120, window=3, operator="op-3")
    at_window = today_ticket("t-win-2", "А021", 4, contact_sealed=None).served(
        wait=60, service=120, window=4, operator="op-4"
    )
    app = create_app(settings)
    screen = staff_headers(settings, "operator", OFFICE)
    async with running(app) as client, probe(infra, settings.topic("feedback.feedback")) as feedback_topic:
        await publish(infra.kafka, settings.topic_prefix, catalog_events())
        await catalog_arrived(app)
        await publish(infra.kafka, settings.topic_prefix, [*by_ticket.events, *at_window.events])
        requested = [
            *await feedback_topic.wait_for(requested_for("t-win-1")),
            *await feedback_topic.wait_for(requested_for("t-win-2")),
        ]
        assert [e.data["token_sealed"] for e in requested] == [None, None]

        # The rating screen paired with window 4 offers the visit just completed there.
        offered = await client.get(f"/offices/{OFFICE}/windows/4/rating", headers=screen)
        assert offered.status_code == 200 and offered.json()["number"] == "А021", offered.text
        rating = {"request_id": offered.json()["request_id"], "rating": 5}
        rated = await client.post(f"/offices/{OFFICE}/windows/4/rating", json=rating, headers=screen)
        again = await client.post(f"/offices/{OFFICE}/windows/4/rating", json=rating, headers=screen)
        assert rated.status_code == 201 and again.status_code == 409, again.text
        assert again.json()["error"] == "VisitAlreadyRated"
        assert (await client.get(f"/offices/{OFFICE}/windows/4/rating", headers=screen)).json() is None
        wrong_window = await client.post(f"/offices/{OFFICE}/windows/3/rating", json=rating, headers=screen)
        assert wrong_window.status_code == 404

        # The link printed on the ticket (its own token) rates that visit, once.
        page = await client.get(f"/feedback/by-ticket/{ticket_token}")
        assert page.status_code == 200 and page.json()["answered"] is False, page.text
        first = await client.post(f"/feedback/by-ticket/{ticket_token}", json={"rating": 3})
        second = await client.post(f"/feedback/by-ticket/{ticket_token}", json={"rating": 1})
        assert (first.status_code, second.status_code) == (201, 409), second.text
        guessed = await client.get("/feedback/by-ticket/" + new_citizen_token())
        assert guessed.status_code == 404
        assert (await client.get(f"/offices/{OFFICE}/windows/3/rating", headers=screen)).json() is None

        anonymous = await client.get(f"/offices/{OFFICE}/windows/3/rating")
        stranger = staff_headers(settings, "operator", "x")
        elsewhere = await client.get(f"/offices/{OFFICE}/windows/3/rating", headers=stranger)
        assert (anonymous.status_code, elsewhere.status_code) == (401, 403)
        given = await feedback_topic.wait_for(lambda e: e.event_type == "feedback.FeedbackGiven", count=2)
        assert sorted(e.data["rating"] for e in given) == [3, 5]


async def test_a_low_rating_raises_an_alert_with_the_visit_timeline_for_the_office_supervisors(
    infra: Infra, settings: Settings, keypair: tuple[str, str]
) -> None:
    visit = (
        today_ticket("t-low-1", "А010", 90)
        .called(wait=600, window=2, operator="op-2")
        .called(wait=660, window=2, operator="op-2", call_no=2)
        .transferred(to_service_id=SERVICE_OFFLINE, window=2, reason="wrong zone")
        .served(wait=1200, service=500, window=5, operator="op-5", outcome="documents_missing")
    )
    app = create_app(settings)
    async with running(app) as client, probe(infra, settings.topic("feedback.feedback")) as feedback_topic:
        await publish(infra.kafka, settings.topic_prefix, catalog_events())
        await catalog_arrived(app)
        await publish(infra.kafka, settings.topic_prefix, visit.events)
        token = await token_from((await feedback_topic.wait_for(requested_for("t-low-1")))[0], keypair[1])
        rated = await client.post(f"/feedback/{token}", json={"rating": 1, "tags": ["waiting_time"]})
        assert rated.status_code == 201, rated.text

        raised = (await feedback_topic.wait_for(lambda e: e.event_type == "feedback.FeedbackAlertRaised"))[0]
        alert = raised.payload(FeedbackAlertRaised)
        assert (alert.rating, alert.tags, alert.service_id) == (1, ["waiting_time"], SERVICE_OFFLINE)
        assert [entry.what.split(".")[1] for entry in alert.timeline] == [
            "TicketIssued",
            "TicketCalled",
            "TicketCalled",
            "TicketTransferred",
            "TicketCalled",
            "ServiceStarted",
            "ServiceCompleted",
        ]
        details = " | ".join(entry.detail for entry in alert.timeline)
        for expected in (
            "call 2 to window 2 by op-2",
            "wrong zone",
            "documents_missing at window 5 by op-5",
            "waited 20 min 00 s",
        ):
            assert expected in details

        mine, other = (
            staff_headers(settings, "supervisor", OFFICE),
            staff_headers(settings, "supervisor", "kzn-other"),
        )
        operator = staff_headers(settings, "operator", OFFICE)
        assert (await client.get(f"/offices/{OFFICE}/alerts?state=open", headers=other)).status_code == 403
        assert (await client.get(f"/offices/{OFFICE}/alerts", headers=operator)).status_code == 403
        assert (await client.post(f"/alerts/{alert.alert_id}/acknowledge", headers=other)).status_code == 403
        open_alerts = await get_json(client, f"/offices/{OFFICE}/alerts?state=open", mine)
        assert [a["alert_id"] for a in open_alerts] == [alert.alert_id]
        assert open_alerts[0]["timeline"][0]["what"] == "ticketing.TicketIssued"

        acknowledged = await client.post(f"/alerts/{alert.alert_id}/acknowledge", headers=mine)
        assert acknowledged.json()["state"] == "acknowledged"
        note = {"note": "Called the visitor back; checklist explained again."}
        resolved = await client.post(f"/alerts/{alert.alert_id}/resolve", json=note, headers=mine)
        assert resolved.status_code == 200 and resolved.json()["state"] == "resolved"
        again = await client.post(f"/alerts/{alert.alert_id}/resolve", json=note, headers=mine)
        assert again.status_code == 409
        event = (await feedback_topic.wait_for(lambda e: e.event_type == "feedback.FeedbackAlertResolved"))[0]
        assert event.data["resolved_by"] == "supervisor-1" and event.data["has_note"] is True
        raw = [r.value for r in feedback_topic.raw if b"FeedbackAlertResolved" in r.value]
        assert raw and not any(b"Called the visitor back" in value for value in raw)  # the note stays here
        assert resolved.json()["note"] == note["note"]
        assert await get_json(client, f"/offices/{OFFICE}/alerts?state=open", mine) == []
