"""System-test fixtures: one whole System per module (five services, ticketing twice), its HTTP APIs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from testbed.harness import Api, System


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
