"""A hand-written day: the API's figures equal hand-computed ones; a replay rebuilds them exactly."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from contracts import Envelope, new_event
from contracts.feedback import FeedbackGiven
from contracts.portal import OnlineApplicationFiled
from feedback.main import create_app
from feedback.settings import Settings
from servicekit.testing import Infra, eventually, publish, running, staff_headers

from .feedback_scenario import (
    OFFICE,
    SERVICE_OFFLINE,
    SERVICE_ONLINE,
    Ticket,
    catalog_arrived,
    catalog_events,
    get_json,
)

DAY = date(2025, 3, 10)  # a Monday, long past: no feedback links are sent for it
OPENING = datetime(2025, 3, 10, 5, 0, tzinfo=UTC)  # 08:00 in Kazan
A, B = SERVICE_ONLINE, SERVICE_OFFLINE


def fixture_day() -> tuple[list[Ticket], list[Envelope]]:
    """12 visits: (service, wait s, service s, outcome, operator, rating); one no-show, one cancelled."""
    served = [
        ("v01", A, 120, 300, "served", "op-1", 5),
        ("v02", A, 300, 420, "served", "op-1", 4),
        ("v03", A, 480, 600, "documents_missing", "op-2", 2),
        ("v04", B, 600, 540, "served", "op-2", 5),
        ("v05", B, 1200, 480, "served", "op-1", 1),  # 20 min > 15: outside the SLA
        ("v06", A, 360, 360, "served", "op-2", None),  # appointment: 6 min > 5: outside its SLA
        ("v07", B, 60, 180, "sent_online", "op-1", 3),
        ("v08", A, 420, 240, "refused", "op-2", None),
        ("v09", B, 900, 720, "served", "op-1", 5),  # exactly 15 min: within
        ("v10", A, 180, 300, "served", "op-2", 5),
    ]
    tickets: list[Ticket] = []
    ratings: list[Envelope] = []
    for n, (tid, service, wait, seconds, outcome, operator, rating) in enumerate(served):
        issued = OPENING + timedelta(minutes=20 * n)
        appointment = {"channel": "appointment", "appointment_id": "ap-6"} if tid == "v06" else {}
        ticket = Ticket(
            tid, f"{'А' if service == A else 'П'}{n + 1:03d}", service, issued, DAY, **appointment
        )
        ticket.served(
            wait=wait,
            service=seconds,
            window=1 if operator == "op-1" else 2,
            operator=operator,
            outcome=outcome,
        )
        tickets.append(ticket)
        if rating is not None:
            ratings.append(rating_event(ticket, rating, operator))
    tickets.append(
        Ticket("v11", "П011", B, OPENING + timedelta(hours=4), DAY).no_show(window=1, operator="op-1")
    )
    tickets.append(Ticket("v12", "А012", A, OPENING + timedelta(hours=5), DAY).cancelled())
    return tickets, ratings


def rating_event(ticket: Ticket, rating: int, operator: str) -> Envelope:
    return new_event(
        FeedbackGiven(
            request_id=f"fr-{ticket.ticket_id}",
            ticket_id=ticket.ticket_id,
            service_id=ticket.service_id,
            rating=rating,
            window_no=1 if operator == "op-1" else 2,
            operator_ref=operator,
        ),
        producer="feedback",
        office_id=OFFICE,
        aggregate_id=f"fr-{ticket.ticket_id}",
        aggregate_version=2,
        occurred_at=ticket.clock + timedelta(minutes=30),
    )


# Hand computation (10 served legs v01..v10, 12 visits):
#   waits   = 120+300+480+600+1200+360+60+420+900+180 = 4620 -> mean 462.0
#   sorted  = 60 120 180 300 360 420 480 600 900 1200; p90 = ceil(0.9*10) = 9th = 900
#   service = 300+420+600+540+480+360+180+240+720+300 = 4140 -> mean 414.0
#   SLA     = all but v05 (1200 > 900) and v06 (appointment, 360 > 300) = 8/10 = 0.8
#   no-show = 1 of 11 called visits (10 served + 1 no-show) = 0.0909
#   ratings = 5 4 2 5 1 3 5 5 -> 8, sum 30, mean 3.75; distribution 1:1 2:1 3:1 4:1 5:4
#   outcomes: served v01 v02 v04 v05 v06 v09 v10 = 7; one each of the other three
#   online could have done: legs of service A (v01 v02 v03 v06 v08 v10) = 6
EXPECTED_OFFICE = {
    "visits": 12,
    "served_visits": 10,
    "no_shows": 1,
    "cancelled": 1,
    "no_show_rate": 0.0909,
    "served_legs": 10,
    "wait_mean_seconds": 462.0,
    "wait_p90_seconds": 900,
    "service_mean_seconds": 414.0,
    "within_sla": 8,
    "within_sla_share": 0.8,
    "ratings": 8,
    "rating_mean": 3.75,
    "rating_distribution": {"1": 1, "2": 1, "3": 1, "4": 1, "5": 4},
    "outcomes": {"served": 7, "documents_missing": 1, "sent_online": 1, "refused": 1},
    "online_could_have_done": 6,
}
# Service B only: v04 v05 v07 v09 served, v11 no-show.
#   waits 600+1200+60+900 = 2760 -> 690.0; p90 = ceil(3.6) = 4th of (60 600 900 1200) = 1200
#   service 540+480+180+720 = 1920 -> 480.0; SLA 3/4 = 0.75; no-show 1/5 = 0.2
#   ratings 5 1 3 5 = 14/4 = 3.5; nothing online
EXPECTED_SERVICE_B = {
    "visits": 5,
    "served_visits": 4,
    "no_shows": 1,
    "no_show_rate": 0.2,
    "wait_mean_seconds": 690.0,
    "wait_p90_seconds": 1200,
    "service_mean_seconds": 480.0,
    "within_sla_share": 0.75,
    "rating_mean": 3.5,
    "online_could_have_done": 0,
}
# Operator op-1: legs v01 v02 v05 v07 v09; visits also v11 (called by op-1, no-show).
#   waits 120+300+1200+60+900 = 2580 -> 516.0; SLA 4/5 = 0.8; no-show 1/6 = 0.1667
#   ratings 5 4 1 3 5 = 18/5 = 3.6
EXPECTED_OPERATOR_1 = {
    "visits": 6,
    "no_show_rate": 0.1667,
    "wait_mean_seconds": 516.0,
    "within_sla_share": 0.8,
    "rating_mean": 3.6,
}


def online_applications() -> list[Envelope]:
    """12 applications for service A filed on the portal that day (one after an office visit),
    the first one sent twice by the portal."""
    events = [
        new_event(
            OnlineApplicationFiled(
                application_id=f"rt-{n:02d}",
                service_id=A,
                filed_at=OPENING + timedelta(hours=n),
                after_office_visit=n == 0,
            ),
            producer="portal",
            office_id=OFFICE,
            aggregate_id=f"rt-{n:02d}",
            aggregate_version=1,
        )
        for n in range(12)
    ]
    return [*events, events[0]]


# Digital share: in the office, served legs only: A v01 v02 v06 v10 = 4, B v04 v05 v09 = 3;
#   online 12 (A, the resent one counted once); A 12/16 = 0.75, office 12/19 = 0.6316 (goal 0.78: no)
#   could have been online: legs of A = 6; sent online: v07 = 1
EXPECTED_DIGITAL_SHARE = {
    "online": 12,
    "in_office": 7,
    "share_online": 0.6316,
    "meets_goal": False,
    "could_have_been_online": 6,
    "sent_online": 1,
    "online_after_office_visit": 1,
}


def subset(figures: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    return {key: figures[key] for key in expected}


async def settled_kpis(client: Any, headers: dict[str, str], query: str = "") -> dict[str, Any]:
    url = f"/offices/{OFFICE}/kpis?day={DAY}{query}"
    result: dict[str, Any] = await eventually(
        lambda: get_json(client, url, headers),
        lambda k: (
            (k["visits"], k["ratings"], k["served_legs"], k["no_shows"], k["cancelled"]) == (12, 8, 10, 1, 1)
        ),
        within=60,
    )
    return result


async def test_the_api_figures_of_a_fixture_day_match_the_hand_computed_ones(
    infra: Infra, settings: Settings
) -> None:
    tickets, ratings = fixture_day()
    await publish(infra.kafka, settings.topic_prefix, catalog_events())
    await publish(
        infra.kafka,
        settings.topic_prefix,
        [e for t in tickets for e in t.events] + ratings + online_applications(),
    )
    app = create_app(settings)
    async with running(app) as client:
        headers = staff_headers(settings, "supervisor", OFFICE)
        await catalog_arrived(app)
        office = await settled_kpis(client, headers)
        assert subset(office, EXPECTED_OFFICE) == EXPECTED_OFFICE
        by_service = await get_json(client, f"/offices/{OFFICE}/kpis?day={DAY}&service_id={B}", headers)
        assert subset(by_service, EXPECTED_SERVICE_B) == EXPECTED_SERVICE_B
        by_operator = await get_json(client, f"/offices/{OFFICE}/kpis?day={DAY}&operator_ref=op-1", headers)
        assert subset(by_operator, EXPECTED_OPERATOR_1) == EXPECTED_OPERATOR_1

        export = await client.get(
            f"/offices/{OFFICE}/kpis.csv?from={DAY}&to={DAY + timedelta(days=1)}", headers=headers
        )
        assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
        rows = [line.split(",") for line in export.text.strip().splitlines()]
        header, office_row = rows[0], dict(zip(rows[0], rows[1], strict=True))
        assert (office_row["day"], office_row["service_id"], office_row["visits"]) == (str(DAY), "", "12")
        assert (office_row["wait_p90_seconds"], office_row["rating_5"], office_row["refused"]) == (
            "900",
            "4",
            "1",
        )
        scopes = [(row[1], row[2]) for row in rows[1:] if row[0] == str(DAY)]
        assert scopes == [("", ""), (A, ""), (B, ""), ("", "op-1"), ("", "op-2")]
        assert [row[:4] for row in rows[1:] if row[0] != str(DAY)] == [
            [str(DAY + timedelta(days=1)), "", "", "0"]
        ]
        assert "day" in header
        reversed_period = await client.get(
            f"/offices/{OFFICE}/kpis.csv?from={DAY}&to=2025-03-01", headers=headers
        )
        assert reversed_period.status_code == 422

        share = await eventually(
            lambda: get_json(client, f"/offices/{OFFICE}/digital-share?from={DAY}&to={DAY}", headers),
            lambda figures: figures["online"] >= 12,
        )
        assert subset(share, EXPECTED_DIGITAL_SHARE) == EXPECTED_DIGITAL_SHARE
        service_a = next(row for row in share["services"] if row["service_id"] == A)
        assert (service_a["online"], service_a["in_office"], service_a["share_online"]) == (12, 4, 0.75)
        # The city's view (feedback.city): the one office with figures is the city's whole share.
        city = await get_json(client, f"/city/digital-share?from={DAY}&to={DAY}", headers)
        (office_row,) = [row for row in city["offices"] if row["office_id"] == OFFICE]
        assert (office_row["online"], office_row["in_office"]) == (share["online"], share["in_office"])
        assert (city["online"], city["share_online"], city["goal"]) == (
            share["online"],
            share["share_online"],
            0.78,
        )
        assert next(row for row in city["services"] if row["service_id"] == A)["title"]["ru"]


async def test_replaying_the_topics_into_an_empty_store_gives_the_same_numbers_and_duplicates_change_nothing(
    infra: Infra, settings: Settings, make_settings: Any
) -> None:
    tickets, ratings = fixture_day()
    events = [e for t in tickets for e in t.events] + ratings
    await publish(infra.kafka, settings.topic_prefix, catalog_events())
    await publish(infra.kafka, settings.topic_prefix, events)
    headers = staff_headers(settings, "supervisor", OFFICE)
    queries = ["", f"&service_id={A}", f"&service_id={B}", "&operator_ref=op-1", "&operator_ref=op-2"]
    csv_url = f"/offices/{OFFICE}/kpis.csv?from={DAY}&to={DAY}"
    live_app = create_app(settings)
    async with running(live_app) as client:
        await catalog_arrived(live_app)
        await settled_kpis(client, headers)
        live_figures = [
            await get_json(client, f"/offices/{OFFICE}/kpis?day={DAY}{q}", headers) for q in queries
        ]
        live_csv = (await client.get(csv_url, headers=headers)).text

    rebuild = make_settings(
        Settings,
        mongo_db=f"rebuild_{uuid.uuid4().hex[:10]}",
        consumer_group=f"feedback-rebuild-{uuid.uuid4().hex[:6]}",
        projections_only=True,
    )
    rebuilt_app = create_app(rebuild)
    store = rebuilt_app.state.store
    async with running(rebuilt_app) as client:
        await catalog_arrived(rebuilt_app)
        await settled_kpis(client, headers)
        rebuilt = [await get_json(client, f"/offices/{OFFICE}/kpis?day={DAY}{q}", headers) for q in queries]
        assert rebuilt == live_figures
        assert (await client.get(csv_url, headers=headers)).text == live_csv

        # Every event again (a relay that republished everything), then a sentinel behind them
        # on the same partitions: once the sentinel is in, the duplicates were handled.
        sentinel = Ticket("sentinel", "А999", A, OPENING + timedelta(days=1), DAY + timedelta(days=1))
        sentinel.served(wait=10, service=10, window=1, operator="op-1")
        await publish(
            infra.kafka, settings.topic_prefix, [*events, *sentinel.events, rating_event(sentinel, 5, "op-1")]
        )
        await eventually(lambda: store.ratings.find_one({"_id": "sentinel"}), lambda doc: doc is not None)
        await eventually(lambda: store.visit("sentinel"), lambda visit: visit is not None and visit.legs)
        after = [await get_json(client, f"/offices/{OFFICE}/kpis?day={DAY}{q}", headers) for q in queries]
        assert after == live_figures
        assert (await client.get(csv_url, headers=headers)).text == live_csv
        assert await store.requests.collection.count_documents({}) == 0  # a rebuild texts nobody
