"""The secured local Kafka (`deploy/local/infra.sh up --secure`): SASL_SSL with SCRAM principals and
the ACLs of deploy/kafka-security/acls.sh. A service's own producer (the kit's, with its TLS context)
writes its own topics, and is refused a topic it does not own; ticketing runs on it with its own
principal (catalog events in, its ownership topic and groups, tickets out).

In every `make test` (CI included): it starts its own broker on free ports in a temporary folder, and
creating the principals and ACLs with the Kafka tools (a JVM per acls.sh line) takes 2-3 minutes on
two busy cores; the whole test about 3-4 minutes.

    uv run pytest -m secure tests/infra/test_secured_kafka.py
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import KafkaError
from contracts import new_event
from contracts.registry import decode
from contracts.samples import sample_office, sample_service
from contracts.topics import admin_security
from servicekit.auth import issue_token
from servicekit.kafka import EventProducer
from servicekit.settings import ServiceSettings
from servicekit.store import connect
from servicekit.testing import Infra, running
from ticketing.main import create_app
from ticketing.settings import Settings

pytestmark = pytest.mark.secure

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "deploy/local/infra.sh"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """(bootstrap, kafka-secure folder) of a secured broker of this test's own."""
    var = tmp_path_factory.mktemp("secured-kafka")
    port = _free_port()
    env = {
        **os.environ,
        "ONEWINDOW_VAR": str(var),
        "ONEWINDOW_KAFKA_PORT": str(port),
        "ONEWINDOW_KAFKA_CONTROLLER_PORT": str(_free_port()),
        "ONEWINDOW_READY_TIMEOUT": "180",
    }
    for name in ("ONEWINDOW_KAFKA", "ONEWINDOW_TOPIC_PREFIX"):
        env.pop(name, None)
    subprocess.run([str(INFRA), "up", "--secure", "--kafka-only"], env=env, check=True, timeout=900)
    try:
        yield f"127.0.0.1:{port}", var / "kafka-secure"
    finally:
        subprocess.run([str(INFRA), "down", "--kafka-only"], env=env, check=False, timeout=120)


def service_settings(service: str, bootstrap: str, secure_dir: Path) -> ServiceSettings:
    credentials = dict(
        line.split("=", 1)
        for line in (secure_dir / "credentials.env").read_text().splitlines()
        if "=" in line
    )
    return ServiceSettings.model_validate(
        {
            "service_name": service,
            "ONEWINDOW_KAFKA": bootstrap,
            "ONEWINDOW_TOPIC_PREFIX": "",
            "ONEWINDOW_KAFKA_SASL_USERNAME": service,
            "ONEWINDOW_KAFKA_SASL_PASSWORD": credentials[f"ONEWINDOW_KAFKA_PASSWORD_{service.upper()}"],
            "ONEWINDOW_KAFKA_USE_SSL": "true",
            "ONEWINDOW_KAFKA_SSL_CAFILE": str(secure_dir / "ca.pem"),
        }
    )


async def test_a_service_writes_its_own_topic_and_is_refused_one_it_does_not_own(
    secured: tuple[str, Path],
) -> None:
    bootstrap, secure_dir = secured
    office = sample_office("kzn-secure")
    event = new_event(
        office, producer="catalog", office_id="kzn-secure", aggregate_id="kzn-secure", aggregate_version=1
    )

    catalog = EventProducer(service_settings("catalog", bootstrap, secure_dir))
    await catalog.start()
    try:
        await catalog.publish(event)  # catalog.office is the catalog's own topic
    finally:
        await catalog.stop()

    intruder = EventProducer(service_settings("ticketing", bootstrap, secure_dir))
    await intruder.start()
    try:
        with pytest.raises(KafkaError, match="TopicAuthorizationFailed"):
            await intruder.publish(event)  # ticketing may read catalog.office, never write it
    finally:
        await intruder.stop()


def secured_env(service: str, bootstrap: str, secure_dir: Path) -> dict[str, str]:
    settings = service_settings(service, bootstrap, secure_dir)
    return {
        "ONEWINDOW_KAFKA": bootstrap,
        "ONEWINDOW_TOPIC_PREFIX": "",
        "ONEWINDOW_KAFKA_SASL_USERNAME": service,
        "ONEWINDOW_KAFKA_SASL_PASSWORD": settings.kafka_sasl_password.get_secret_value(),
        "ONEWINDOW_KAFKA_USE_SSL": "true",
        "ONEWINDOW_KAFKA_SSL_CAFILE": settings.kafka_ssl_cafile,
    }


