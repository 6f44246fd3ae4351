"""Fixtures for ticketing against real Kafka and the store: a published catalog, staff tokens, a client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from contracts import EventData, new_event
from contracts.registry import encode, partition_key, topic_for
from contracts.samples import sample_office, sample_service
from servicekit.auth import Role, issue_token
from servicekit.testing import Infra, running
from ticketing.main import create_app
from ticketing.settings import Settings

OFFICE = "kzn-kirov-moskov"


def catalog_events(office_id: str = OFFICE) -> list[EventData]:
    """The sample office (open all day) with three services in two zones."""
    return [
        sample_office(office_id, all_day=True),
        sample_service(
            "housing-certificate", letter="А", office_id=office_id, zone_id="z1", expected_minutes=10
        ),
        sample_service("social-benefit", letter="Б", office_id=office_id, zone_id="z2", expected_minutes=20),
        sample_service("passport-issue", letter="В", office_id=office_id, zone_id="z3", expected_minutes=5),
    ]


async def publish(infra: Infra, settings: Settings, events: list[EventData], **envelope: Any) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for data in events:
            office_id = envelope.get("office_id") or getattr(data, "office_id", None) or "kazan"
            aggregate_id = (
                envelope.get("aggregate_id")
                or getattr(data, "office_id", None)
                or getattr(data, "service_id", "x")
            )
            if data.EVENT_TYPE == "catalog.ServicePublished":
                office_id, aggregate_id = "kazan", data.service_id  # type: ignore[attr-defined]
            event = new_event(
                data, producer="test", office_id=office_id, aggregate_id=aggregate_id, aggregate_version=1
            )
            await producer.send_and_wait(
                settings.topic(topic_for(event.event_type).name), encode(event), key=partition_key(event)
            )
    finally:
        await producer.stop()


async def wait_until(
    check: Callable[[], Awaitable[bool]], within: float = 30.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {within}s")
        await asyncio.sleep(0.1)


def token(settings: Settings, subject: str, role: Role = "operator", office_id: str | None = OFFICE) -> str:
    return issue_token(
        settings.jwt_secret.get_secret_value(), subject=subject, role=role, office_id=office_id
    )


def auth(
    settings: Settings,
    subject: str,
    role: Role = "operator",
    office_id: str | None = OFFICE,
) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(settings, subject, role, office_id)}"}


async def catalog_ready(client: httpx.AsyncClient, office_id: str = OFFICE, services: int = 3) -> None:
    async def ready() -> bool:
        response = await client.get(f"/offices/{office_id}/queue")
        if response.status_code != 200:
            return False
        desk = client._transport.app.state.desk  # type: ignore[attr-defined]
        return int(await desk.catalog.services.count_documents({})) >= services

    await wait_until(ready, what="catalog view")


@pytest.fixture
def settings(make_settings: Callable[..., Any]) -> Settings:
    result: Settings = make_settings(
        Settings, TICKETING_SLA_CHECK_SECONDS=3600, TICKETING_END_OF_DAY_CHECK_SECONDS=3600
    )
    return result


@pytest.fixture
async def client(infra: Infra, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    await publish(infra, settings, catalog_events())
    async with running(create_app(settings)) as http:
        await catalog_ready(http)
        yield http
