"""A process killed between calling a ticket and pointing the window at it: the window heals itself."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from ticketing import domain
from ticketing.desk import TicketDesk
from ticketing.domain import Ticket
from ticketing.settings import TicketingSettings

from .conftest import OFFICE, auth

pytestmark = pytest.mark.integration
TICKET = {"office_id": OFFICE, "service_id": "housing-certificate"}


def desk_of(client: httpx.AsyncClient) -> TicketDesk:
    desk: TicketDesk = client._transport.app.state.desk  # type: ignore[attr-defined]
    return desk


async def open_window(client: httpx.AsyncClient, headers: dict[str, str], window_no: int) -> None:
    response = await client.post(
        "/windows/open",
        json={"office_id": OFFICE, "window_no": window_no, "service_ids": ["housing-certificate"]},
        headers=headers,
    )
    assert response.status_code == 200, response.text


async def issue(client: httpx.AsyncClient, settings: TicketingSettings, count: int) -> list[str]:
    kiosk = auth(settings, "kiosk-1", "kiosk")
    ids = []
    for _ in range(count):
        response = await client.post("/tickets", json=TICKET, headers=kiosk)
        assert response.status_code == 201, response.text
        ids.append(response.json()["ticket_id"])
    return ids


async def commit_called_without_pointer(desk: TicketDesk, ticket_id: str, window_no: int) -> None:
    """What a process killed between the ticket's commit and point_window leaves behind."""
    current = await desk.store.ticket_doc(ticket_id)
    assert current is not None
    called, data = domain.call(Ticket.from_doc(current), window_no, "op-ref", datetime.now(UTC))
    envelope = desk._event(data, OFFICE, ticket_id, int(current["rev"]) + 1)
    await desk.store.tickets.commit(current, called.to_doc(), [envelope])


async def serve_current(client: httpx.AsyncClient, operator: dict[str, str], window_no: int) -> str:
    started = await client.post(f"/windows/{OFFICE}/{window_no}/start", headers=operator)
    assert started.status_code == 200, started.text
    done = await client.post(
        f"/windows/{OFFICE}/{window_no}/complete", json={"outcome": "served"}, headers=operator
    )
    assert done.status_code == 200 and done.json()["state"] == "done", done.text
    return str(done.json()["ticket_id"])


async def test_a_called_ticket_whose_window_pointer_was_lost_is_still_served_before_the_next(
    settings: TicketingSettings, client: httpx.AsyncClient
) -> None:
    operator = auth(settings, "operator-ivanova")
    await open_window(client, operator, 2)
    first, second = await issue(client, settings, 2)
    called = await client.post(f"/windows/{OFFICE}/2/call-next", headers=operator)
    assert called.status_code == 200 and called.json()["ticket_id"] == first
    # The crash: the ticket is called, but no pointer says so.
    await desk_of(client).store.window_tickets.delete_one({"_id": f"{OFFICE}:2"})

    busy = await client.post(f"/windows/{OFFICE}/2/call-next", headers=operator)
    assert busy.status_code == 409, "the window must not skip its called ticket"
    console = await client.get(f"/windows/{OFFICE}/2", headers=operator)
    assert console.json()["ticket"]["ticket_id"] == first
    assert await serve_current(client, operator, 2) == first

    following = await client.post(f"/windows/{OFFICE}/2/call-next", headers=operator)
    assert following.status_code == 200 and following.json()["ticket_id"] == second


async def test_a_ticket_called_after_the_last_pointer_is_found_though_the_pointer_names_a_finished_one(
    settings: TicketingSettings, client: httpx.AsyncClient
) -> None:
    operator = auth(settings, "operator-petrov")
    await open_window(client, operator, 3)
    first, second, third = await issue(client, settings, 3)
    assert (await client.post(f"/windows/{OFFICE}/3/call-next", headers=operator)).status_code == 200
    assert await serve_current(client, operator, 3) == first
    # Killed mid call-next: the second is committed as called, the pointer still names the first (done).
    await commit_called_without_pointer(desk_of(client), second, 3)

    paused = await client.post(f"/windows/{OFFICE}/3/pause", headers=operator)
    assert paused.status_code == 409, "a window with a called ticket cannot go on a break"
    assert (await client.post(f"/windows/{OFFICE}/3/call-next", headers=operator)).status_code == 409
    assert await serve_current(client, operator, 3) == second

    following = await client.post(f"/windows/{OFFICE}/3/call-next", headers=operator)
    assert following.status_code == 200 and following.json()["ticket_id"] == third


async def test_a_pointer_to_a_ticket_finished_or_at_another_window_leaves_the_window_free(
    settings: TicketingSettings, client: httpx.AsyncClient
) -> None:
    ivanova, petrov = auth(settings, "operator-ivanova"), auth(settings, "operator-petrov")
    await open_window(client, ivanova, 1)
    await open_window(client, petrov, 2)
    first, second = await issue(client, settings, 2)
    assert (await client.post(f"/windows/{OFFICE}/1/call-next", headers=ivanova)).json()["ticket_id"] == first
    # A stale pointer of window 2 naming the ticket window 1 holds: not window 2's ticket.
    await desk_of(client).store.point_window(f"{OFFICE}:2", first)

    called = await client.post(f"/windows/{OFFICE}/2/call-next", headers=petrov)
    assert called.status_code == 200 and called.json()["ticket_id"] == second
    assert await serve_current(client, ivanova, 1) == first
    assert await serve_current(client, petrov, 2) == second
    # Both pointers now name finished tickets: both windows are free and call the next ones.
    later = set(await issue(client, settings, 2))
    for window_no, operator in ((1, ivanova), (2, petrov)):
        console = await client.get(f"/windows/{OFFICE}/{window_no}", headers=operator)
        assert console.json()["ticket"] is None
        free = await client.post(f"/windows/{OFFICE}/{window_no}/call-next", headers=operator)
        assert free.status_code == 200, free.text
        later.discard(free.json()["ticket_id"])
    assert not later
