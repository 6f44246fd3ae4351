"""System-test fixtures: one whole System per module (five services, ticketing twice), its HTTP APIs,
and a Kafka cluster of three brokers of its own for the modules that ask for one."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import httpx
import pytest
from testbed.chaos import note
from testbed.harness import Api, System
from testbed.kafka_cluster import KafkaCluster


@pytest.fixture(scope="module")
async def system() -> AsyncIterator[System]:
    started = System()
    try:
        await started.start()
        yield started
    finally:
        started.stop()
        await started.destroy()


@pytest.fixture(scope="module")
async def api(system: System) -> AsyncIterator[Api]:
    async with httpx.AsyncClient() as client:
        yield Api(system, client)


@pytest.fixture(scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[KafkaCluster]:
    """Three KRaft nodes on their own ports and var/ directory (the shared broker is not touched);
    their logs are kept in the test's temporary directory."""
    if shutil.which("java") is None:
        pytest.fail("java is needed for the Kafka cluster (deploy/local/infra.sh install)")
    started = KafkaCluster(brokers=3)
    try:
        note(f"3-broker cluster up on {started.bootstrap} in {await started.start():.0f}s")
        yield started
    finally:
        keep = tmp_path_factory.mktemp("kafka-cluster-logs")
        for log in started.logs():
            shutil.copy(log, keep / f"{log.parent.name}.log")
        started.destroy()
