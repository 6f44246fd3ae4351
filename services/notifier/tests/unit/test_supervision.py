"""The "open one more window" suggestion from a queue against the wait target."""

from __future__ import annotations

from notifier.supervision import window_suggestions


def queue(service: str, waiting: int, estimate: int, open_windows: int) -> dict[str, object]:
    return {
        "service_id": service,
        "waiting": waiting,
        "estimated_wait_minutes": estimate,
        "open_windows": open_windows,
        "longest_wait_seconds": 0,
    }


def test_windows_are_suggested_only_where_the_estimate_passes_the_target() -> None:
    suggestions = window_suggestions(
        [
            queue("within", 4, 15, 2),  # exactly the target: nothing to do
            queue("twice-over", 9, 30, 2),  # 2 windows x 30 / 15 = 4 needed: 2 more
            queue("slightly-over", 5, 16, 3),  # 3 x 16 / 15 = 3.2 -> 4: 1 more
            queue("none-open", 3, 25, 0),  # no window at all: open one
            queue("empty", 0, 40, 1),  # nobody waiting
        ],
        sla_minutes=15,
    )
    assert [(s["service_id"], s["more_windows"]) for s in suggestions] == [
        ("twice-over", 2),
        ("slightly-over", 1),
        ("none-open", 1),
    ]
