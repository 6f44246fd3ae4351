"""The store the infra tests talk to (ONEWINDOW_MONGO_URL), one fresh database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

MONGO_URL = os.environ.get("ONEWINDOW_MONGO_URL", "mongodb://127.0.0.1:27017")


@pytest.fixture
async def db() -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        MONGO_URL,
        serverSelectionTimeoutMS=5000,
        maxPoolSize=60,  # test_store_guarantees: 50 at once
    )
    try:
        await client.admin.command("ping")
    except PyMongoError as exc:  # pragma: no cover - depends on the environment
        await client.close()
        pytest.fail(f"no document store at {MONGO_URL} ({exc}); run deploy/local/infra.sh up")
    name = f"t_{uuid.uuid4().hex[:24]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()
