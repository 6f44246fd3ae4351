"""Root pytest configuration: the shared fixtures of servicekit (real Kafka + store per test), and the
test tiers, given by directory here and nowhere else:

| directory | marker | needs |
|---|---|---|
| `*/tests/unit/`, `libs/*/tests/unit/`, `tests/test_*.py` | none | nothing running |
| `services/*/tests/usecases/` (the fast tier: use cases on `servicekit.fakes`) | none | nothing running |
| `*/tests/integration/`, `tests/infra/`, `examples/` | `integration` | Kafka and the store |
| `tests/system/` | `system` | the services as processes too |
| `tests/browser/` | `browser` | the web front behind nginx, and Chromium |
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["servicekit.testing"]

ROOT = Path(__file__).resolve().parent
TIERS = {  # a path part (or the first two) -> the marker of every test below it
    "integration": "integration",
    "tests/infra": "integration",
    "examples": "integration",
    "tests/system": "system",
    "tests/browser": "browser",
}


def tier_of(path: Path) -> str | None:
    try:
        parts = path.resolve().relative_to(ROOT).parts
    except ValueError:
        return None
    for prefix in ("/".join(parts[:2]), parts[0]):
        if prefix in TIERS:
            return TIERS[prefix]
    return "integration" if "integration" in parts[:-1] else None


def pytest_itemcollected(item: pytest.Item) -> None:
    tier = tier_of(item.path)
    if tier is not None:
        item.add_marker(tier)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop on the main thread for the rest
    of the session, where pytest-asyncio could no longer run async fixtures."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
