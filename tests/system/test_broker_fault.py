"""The Kafka broker killed (-9) mid-stream and restarted, then reconcile (a System of its own:
the backlog it leaves must not spill into the other fault tests)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from testbed.chaos import Traffic, note, office, reconciled, traffic
from testbed.harness import Api, System

__all__ = ["office", "traffic"]  # module-scoped fixtures, one System per module

# A restart after kill -9 recovers every partition of the shared dev broker: minutes, not seconds.
pytestmark = pytest.mark.timeout(900)


@pytest.mark.xfail(
    strict=False,
    reason="fixed (the outbox producer is rebuilt after OutOfOrderSequenceNumber; passed in the full "
    "run) but one green run is no record: kept non-strict until it has passed in CI a few times",
)
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
