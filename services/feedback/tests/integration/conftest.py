"""Fixtures of the feedback integration tests; the scenario helpers live in feedback_scenario.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from feedback.settings import Settings


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(Settings)
