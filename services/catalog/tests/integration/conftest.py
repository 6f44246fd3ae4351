"""A running catalog on the test's topics and database (real Kafka and FerretDB)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from catalog.main import create_app
from catalog.settings import Settings
from fastapi import FastAPI
from servicekit.testing import running


@pytest.fixture
async def catalog(make_settings: Any) -> AsyncIterator[tuple[Settings, FastAPI, httpx.AsyncClient]]:
    settings: Settings = make_settings(Settings)
    app = create_app(settings)
    async with running(app) as client:
        yield settings, app, client
