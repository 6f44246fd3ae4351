"""The whole system as citizens and staff use it: every scenario over HTTP, checked on the event stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from contracts import Envelope
from servicekit.sealing import Unsealer
from servicekit.testing import EventProbe, eventually
from testbed.harness import Api, Office, System

EVENT_TOPICS = ("ticketing.ticket", "ticketing.window", "appointments.appointment", "feedback.feedback")


@pytest.fixture(scope="module")
async def events(system: System) -> AsyncIterator[EventProbe]:
    probe = await EventProbe(system.kafka, [system.prefix + t for t in EVENT_TOPICS]).start()
    yield probe
    await probe.stop()


@pytest.fixture(scope="module")
async def office(api: Api) -> Office:
    return await api.create_office()


def of_ticket(ticket_id: str, event_type: str | None = None) -> Any:
    def matches(envelope: Envelope) -> bool:
        return envelope.data.get("ticket_id") == ticket_id and event_type in (None, envelope.event_type)

    return matches


async def kpis(api: Api, office: Office) -> dict[str, Any]:
    response = await api.supervisor_get(office, "feedback", f"/offices/{office.office_id}/kpis")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_walk_in_visit_ends_in_a_rating_counted_in_the_kpis(
    system: System, api: Api, office: Office, events: EventProbe
) -> None:
    opened = await api.window(office, 1, "open", service_ids=[office.service_id])
    assert opened.status_code == 200, opened.text
    # A phone left at the kiosk: the feedback link's token is sealed for the notifier (without a
    # contact feedback sends no token, and the ticket's printed link is the way to rate).
    ticket = await api.issue(office, phone="+79001234568")
    assert ticket["number"].startswith("А") and ticket["position"] == 1

    called = await api.serve_next(office, 1)
    assert called["ticket_id"] == ticket["ticket_id"]

    async def board_shows_the_call() -> bool:
        board = (await api.call("GET", f"{system.board_url()}/boards/{office.office_id}")).json()
        return any(c["ticket_id"] == ticket["ticket_id"] and c["window_no"] == 1 for c in board["calls"])

    await eventually(board_shows_the_call, what="the hall board to show the call")

    requested = await events.wait_for(
        of_ticket(ticket["ticket_id"], "feedback.FeedbackRequested"), timeout=30
    )
    token = Unsealer(system.private_key).unseal(requested[0].data["token_sealed"])
    rated = await api.call("POST", f"{system.url('feedback')}/feedback/{token}", json={"rating": 5})
    assert rated.status_code == 201, rated.text
    await events.wait_for(of_ticket(ticket["ticket_id"], "feedback.FeedbackGiven"))

    # Delivery is at-least-once (two replicas' relays may both publish an outbox entry): one per event_id.
    seen = await events.wait_for(of_ticket(ticket["ticket_id"]), count=6)
    lifecycle = [
        e.event_type for e in {e.event_id: e for e in seen}.values() if e.event_type.startswith("ticketing.")
    ]
    assert lifecycle == [
        "ticketing.TicketIssued",
        "ticketing.TicketCalled",
        "ticketing.ServiceStarted",
        "ticketing.ServiceCompleted",
    ]

    async def rating_in_kpis() -> bool:
        numbers = await kpis(api, office)
        return bool(numbers["served_visits"] == 1 and numbers["ratings"] == 1)

    await eventually(rating_in_kpis, what="the KPIs to count the served visit and its rating")
    numbers = await kpis(api, office)
    assert numbers["visits"] == 1 and numbers["rating_mean"] == 5


async def test_appointment_ticket_is_called_before_walk_ins_and_fulfils_the_booking(
    system: System, api: Api, events: EventProbe
) -> None:
    office = await api.create_office()
    await api.window(office, 1, "open", service_ids=[office.service_id])
    appointments = system.url("appointments")
    booking = await api.book_next_slot(office, "Иванова Анна", "+79001234567")
    walk_in = await api.issue(office)  # in the queue before the citizen with the appointment arrives

    checked_in = await api.call(
        "POST", f"{appointments}/checkin", json={"office_id": office.office_id, "code": booking["code"]}
    )
    assert checked_in.status_code == 200, checked_in.text
    issued = await events.wait_for(
        lambda e: (
            e.event_type == "ticketing.TicketIssued"
            and e.data.get("appointment_id") == booking["appointment_id"]
        ),
        timeout=30,
    )
    appointment_ticket = issued[0].data["ticket_id"]
    assert issued[0].data["channel"] == "appointment"

    called = await api.serve_next(office, 1)
    assert called["ticket_id"] == appointment_ticket, "the due appointment goes before the walk-in"
    fulfilled = await events.wait_for(
        lambda e: (
            e.event_type == "appointments.AppointmentFulfilled"
            and e.data["appointment_id"] == booking["appointment_id"]
        ),
        timeout=30,
    )
    assert fulfilled[0].data["ticket_id"] == appointment_ticket
    assert (await api.serve_next(office, 1))["ticket_id"] == walk_in["ticket_id"]

    async def booking_fulfilled() -> bool:
        state = await api.call("GET", f"{appointments}/appointments/by-token/{booking['token']}")
        return state.status_code == 200 and state.json()["state"] == "fulfilled"

    await eventually(booking_fulfilled, what="the booking to show as fulfilled")


async def test_transfer_moves_the_ticket_to_a_window_of_the_other_zone(
    api: Api, office: Office, events: EventProbe
) -> None:
    await api.window(office, 1, "open", service_ids=[office.service_id])
    other = await api.window(office, 7, "open", service_ids=[office.other_service_id])
    assert other.status_code == 200 and other.json()["zone_id"] == "z3", other.text
    ticket = await api.issue(office)
    assert (await api.window(office, 1, "call-next")).json()["ticket_id"] == ticket["ticket_id"]
    moved = await api.window(office, 1, "transfer", to_service_id=office.other_service_id, reason="benefit")
    assert moved.status_code == 200, moved.text

    called = await api.serve_next(office, 7)
    assert called["ticket_id"] == ticket["ticket_id"] and called["zone_id"] == "z3"
    transferred = await events.wait_for(of_ticket(ticket["ticket_id"], "ticketing.TicketTransferred"))
    assert transferred[0].data["to_zone_id"] == "z3"
    completed = await events.wait_for(of_ticket(ticket["ticket_id"], "ticketing.ServiceCompleted"))
    assert completed[0].data["window_no"] == 7 and completed[0].data["service_id"] == office.other_service_id


async def test_no_show_after_a_recall_frees_the_window_for_the_next_citizen(
    api: Api, office: Office, events: EventProbe
) -> None:
    before = (await kpis(api, office))["no_shows"]
    await api.window(office, 1, "open", service_ids=[office.service_id])
    absent = await api.issue(office)
    present = await api.issue(office)
    assert (await api.window(office, 1, "call-next")).json()["ticket_id"] == absent["ticket_id"]
    recalled = await api.window(office, 1, "recall")
    assert recalled.status_code == 200 and recalled.json()["calls"] == 2, recalled.text
    assert (await api.window(office, 1, "no-show")).status_code == 200
    assert (await api.serve_next(office, 1))["ticket_id"] == present["ticket_id"]

    await events.wait_for(
        lambda e: of_ticket(absent["ticket_id"], "ticketing.TicketCalled")(e) and e.data["call_no"] == 2
    )
    # At-least-once: a call may arrive twice; one per event_id.
    calls = {
        e.event_id: e for e in events.of_type("ticketing.TicketCalled") if of_ticket(absent["ticket_id"])(e)
    }
    assert sorted(c.data["call_no"] for c in calls.values()) == [1, 2]
    await events.wait_for(of_ticket(absent["ticket_id"], "ticketing.TicketNoShow"))

    async def no_show_counted() -> bool:
        return bool((await kpis(api, office))["no_shows"] == before + 1)

    await eventually(no_show_counted, what="the KPIs to count the no-show")


async def test_two_offices_share_the_topics_keyed_by_office_with_separate_kpis(
    system: System, api: Api, events: EventProbe
) -> None:
    first, second = await api.create_office(), await api.create_office()
    for office in (first, second):
        await api.window(office, 1, "open", service_ids=[office.service_id])
    tickets = [await api.issue(first), await api.issue(second), await api.issue(first)]
    for office, window_tickets in ((first, 2), (second, 1)):
        for _ in range(window_tickets):
            await api.serve_next(office, 1)

    ids = {t["ticket_id"] for t in tickets}
    await events.wait_for(
        lambda e: e.event_type == "ticketing.ServiceCompleted" and e.data["ticket_id"] in ids,
        count=3,
        timeout=30,
    )
    mine = [(e, key) for e, _, _, key in events.seen if e.office_id in (first.office_id, second.office_id)]
    assert mine and all(key == e.office_id.encode() for e, key in mine), "every event is keyed by its office"
    assert {e.data["number"] for e, _ in mine if e.event_type == "ticketing.TicketIssued"} == {"А001", "А002"}

    async def separate_kpis() -> bool:
        return [(await kpis(api, o))["served_visits"] for o in (first, second)] == [2, 1]

    await eventually(separate_kpis, what="each office's KPIs to count only its own visits")


async def test_a_consumer_joining_late_reads_every_ticket_issued_from_the_beginning(
    system: System, api: Api, events: EventProbe
) -> None:
    assert api.issued, "the scenarios above issued tickets"
    live = {e.event_id: e.data["ticket_id"] for e in events.of_type("ticketing.TicketIssued")}
    late = await EventProbe(system.kafka, [system.prefix + "ticketing.ticket"]).start()
    try:
        read = await late.wait_for(
            lambda e: e.event_type == "ticketing.TicketIssued", count=len(live), timeout=30
        )
    finally:
        await late.stop()
    caught_up = {e.event_id: e.data["ticket_id"] for e in read}
    assert caught_up == live, "the late group sees exactly the TicketIssued events the live one saw"
    assert set(api.issued) <= set(caught_up.values()), "and every ticket the kiosks were given"


async def test_after_the_scenarios_every_store_reconciles(system: System, api: Api, tmp_path: Any) -> None:
    acknowledged = tmp_path / "acknowledged.txt"
    acknowledged.write_text("\n".join(api.issued))
    report = await system.settle("--idle", "--acknowledged", str(acknowledged), timeout=60)
    assert report["ok"], report["discrepancies"]
    assert report["counts"]["tickets_acknowledged"] == len(api.issued)
