"""The secured local Kafka (`deploy/local/infra.sh up --secure`): SASL_SSL with SCRAM principals and
the ACLs of deploy/kafka-security/acls.sh. A service's own producer (the kit's, with its TLS context)
writes its own topics, and is refused a topic it does not own.

Opt-in (`-m secure`), not in CI: it starts its own broker on free ports in a temporary folder, and
creating the principals and ACLs with the Kafka tools (a JVM per acls.sh line) takes 2-3 minutes on
two busy cores; the whole test about 3-4 minutes.

    uv run pytest -m secure tests/infra/test_secured_kafka.py
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.errors import KafkaError
from contracts import new_event
from contracts.samples import sample_office
from servicekit.kafka import EventProducer
from servicekit.settings import ServiceSettings

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
