"""Two ticketing processes on one Kafka and one store: no ticket called twice or skipped, no number twice."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from contracts.catalog import Zone
from contracts.common import LocalizedText
from contracts.samples import sample_office, sample_service
from servicekit.testing import Infra
from ticketing.settings import TicketingSettings

from .conftest import OFFICE, auth, publish, wait_until

pytestmark = pytest.mark.integration
WINDOWS = 40


def big_office() -> Any:
    """The sample office with 40 windows in two zones, open all day."""
    zones = [
        Zone(zone_id="z1", name=LocalizedText(ru="Зона 1"), kind="acceptance", windows=list(range(1, 21))),
        Zone(zone_id="z2", name=LocalizedText(ru="Зона 2"), kind="issuance", windows=list(range(21, 41))),
    ]
    return sample_office(OFFICE, all_day=True).model_copy(update={"zones": zones})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_env(settings: TicketingSettings, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "ONEWINDOW_KAFKA": settings.kafka_bootstrap,
        "ONEWINDOW_MONGO_URL": settings.mongo_url,
        "ONEWINDOW_TOPIC_PREFIX": settings.topic_prefix,
        "ONEWINDOW_JWT_SECRET": settings.jwt_secret.get_secret_value(),
        "ONEWINDOW_NOTIFIER_PUBLIC_KEY": settings.notifier_public_key,
        # The sweeper is the safety net (the relay is notified on commit); it scans, so not too often.
        "ONEWINDOW_OUTBOX_SWEEP_SECONDS": "5",
        "ONEWINDOW_LOG_LEVEL": "INFO",
        "TICKETING_MONGO_DB": settings.database_name,
        "TICKETING_HTTP_PORT": str(port),
    }


@contextlib.contextmanager
def two_processes(settings: TicketingSettings, logs: Path) -> Iterator[list[str]]:
    started: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for n in range(2):
            port = free_port()
            log = (logs / f"ticketing-{n}.log").open("wb")
            started.append(
                subprocess.Popen(
                    [sys.executable, "-m", "ticketing"],
                    env=process_env(settings, port),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        yield urls
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@contextlib.asynccontextmanager
async def replicas(
    infra: Infra, settings: TicketingSettings, logs: Path
) -> AsyncIterator[list[httpx.AsyncClient]]:
    await publish(infra, settings, [big_office(), sample_service("housing-certificate", office_id=OFFICE)])
    with two_processes(settings, logs) as urls:
        # Below uvicorn's 5 s keep-alive, so a pooled connection is never reused as the server closes it.
        limits = httpx.Limits(max_connections=100, keepalive_expiry=2.0)
        async with contextlib.AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=300, limits=limits))
                for url in urls
            ]

            async def both_serve_the_office() -> bool:
                for client in clients:
                    with contextlib.suppress(httpx.TransportError):
                        if (await client.get(f"/offices/{OFFICE}/queue")).status_code == 200:
                            continue
                    return False
                return True

            await wait_until(both_serve_the_office, within=60, what="both processes serving the office")
            yield clients


async def test_forty_operators_on_two_processes_never_get_the_same_ticket_and_never_skip_one(
    infra: Infra, make_settings: Any, tmp_path: Path
) -> None:
    settings: TicketingSettings = make_settings(TicketingSettings)
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
    settings: TicketingSettings = make_settings(TicketingSettings)
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
