"""Root pytest configuration: the shared fixtures of servicekit (real Kafka + store per test)."""

from __future__ import annotations

import pytest

pytest_plugins = ["servicekit.testing"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop on the main thread for the rest
    of the session, where pytest-asyncio could no longer run async fixtures."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
