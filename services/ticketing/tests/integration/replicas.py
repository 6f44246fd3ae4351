"""Ticketing replicas as real processes on one Kafka and one store, for the multi-replica tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from contracts.catalog import Zone
from contracts.common import LocalizedText
from contracts.samples import sample_office, sample_service
from servicekit.testing import Infra, eventually
from ticketing.owner import partition_of
from ticketing.settings import Settings

from .conftest import OFFICE, publish

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


def process_env(settings: Settings, port: int) -> dict[str, str]:
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


@dataclass
class Replica:
    url: str
    process: subprocess.Popen[bytes]

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)

    def pause(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)


@contextlib.contextmanager
def processes(settings: Settings, logs: Path, count: int = 2, **env: str) -> Iterator[list[Replica]]:
    with processes_at(settings, logs, [str(free_port()) for _ in range(count)], **env) as started:
        yield started


@contextlib.contextmanager
def processes_at(settings: Settings, logs: Path, ports: list[str], **env: str) -> Iterator[list[Replica]]:
    started: list[Replica] = []
    try:
        for port_text in ports:
            port = int(port_text)
            log = (logs / f"ticketing-{port}.log").open("ab")
            process = subprocess.Popen(
                [sys.executable, "-m", "ticketing"],
                env={**process_env(settings, port), **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            started.append(Replica(f"http://127.0.0.1:{port}", process))
        yield started
    finally:
        for replica in started:
            if replica.process.poll() is None:
                replica.resume()
                replica.process.send_signal(signal.SIGTERM)
        for replica in started:
            try:
                replica.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                replica.process.kill()


async def serving(clients: list[httpx.AsyncClient], office_id: str = OFFICE) -> None:
    """Every replica answers for the office (itself or through the owner)."""

    async def all_serve() -> bool:
        for client in clients:
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(f"/offices/{office_id}/queue")).status_code == 200:
                    continue
            return False
        return True

    await eventually(all_serve, within=60, what="every replica serving the office")


@contextlib.asynccontextmanager
async def replica_set(
    infra: Infra, settings: Settings, logs: Path, count: int = 2, **env: str
) -> AsyncIterator[tuple[list[Replica], list[httpx.AsyncClient]]]:
    await publish(infra, settings, [big_office(), sample_service("housing-certificate", office_id=OFFICE)])
    with processes(settings, logs, count, **env) as started:
        # Below uvicorn's 5 s keep-alive, so a pooled connection is never reused as the server closes it.
        limits = httpx.Limits(max_connections=100, keepalive_expiry=2.0)
        async with contextlib.AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(httpx.AsyncClient(base_url=r.url, timeout=60, limits=limits))
                for r in started
            ]
            await serving(clients)
            yield started, clients


@contextlib.asynccontextmanager
async def replicas(infra: Infra, settings: Settings, logs: Path) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with replica_set(infra, settings, logs) as (_, clients):
        yield clients


async def owner_url(db: Any, office_id: str = OFFICE, partitions: int = 12) -> str | None:
    """The replica that claimed the office's ownership partition last (what the replicas forward to)."""
    doc = await db["office_owners"].find_one({"_id": str(partition_of(office_id, partitions))})
    return str(doc["url"]) if doc else None
