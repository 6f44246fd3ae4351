"""A checked-in appointment becomes a ticket once, however often the event is delivered; the kiosk
that checked the citizen in reads its number and mobile link to print."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from contracts.appointments import AppointmentCheckedIn
from servicekit.sealing import token_digest
from servicekit.testing import Infra, eventually, probe
from ticketing.settings import Settings

from .conftest import OFFICE, auth, publish


def handled_check_ins(client: httpx.AsyncClient) -> int:
    runtime = client._transport.app.state.runtime  # type: ignore[attr-defined]
    value = runtime.registry.get_sample_value(
        "onewindow_events_handled_total",
        {"event_type": "appointments.AppointmentCheckedIn", "outcome": "handled"},
    )
    return int(value or 0)


async def test_a_check_in_delivered_twice_issues_one_appointment_ticket_called_first(
    infra: Infra, settings: Settings, client: httpx.AsyncClient
) -> None:
    operator = auth(settings, "operator-f")
    kiosk = auth(settings, "kiosk-f", "kiosk")
    before = await client.get(f"/offices/{OFFICE}/appointment-tickets/ap-42", headers=kiosk)
    assert before.status_code == 404 and before.json()["error"] == "TicketNotFound"
    opened = await client.post(
        "/windows/open",
        json={"office_id": OFFICE, "window_no": 5, "service_ids": ["housing-certificate"]},
        headers=operator,
    )
    assert opened.status_code == 200
    walk_in = (
        await client.post("/tickets", json={"office_id": OFFICE, "service_id": "housing-certificate"})
    ).json()
    now = datetime.now(UTC)
    check_in = AppointmentCheckedIn(
        appointment_id="ap-42",
        service_id="housing-certificate",
        slot_start=now - timedelta(minutes=1),
        checked_in_at=now,
        language="tt",
    )
    for _ in range(2):  # the second is a redelivery
        await publish(infra, settings, [check_in], office_id=OFFICE, aggregate_id="ap-42")

    async def both_handled() -> bool:
        return handled_check_ins(client) >= 2

    await eventually(both_handled, what="two check-in deliveries handled")
    desk = client._transport.app.state.desk  # type: ignore[attr-defined]
    assert await desk.models.tickets.count_documents({"appointment_id": "ap-42"}) == 1
    async with probe(infra, settings.topic("ticketing.ticket")) as watcher:
        issued = await watcher.wait_for(
            lambda e: e.event_type == "ticketing.TicketIssued" and e.data.get("appointment_id") == "ap-42"
        )
    assert len(issued) == 1
    assert issued[0].data["channel"] == "appointment" and issued[0].data["language"] == "tt"
    assert issued[0].data["citizen_token_sealed"], "the notifier can send the mobile link"

    # The kiosk shows and prints the number, place and mobile link like a walk-in's.
    slip = await client.get(f"/offices/{OFFICE}/appointment-tickets/ap-42", headers=kiosk)
    assert slip.status_code == 200, slip.text
    assert slip.json()["number"] == issued[0].data["number"] and slip.json()["position"] == 1
    assert issued[0].data["citizen_token_digest"] == token_digest(slip.json()["citizen_token"])
    mobile = await client.get(f"/tickets/by-token/{slip.json()['citizen_token']}")
    assert mobile.json()["number"] == issued[0].data["number"]
    anonymous = await client.get(f"/offices/{OFFICE}/appointment-tickets/ap-42")
    other_office = await client.get(
        f"/offices/{OFFICE}/appointment-tickets/ap-42", headers=auth(settings, "k", "kiosk", "elsewhere")
    )
    assert (anonymous.status_code, other_office.status_code) == (401, 403)
    called = await client.post(f"/windows/{OFFICE}/5/call-next", headers=operator)
    assert called.json()["appointment_id"] == "ap-42", "a due appointment goes before the earlier walk-in"
    assert called.json()["ticket_id"] != walk_in["ticket_id"]
