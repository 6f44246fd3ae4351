"""An office's time zone typo never stops its events: the calendar falls back to Europe/Moscow."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest
from contracts.calendar import is_timezone, local_day, zone_named
from contracts.samples import sample_office


def test_real_zones_are_known_and_typos_are_not() -> None:
    assert is_timezone("Europe/Moscow") and is_timezone("Asia/Yekaterinburg")
    assert not is_timezone("Europe/Moskow")
    assert not is_timezone("../../etc/passwd")
    assert not is_timezone("")


def test_an_office_with_an_unknown_zone_gets_moscow_days_and_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    office = sample_office().model_copy(update={"timezone": "Europe/Kazan-typo"})
    late_evening_utc = datetime(2026, 11, 30, 22, 30, tzinfo=UTC)  # 01:30 on Dec 1st in Moscow
    with caplog.at_level(logging.WARNING, logger="contracts.calendar"):
        assert local_day(office, late_evening_utc) == date(2026, 12, 1)
    assert "Europe/Kazan-typo" in caplog.text
    assert zone_named("Europe/Kazan-typo").key == "Europe/Moscow"
