"""Fixtures of the feedback integration tests; the scenario helpers live in feedback_scenario.py."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from feedback.settings import Settings

# The tests import the scenario helpers by module name (pytest runs with --import-mode=importlib).
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(Settings)
