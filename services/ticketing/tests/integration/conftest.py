"""Fixtures for ticketing against real Kafka and the store: a published catalog, staff tokens, a client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from contracts import EventData, new_event
from contracts.samples import sample_office, sample_service
from servicekit.auth import Role
from servicekit.testing import Infra, eventually, running, staff_headers
from servicekit.testing import publish as kit_publish
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
    """Catalog (and other) payloads as their producers would send them, on the test's topics."""
    envelopes = []
    for data in events:
        office_id = envelope.get("office_id") or getattr(data, "office_id", None) or "kazan"
        aggregate_id = (
            envelope.get("aggregate_id")
            or getattr(data, "office_id", None)
            or getattr(data, "service_id", "x")
        )
        if data.EVENT_TYPE == "catalog.ServicePublished":
            office_id, aggregate_id = "kazan", data.service_id  # type: ignore[attr-defined]
        envelopes.append(
            new_event(
                data, producer="test", office_id=office_id, aggregate_id=aggregate_id, aggregate_version=1
            )
        )
    await kit_publish(infra.kafka, settings.topic_prefix, envelopes)


def auth(
    settings: Settings, subject: str, role: Role = "operator", office_id: str | None = OFFICE
) -> dict[str, str]:
    return staff_headers(settings, role, office_id, subject)


async def catalog_ready(client: httpx.AsyncClient, office_id: str = OFFICE, services: int = 3) -> None:
    async def ready() -> bool:
        response = await client.get(f"/offices/{office_id}/queue")
        if response.status_code != 200:
            return False
        desk = client._transport.app.state.desk  # type: ignore[attr-defined]
        return int(await desk.catalog.services.count_documents({})) >= services

    await eventually(ready, what="catalog view")


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
