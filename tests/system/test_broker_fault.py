"""The Kafka broker killed (-9) mid-stream and restarted, then reconcile.

The System runs on a single-broker Kafka of its own (testbed.kafka_cluster), so the kill never
touches the shared broker that other test runs use, the restart recovers only this System's
partitions, and the backlog it leaves cannot spill into the other fault tests.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from testbed.chaos import Traffic, note, office, reconciled, traffic
from testbed.harness import Api, System
from testbed.kafka_cluster import KafkaCluster

__all__ = ["office", "traffic"]  # module-scoped fixtures, one System per module

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
async def system(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    """This module's System, on a broker of its own (overrides tests/system/conftest.py's)."""
    if shutil.which("java") is None:
        pytest.fail("java is needed for the Kafka of this test (deploy/local/infra.sh install)")
    cluster = KafkaCluster(brokers=1)
    started: System | None = None
    try:
        seconds = await cluster.start()
        note(f"private broker up on {cluster.bootstrap} in {seconds:.0f}s")
        started = System(cluster=cluster)
        await started.start()
        yield started
    finally:
        if started is not None:
            started.stop()
            await started.destroy()
        keep = tmp_path_factory.mktemp("broker-fault-kafka-logs")
        for log in cluster.logs():
            shutil.copy(log, keep / f"{log.parent.name}.log")
        cluster.destroy()


async def test_broker_killed_mid_stream_loses_no_acknowledged_ticket(
    system: System, api: Api, traffic: Traffic, tmp_path: Path
) -> None:
    traffic.start()
    await traffic.issued_at_least(10)
    note("killing the broker")
    await system.kill_broker()
    await traffic.issued_at_least(3)  # issuing goes on: the events wait in the outboxes
    note("restarting the broker")
    started = time.monotonic()
    await system.restart_broker()
    note(f"broker back after {time.monotonic() - started:.0f}s")
    await traffic.issued_at_least(10, timeout=120)
    await traffic.stop()
    note(f"traffic stopped; failures meanwhile: {len(traffic.failures)}")
    await reconciled(system, api, tmp_path)