async def test_ticketing_issues_and_calls_with_its_own_principal_on_the_secured_broker(
    secured: tuple[str, Path], infra: Infra, keypair: tuple[str, str]
) -> None:
    bootstrap, secure_dir = secured
    office_id = f"kzn-sec-{uuid.uuid4().hex[:6]}"
    catalog = EventProducer(service_settings("catalog", bootstrap, secure_dir))
    await catalog.start()
    try:
        await catalog.publish(
            new_event(
                sample_office(office_id, all_day=True),
                producer="catalog",
                office_id=office_id,
                aggregate_id=office_id,
                aggregate_version=1,
            )
        )
        await catalog.publish(
            new_event(
                sample_service(office_id=office_id),
                producer="catalog",
                office_id="kazan",
                aggregate_id="housing-certificate",
                aggregate_version=1,
            )
        )
    finally:
        await catalog.stop()

    secret = uuid.uuid4().hex * 2
    settings = Settings.model_validate(
        {
            **secured_env("ticketing", bootstrap, secure_dir),
            "ONEWINDOW_MONGO_URL": infra.mongo_url,
            "ONEWINDOW_JWT_SECRET": secret,
            "ONEWINDOW_NOTIFIER_PUBLIC_KEY": keypair[0],
            "mongo_db": f"secured_{office_id.replace('-', '_')}",
        }
    )
    kiosk = {"Authorization": "Bearer " + issue_token(secret, subject="k", role="kiosk", office_id=office_id)}
    operator = {
        "Authorization": "Bearer " + issue_token(secret, subject="o", role="operator", office_id=office_id)
    }
    try:
        async with running(create_app(settings)) as client:
            deadline = time.monotonic() + 90
            while (await client.get(f"/offices/{office_id}/queue")).status_code != 200:
                assert time.monotonic() < deadline, "ticketing never learned the office from catalog.office"
                await asyncio.sleep(0.5)
            body = {"office_id": office_id, "window_no": 1, "service_ids": ["housing-certificate"]}
            while (
                opened := await client.post("/windows/open", json=body, headers=operator)
            ).status_code != 200:
                assert time.monotonic() < deadline, opened.text  # the service arrives on its own topic
                await asyncio.sleep(0.5)
            issued = await client.post(
                "/tickets", json={"office_id": office_id, "service_id": "housing-certificate"}, headers=kiosk
            )
            assert issued.status_code == 201, issued.text
            called = await client.post(f"/windows/{office_id}/1/call-next", headers=operator)
            assert called.status_code == 200, called.text
            assert (await client.get("/health/ready")).json()["publishing"] == "ok"
        found = await events_of(
            bootstrap, secure_dir, "ticketing.ticket", issued.json()["ticket_id"], count=2
        )
        assert [e.event_type for e in found] == ["ticketing.TicketIssued", "ticketing.TicketCalled"]
    finally:
        mongo = connect(infra.mongo_url, app_name="tests")
        await mongo.drop_database(settings.database_name)
        await mongo.close()


async def events_of(bootstrap: str, secure_dir: Path, topic: str, aggregate_id: str, count: int) -> list[Any]:
    """The events of one aggregate on a topic, read as the admin (a super user) from the beginning."""
    admin = secure_dir / "credentials.env"
    password = dict(line.split("=", 1) for line in admin.read_text().splitlines())[
        "ONEWINDOW_KAFKA_PASSWORD_ADMIN"
    ]
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        **admin_security("admin", password, use_ssl=True, cafile=str(secure_dir / "ca.pem")),
    )
    await consumer.start()
    found: list[Any] = []
    try:
        deadline = time.monotonic() + 60
        while len(found) < count:
            assert time.monotonic() < deadline, f"{len(found)} of {count} events of {aggregate_id} on {topic}"
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    envelope, _ = decode(record.value)
                    if envelope.aggregate_id == aggregate_id:
                        found.append(envelope)
    finally:
        await consumer.stop()
    return found
