"""Idempotency-Key on POST /tickets: a retried tap is one ticket, whichever replica each attempt reaches."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
from servicekit.testing import Infra, probe
from ticketing.settings import Settings

from .replicas import replica_set
from .test_ownership import TICKET


async def test_a_retried_ticket_request_with_one_key_is_one_ticket_on_every_replica(
    infra: Infra, make_settings: Any, tmp_path: Path
) -> None:
    settings: Settings = make_settings(Settings)
    async with (
        probe(infra, settings.topic("ticketing.ticket")) as watcher,
        replica_set(infra, settings, tmp_path) as (_, clients),
    ):
        body = {**TICKET, "phone": "+7 917 123-45-67", "channel": "web"}
        key = {"Idempotency-Key": uuid.uuid4().hex}
        # The same tap sent twice to each replica at once (one owns the office, one forwards), then
        # once more after the answers came back.
        at_once = await asyncio.gather(*(c.post("/tickets", json=body, headers=key) for c in clients * 2))
        later = await clients[1].post("/tickets", json=body, headers=key)
        answers = [*at_once, later]
        assert all(a.status_code == 201 for a in answers), [a.text for a in answers]
        issued = {(a.json()["ticket_id"], a.json()["number"], a.json()["citizen_token"]) for a in answers}
        assert len(issued) == 1, issued
        [(ticket_id, number, citizen_token)] = issued
        status = await clients[0].get(f"/tickets/by-token/{citizen_token}")
        assert status.status_code == 200 and status.json()["number"] == number

        other = await clients[0].post("/tickets", json={**body, "language": "en"}, headers=key)
        assert other.status_code == 422, other.text
        assert "different request" in other.json()["reason"]

        fresh = await clients[0].post("/tickets", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
        assert fresh.status_code == 201 and fresh.json()["number"] != number
        # One office's events are in log order on one partition: once the fresh ticket's is there,
        # any second TicketIssued of the retried one would be there too.
        await watcher.wait_for(
            lambda e: (
                e.event_type == "ticketing.TicketIssued" and e.data["ticket_id"] == fresh.json()["ticket_id"]
            )
        )
        assert [e.data["ticket_id"] for e in watcher.of_type("ticketing.TicketIssued")].count(ticket_id) == 1


async def test_a_malformed_idempotency_key_is_refused_with_a_reason(client: httpx.AsyncClient) -> None:
    answer = await client.post("/tickets", json=TICKET, headers={"Idempotency-Key": "short"})
    assert answer.status_code == 422 and "Idempotency-Key" in answer.json()["reason"], answer.text
