"""The consumer groups a notifier process runs (NOTIFIER_CONSUMERS), as an ops engineer sets them."""

from __future__ import annotations

import pytest
from notifier.settings import Settings
from pydantic import ValidationError


@pytest.mark.parametrize(
    ("value", "messages", "board"),
    [
        ("messages,board", True, True),
        ("messages", True, False),
        ("board", False, True),
        ("board,messages", True, True),
    ],
)
def test_each_process_runs_the_groups_it_is_given(
    monkeypatch: pytest.MonkeyPatch, value: str, messages: bool, board: bool
) -> None:
    monkeypatch.setenv("NOTIFIER_CONSUMERS", value)
    settings = Settings()
    assert (settings.consumes("messages"), settings.consumes("board")) == (messages, board)


@pytest.mark.parametrize("value", ["", "sms", "messages;board", "messages, board", "Board"])
def test_a_wrong_value_stops_the_start_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("NOTIFIER_CONSUMERS", value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert refused.value.errors()[0]["loc"] == ("consumers",)
    assert "should match pattern" in str(refused.value)
