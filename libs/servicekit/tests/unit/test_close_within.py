"""A Kafka client's close never holds a stop past its bound (a TLS close can wait 30 s for the
broker's close_notify, the whole of Kubernetes' grace period)."""

from __future__ import annotations

import asyncio

import pytest
import structlog.testing
from servicekit.kafka import close_within


async def test_a_close_that_hangs_is_left_behind_after_its_bound() -> None:
    never = asyncio.Event()
    with structlog.testing.capture_logs() as logs:
        await close_within(never.wait(), "consumer g", seconds=0.05)
    assert [(e["event"], e["client"]) for e in logs] == [
        ("kafka client not closed in time, left to finish on its own", "consumer g")
    ]


async def test_a_close_that_ends_in_time_is_awaited_and_its_error_raised() -> None:
    closed: list[str] = []

    async def close() -> None:
        await asyncio.sleep(0)
        closed.append("yes")

    async def fail() -> None:
        raise ConnectionError("broken")

    await close_within(close(), "producer", seconds=5)
    assert closed == ["yes"]
    with pytest.raises(ConnectionError):
        await close_within(fail(), "producer", seconds=5)
