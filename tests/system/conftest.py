"""System-test fixtures: one whole System per module (five services, ticketing twice), its HTTP APIs."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from harness import Api, System


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
