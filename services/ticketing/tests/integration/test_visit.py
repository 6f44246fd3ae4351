"""A whole visit over HTTP and real Kafka: the events it produces, in order, on the office's partition."""

from __future__ import annotations

import httpx
from contracts.ticketing import TicketIssued
from servicekit.testing import Infra, probe
from ticketing.settings import Settings

from .conftest import OFFICE, auth


async def test_a_whole_visit_produces_issued_called_started_completed_in_order(
    infra: Infra, settings: Settings, client: httpx.AsyncClient
) -> None:
    operator = auth(settings, "operator-ivanova")
    opened = await client.post(
        "/windows/open",
        json={"office_id": OFFICE, "window_no": 2, "service_ids": ["housing-certificate"]},
        headers=operator,
    )
    assert opened.status_code == 200, opened.text
    issued = await client.post(
        "/tickets",
        json={"office_id": OFFICE, "service_id": "housing-certificate", "phone": "+7 917 123-45-67"},
        headers=auth(settings, "kiosk-1", "kiosk"),
    )
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert body["number"] == "А001" and body["position"] == 1 and body["zone_id"] == "z1"
    assert body["link"] == f"/t/{body['citizen_token']}"

    called = await client.post(f"/windows/{OFFICE}/2/call-next", headers=operator)
    assert called.status_code == 200, called.text
    assert called.json()["ticket_id"] == body["ticket_id"]
    status = (await client.get(f"/tickets/by-token/{body['citizen_token']}")).json()
    assert status["state"] == "called" and status["window_no"] == 2

    assert (await client.post(f"/windows/{OFFICE}/2/start", headers=operator)).status_code == 200
    done = await client.post(f"/windows/{OFFICE}/2/complete", json={"outcome": "served"}, headers=operator)
    assert done.status_code == 200 and done.json()["state"] == "done"

    async with probe(infra, settings.topic("ticketing.ticket")) as watcher:
        events = await watcher.wait_for(lambda e: e.aggregate_id == body["ticket_id"], count=4)
        keys = {record.key for record in watcher.raw}
    assert [e.event_type for e in events] == [
        "ticketing.TicketIssued",
        "ticketing.TicketCalled",
        "ticketing.ServiceStarted",
        "ticketing.ServiceCompleted",
    ]
    versions = [e.aggregate_version for e in events]
    assert versions == sorted(set(versions)), (
        "aggregate versions must grow so consumers can drop stale events"
    )
    assert keys == {OFFICE.encode()}
    issued_event = events[0].payload(TicketIssued)
    assert issued_event.contact_sealed and "917" not in issued_event.contact_sealed
    assert (
        issued_event.citizen_token_sealed and body["citizen_token"] not in issued_event.citizen_token_sealed
    )
    assert events[1].data["operator_ref"] != "operator-ivanova"


async def test_the_reception_issues_with_a_priority_and_records_a_citizen_sent_online(
    infra: Infra, settings: Settings, client: httpx.AsyncClient
) -> None:
    reception = auth(settings, "reception-1", "reception")
    ticket = {"office_id": OFFICE, "service_id": "housing-certificate", "channel": "reception"}
    priority = {**ticket, "priority_category": "pregnant"}
    prioritized = await client.post("/tickets", json=priority, headers=reception)
    assert prioritized.status_code == 201, prioritized.text

    outcome = {"office_id": OFFICE, "service_id": "housing-certificate", "outcome": "sent_online"}
    sent = await client.post("/reception/outcomes", json=outcome, headers=reception)
    assert sent.status_code == 201 and sent.json()["outcome"] == "sent_online", sent.text
    kiosk = await client.post("/reception/outcomes", json=outcome, headers=auth(settings, "k", "kiosk"))
    assert kiosk.status_code == 403
    async with probe(infra, settings.topic("ticketing.ticket")) as watcher:
        events = await watcher.wait_for(lambda e: e.aggregate_id == sent.json()["ticket_id"], count=2)
    assert [e.event_type for e in events] == ["ticketing.TicketIssued", "ticketing.ServiceCompleted"]
    assert events[0].data["channel"] == "reception"
    assert (events[1].data["outcome"], events[1].data["window_no"]) == ("sent_online", 0)
    queue = (await client.get(f"/offices/{OFFICE}/queue")).json()
    assert queue["waiting"] == 1, "only the prioritized ticket waits; the one sent online is done"
