"""Two ticketing processes on one Kafka and one store: no ticket called twice or skipped, no number twice."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
from servicekit.testing import Infra
from ticketing.settings import Settings

from .conftest import OFFICE, auth
from .replicas import WINDOWS, replicas


async def test_forty_operators_on_two_processes_never_get_the_same_ticket_and_never_skip_one(
    infra: Infra, make_settings: Any, tmp_path: Path
) -> None:
    settings: Settings = make_settings(Settings)
    async with replicas(infra, settings, tmp_path) as clients:
        kiosk = auth(settings, "kiosk-1", "kiosk")
        issued = []
        for n in range(60):  # one after another: the order of issue is the order of service
            response = await clients[n % 2].post(
                "/tickets", json={"office_id": OFFICE, "service_id": "housing-certificate"}, headers=kiosk
            )
            assert response.status_code == 201, response.text
            issued.append(response.json()["ticket_id"])
        operators = [auth(settings, f"operator-{w}") for w in range(1, WINDOWS + 1)]
        for w in range(1, WINDOWS + 1):
            opened = await clients[w % 2].post(
                "/windows/open",
                json={"office_id": OFFICE, "window_no": w, "service_ids": ["housing-certificate"]},
                headers=operators[w - 1],
            )
            assert opened.status_code == 200, opened.text

        async def call(w: int) -> httpx.Response:
            return await clients[w % 2].post(f"/windows/{OFFICE}/{w}/call-next", headers=operators[w - 1])

        first = await asyncio.gather(*(call(w) for w in range(1, WINDOWS + 1)))
        assert [r.status_code for r in first] == [200] * WINDOWS, [
            r.text for r in first if r.status_code != 200
        ]
        first_ids = [r.json()["ticket_id"] for r in first]
        assert len(set(first_ids)) == WINDOWS, "two operators got the same ticket"
        assert set(first_ids) == set(issued[:WINDOWS]), "a waiting ticket was skipped"
        by_window = {r.json()["window_no"] for r in first}
        assert by_window == set(range(1, WINDOWS + 1))

        async def finish(w: int) -> None:
            client = clients[(w + 1) % 2]  # the other process finishes what this one called
            assert (
                await client.post(f"/windows/{OFFICE}/{w}/start", headers=operators[w - 1])
            ).status_code == 200
            done = await client.post(
                f"/windows/{OFFICE}/{w}/complete", json={"outcome": "served"}, headers=operators[w - 1]
            )
            assert done.status_code == 200, done.text

        await asyncio.gather(*(finish(w) for w in range(1, WINDOWS + 1)))
        second = await asyncio.gather(*(call(w) for w in range(1, WINDOWS + 1)))
        called_again = [r.json()["ticket_id"] for r in second if r.status_code == 200]
        assert sorted(r.status_code for r in second) == [200] * 20 + [409] * 20
        assert set(called_again) == set(issued[WINDOWS:])
        assert len(set(first_ids) | set(called_again)) == 60


async def test_five_hundred_tickets_at_once_on_two_processes_get_five_hundred_distinct_numbers(
    infra: Infra, make_settings: Any, tmp_path: Path
) -> None:
    settings: Settings = make_settings(Settings)
    async with replicas(infra, settings, tmp_path) as clients:
        kiosk = auth(settings, "kiosk-1", "kiosk")
        in_flight = asyncio.Semaphore(50)

        async def take(n: int) -> httpx.Response:
            async with in_flight:
                return await clients[n % 2].post(
                    "/tickets", json={"office_id": OFFICE, "service_id": "housing-certificate"}, headers=kiosk
                )

        started = time.monotonic()
        responses = await asyncio.gather(*(take(n) for n in range(500)))
        elapsed = time.monotonic() - started
        failed = [r.text for r in responses if r.status_code != 201]
        assert not failed, failed[:3]
        numbers = [r.json()["number"] for r in responses]
        assert len(set(numbers)) == 500, "a number was issued twice"
        # No gaps either: every claim that lost to the other process moved on to the next free number.
        assert sorted(numbers) == [f"А{n:03d}" for n in range(1, 501)]
        print(f"500 tickets on two processes in {elapsed:.1f}s")
