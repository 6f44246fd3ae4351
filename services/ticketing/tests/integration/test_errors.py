"""Bad input and refused steps answer with a clear 4xx and a reason; nothing half-done stays behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from contracts import calendar
from contracts.catalog import DateException
from contracts.samples import sample_office, sample_service
from servicekit.testing import Infra, running
from ticketing.main import create_app
from ticketing.settings import Settings

from .conftest import OFFICE, auth, catalog_ready, publish

TICKET = {"office_id": OFFICE, "service_id": "housing-certificate"}


async def open_window(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    window_no: int,
    services: tuple[str, ...] = ("housing-certificate",),
) -> None:
    response = await client.post(
        "/windows/open",
        json={"office_id": OFFICE, "window_no": window_no, "service_ids": list(services)},
        headers=headers,
    )
    assert response.status_code == 200, response.text


async def test_unknown_office_or_service_is_404_and_unknown_priority_422(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    unknown_office = await client.post("/tickets", json={**TICKET, "office_id": "nowhere"})
    assert unknown_office.status_code == 404 and "nowhere" in unknown_office.json()["reason"]
    unknown_service = await client.post("/tickets", json={**TICKET, "service_id": "moon-landing"})
    assert unknown_service.status_code == 404 and "moon-landing" in unknown_service.json()["reason"]
    kiosk = auth(settings, "kiosk-1", "kiosk")
    bad_category = await client.post("/tickets", json={**TICKET, "priority_category": "vip"}, headers=kiosk)
    assert bad_category.status_code == 422 and "vip" in bad_category.json()["reason"]
    claimed = await client.post("/tickets", json={**TICKET, "priority_category": "pregnant"})
    assert claimed.status_code == 403 and "confirmed by staff" in claimed.json()["reason"]
    bad_phone = await client.post("/tickets", json={**TICKET, "phone": "call me"})
    assert bad_phone.status_code == 422 and bad_phone.json()["fields"][0]["field"] == "phone"


async def test_a_closed_office_refuses_tickets_with_its_hours(infra: Infra, make_settings: Any) -> None:
    settings: Settings = make_settings(Settings)
    today = calendar.local_day(sample_office(OFFICE), datetime.now(UTC))
    holiday = DateException(date=today, closed=True, note="holiday")
    office = sample_office(OFFICE).model_copy(update={"exceptions": [holiday]})
    await publish(infra, settings, [office, sample_service(office_id=OFFICE)])
    async with running(create_app(settings)) as client:
        await catalog_ready(client, services=1)
        response = await client.post("/tickets", json=TICKET)
    assert response.status_code == 409, response.text
    body = response.json()
    assert "closed" in body["reason"]
    assert body["hours"].startswith("Mon 08:00-18:00 (break 13:00-14:00)")
    assert datetime.fromisoformat(body["next_opening"]).date() > today


async def test_kiosks_stop_issuing_the_cutoff_before_closing_and_the_reception_does_not(
    infra: Infra, make_settings: Any
) -> None:
    settings: Settings = make_settings(Settings)
    now = datetime.now(UTC)
    # Open all day without a lunch break (the sample office's 13:00-14:00 break would answer
    # OfficeClosed at that hour), closing in 30 minutes today.
    open_all_day = sample_office(OFFICE, all_day=True)
    local = calendar.local_now(open_all_day, now)
    soon = local + timedelta(minutes=30)
    close = "24:00" if soon.date() != local.date() else f"{soon:%H:%M}"
    today = DateException(date=local.date(), open="00:00", close=close, note="short day")
    office = open_all_day.model_copy(update={"exceptions": [today], "issue_cutoff_minutes": 60})
    await publish(infra, settings, [office, sample_service(office_id=OFFICE)])
    async with running(create_app(settings)) as client:
        await catalog_ready(client, services=1)
        kiosk = auth(settings, "kiosk-1", "kiosk")
        refused = await client.post("/tickets", json=TICKET, headers=kiosk)
        reception = await client.post(
            "/tickets", json={**TICKET, "channel": "reception"}, headers=auth(settings, "r", "reception")
        )
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "IssuingStopped" and refused.json()["cutoff_minutes"] == 60
    assert "no longer issued today" in refused.json()["reason"]
    assert reception.status_code == 201, reception.text


async def test_only_the_operator_who_opened_a_window_acts_at_it(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    owner, stranger = auth(settings, "operator-a"), auth(settings, "operator-b")
    await open_window(client, owner, 1)
    assert (await client.post("/tickets", json=TICKET)).status_code == 201
    taken = await client.post(
        "/windows/open",
        json={"office_id": OFFICE, "window_no": 1, "service_ids": ["housing-certificate"]},
        headers=stranger,
    )
    assert taken.status_code == 409
    refused = await client.post(f"/windows/{OFFICE}/1/call-next", headers=stranger)
    assert refused.status_code == 403 and "another operator" in refused.json()["reason"]
    other_office = auth(settings, "operator-a", office_id="elsewhere")
    assert (await client.post(f"/windows/{OFFICE}/1/call-next", headers=other_office)).status_code == 403
    assert (await client.post(f"/windows/{OFFICE}/1/call-next")).status_code == 401
    assert (await client.post(f"/windows/{OFFICE}/1/call-next", headers=owner)).status_code == 200


async def test_completing_twice_recalling_a_finished_ticket_and_transferring_nowhere_are_refused(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    operator = auth(settings, "operator-c")
    await open_window(client, operator, 2)
    issued = (await client.post("/tickets", json=TICKET)).json()
    ticket = {"ticket_id": issued["ticket_id"]}
    assert (await client.post(f"/windows/{OFFICE}/2/call-next", headers=operator)).status_code == 200
    nowhere = await client.post(
        f"/windows/{OFFICE}/2/transfer", json={"to_service_id": "nowhere"}, headers=operator
    )
    assert nowhere.status_code == 422 and "nowhere" in nowhere.json()["reason"]
    assert (await client.post(f"/windows/{OFFICE}/2/start", headers=operator)).status_code == 200
    done = await client.post(
        f"/windows/{OFFICE}/2/complete", json={"outcome": "served", **ticket}, headers=operator
    )
    assert done.status_code == 200
    again = await client.post(
        f"/windows/{OFFICE}/2/complete", json={"outcome": "served", **ticket}, headers=operator
    )
    assert again.status_code == 409 and "done" in again.json()["reason"]
    recall = await client.post(f"/windows/{OFFICE}/2/recall", json=ticket, headers=operator)
    assert recall.status_code == 409
    empty = await client.post(f"/windows/{OFFICE}/2/call-next", headers=operator)
    assert empty.status_code == 409 and "nobody is waiting" in empty.json()["reason"]


async def test_a_transfer_and_a_multi_service_visit_keep_one_ticket_through_several_windows(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    first, second = auth(settings, "operator-d"), auth(settings, "operator-e")
    await open_window(client, first, 3)
    await open_window(client, second, 4, ("social-benefit", "passport-issue"))
    kiosk = auth(settings, "kiosk-2", "kiosk")
    visit = await client.post(
        "/tickets",
        json={
            "office_id": OFFICE,
            "channel": "kiosk",
            "service_ids": ["housing-certificate", "passport-issue"],
        },
        headers=kiosk,
    )
    assert visit.status_code == 201, visit.text
    token = visit.json()["citizen_token"]
    assert (await client.post(f"/windows/{OFFICE}/3/call-next", headers=first)).status_code == 200
    await client.post(f"/windows/{OFFICE}/3/start", headers=first)
    step = await client.post(f"/windows/{OFFICE}/3/complete", json={"outcome": "served"}, headers=first)
    assert step.json()["state"] == "waiting" and step.json()["service_id"] == "passport-issue"
    status = (await client.get(f"/tickets/by-token/{token}")).json()
    assert status["state"] == "waiting" and status["position"] == 1 and status["zone_id"] == "z3"
    called = await client.post(f"/windows/{OFFICE}/4/call-next", headers=second)
    assert called.json()["number"] == visit.json()["number"]
    moved = await client.post(
        f"/windows/{OFFICE}/4/transfer", json={"to_service_id": "social-benefit"}, headers=second
    )
    assert moved.status_code == 200 and moved.json()["service_id"] == "social-benefit"
    again = await client.post(f"/windows/{OFFICE}/4/call-next", headers=second)
    assert again.json()["ticket_id"] == visit.json()["ticket_id"]
    console = (await client.get(f"/windows/{OFFICE}/4", headers=second)).json()
    assert console["ticket"]["service_id"] == "social-benefit" and console["ticket"]["state"] == "called"


async def test_a_citizen_cancels_by_the_link_and_the_link_reveals_nothing_else(
    client: httpx.AsyncClient,
) -> None:
    issued = (await client.post("/tickets", json=TICKET)).json()
    assert (await client.get("/tickets/by-token/not-a-real-token")).status_code == 404
    cancelled = await client.post(f"/tickets/by-token/{issued['citizen_token']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    twice = await client.post(f"/tickets/by-token/{issued['citizen_token']}/cancel")
    assert twice.status_code == 409
    queue = (await client.get(f"/offices/{OFFICE}/queue")).json()
    assert queue["waiting"] == 0


async def test_the_replicas_internal_check_in_endpoint_refuses_unsigned_and_malformed_calls(
    client: httpx.AsyncClient,
) -> None:
    unsigned = await client.post("/internal/check-ins", content=b"{}")
    assert unsigned.status_code == 403 and "internal" in unsigned.json()["reason"]
    forwarder = client._transport.app.state.forwarder  # type: ignore[attr-defined]
    signed = {"x-onewindow-forwarded": forwarder.signature("POST", "/internal/check-ins")}
    garbage = await client.post("/internal/check-ins", content=b"not an event", headers=signed)
    assert garbage.status_code == 409 and "not a check-in" in garbage.json()["reason"]
