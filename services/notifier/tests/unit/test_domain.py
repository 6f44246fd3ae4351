"""The notifier's pure rules: announcements, board changes, positions, quiet hours, reminders, templates."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from notifier.channels import LogFileChannel
from notifier.domain import (
    QuietHours,
    TicketProgress,
    WaitingTicket,
    announcement,
    board_with_call,
    board_with_waiting,
    changes_since,
    contact_channel,
    deferred_reminder,
    empty_board,
    is_stale,
    notification_id,
    reminder_times,
    tickets_reaching_threshold,
)
from notifier.templates import render

MOSCOW = ZoneInfo("Europe/Moscow")


def test_the_announcement_reads_the_ticket_and_window_in_three_languages() -> None:
    assert announcement("А017", 3) == {
        "ru": "Талон А-017 — окно 3",
        "tt": "Талон А-017 — 3 нче тәрәзә",
        "en": "Ticket А-017, window 3",
    }


def _board_after_calls(count: int, kept: int = 20) -> dict[str, object]:
    board = {**empty_board("o1"), "rev": 1}
    for n in range(count):
        seq = int(board["rev"]) + 1
        board = {**board, **board_with_call(board, {"number": f"A-{n}"}, f"e{n}", seq, kept), "rev": seq}
    return board


def test_calls_are_numbered_for_announcement_in_order_and_only_the_last_ones_kept() -> None:
    board = _board_after_calls(5, kept=3)
    assert [c["announcement_no"] for c in board["calls"]] == [5, 4, 3]  # type: ignore[index]
    assert board["dropped_through"] == 3  # the calls of seq 2 and 3 fell off


def test_a_screen_gets_only_what_it_has_not_shown_and_a_snapshot_when_too_far_behind() -> None:
    board = _board_after_calls(5, kept=3)
    assert [seq for seq, _, _ in changes_since(board, 4) or []] == [5, 6]
    assert changes_since(board, 6) == []
    assert changes_since(board, 2) is None  # the call of seq 3 is gone: only a snapshot is honest
    assert changes_since(board, 99) is None  # a cursor from another life of the store


def test_a_waiting_update_is_one_change_with_its_own_seq() -> None:
    board = _board_after_calls(1)
    board = {**board, **board_with_waiting(board, {"total": 4, "services": []}, "q1", 3), "rev": 3}
    changes = changes_since(board, 2) or []
    assert [(seq, name) for seq, name, _ in changes] == [(3, "waiting")]
    assert "q1" in board["applied"]  # type: ignore[operator]


def _waiting(ticket_id: str, order: str, initial: int, *, notified: bool = False) -> WaitingTicket:
    return WaitingTicket(ticket_id, order, initial, notified, has_contact=True)


def test_a_ticket_that_moved_up_to_the_threshold_is_told_once() -> None:
    waiting = [_waiting("c", "3", 5), _waiting("a", "1", 1), _waiting("b", "2", 2), _waiting("d", "4", 6)]
    assert [(t.ticket_id, p) for t, p in tickets_reaching_threshold(waiting, 3)] == [("c", 3)]
    told = [_waiting("c", "3", 5, notified=True), _waiting("a", "1", 1)]
    assert tickets_reaching_threshold(told, 3) == []


def test_a_duplicate_an_older_event_or_anything_after_the_end_of_a_ticket_is_stale() -> None:
    assert not is_stale(None, 1)  # the first event of a ticket
    assert not is_stale(TicketProgress(version=2, finished=False), 3)
    assert is_stale(TicketProgress(version=2, finished=False), 2)  # the same event again
    assert is_stale(TicketProgress(version=4, finished=False), 1)  # a replayed issue after a call
    assert is_stale(TicketProgress(version=4, finished=True), 9)  # a finished ticket stays finished


def test_quiet_hours_across_midnight_defer_to_the_morning_in_office_time() -> None:
    quiet = QuietHours.parse("21:00-09:00")
    assert quiet is not None
    late = datetime(2030, 3, 4, 22, 30, tzinfo=MOSCOW)
    early = datetime(2030, 3, 5, 7, 0, tzinfo=MOSCOW)
    noon = datetime(2030, 3, 5, 12, 0, tzinfo=MOSCOW)
    assert quiet.release_at(late, "Europe/Moscow") == datetime(2030, 3, 5, 9, 0, tzinfo=MOSCOW)
    assert quiet.release_at(early, "Europe/Moscow") == datetime(2030, 3, 5, 9, 0, tzinfo=MOSCOW)
    assert quiet.release_at(noon, "Europe/Moscow") == noon
    assert QuietHours.parse("") is None


def test_reminders_a_day_and_an_hour_before_and_none_that_quiet_hours_would_push_past_the_slot() -> None:
    slot = datetime(2030, 3, 6, 9, 5, tzinfo=MOSCOW)
    now = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)
    due = dict(reminder_times(slot, now))
    assert due == {
        "appointment_reminder_day": slot - timedelta(days=1),
        "appointment_reminder_hour": slot - timedelta(hours=1),
    }
    quiet = QuietHours.parse("21:00-09:00")
    assert deferred_reminder(
        due["appointment_reminder_day"], slot, quiet, "Europe/Moscow"
    ) == slot - timedelta(days=1)
    assert deferred_reminder(due["appointment_reminder_hour"], slot, quiet, "Europe/Moscow") is None
    later = datetime(2030, 3, 6, 9, 30, tzinfo=MOSCOW)  # 08:30 waits until 09:00, still before the slot
    assert deferred_reminder(later - timedelta(hours=1), later, quiet, "Europe/Moscow") == later - timedelta(
        minutes=30
    )
    assert reminder_times(slot, slot - timedelta(minutes=30)) == []  # booked at the last minute


def test_templates_follow_the_language_and_an_office_override_wins() -> None:
    params = {"number": "А-017", "window": 3, "zone": "Zone 1"}
    assert render("ticket_called", "en", params) == "Ticket А-017: please go to window 3 (Zone 1)."
    assert "тәрәзәгә" in render("ticket_called", "tt", params)
    override = {"ticket_called": {"ru": "Талон {number}: окно {window}, второй этаж."}}
    assert render("ticket_called", "ru", params, override) == "Талон А-017: окно 3, второй этаж."
    broken = {"ticket_called": {"ru": "Талон {number"}}
    assert render("ticket_called", "ru", params, broken).startswith("Талон А-017: пройдите")


def test_a_contact_decides_the_channel_and_ids_stay_short() -> None:
    assert contact_channel("+79991234567") == "sms" and contact_channel("a@b.ru") == "email"
    assert len(notification_id("x" * 200)) <= 64


async def test_the_log_channel_never_writes_a_phone_or_a_link_token_in_clear(tmp_path: Path) -> None:
    channel = LogFileChannel(str(tmp_path / "n.log"), "sms")
    token = "Zq3" * 15
    await channel.send("+79991234567", f"Ваш талон А-017: http://127.0.0.1:8080/t/{token}")
    line = json.loads((tmp_path / "n.log").read_text(encoding="utf-8"))
    assert "+79991234567" not in json.dumps(line) and token not in json.dumps(line)
    assert line["to"].endswith("67")


def test_quiet_hours_of_an_office_with_a_mistyped_zone_fall_back_to_moscow() -> None:
    from datetime import UTC, datetime, time

    from notifier.domain import QuietHours

    quiet = QuietHours(time(22, 0), time(8, 0))
    night_in_moscow = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)  # 23:00 in Moscow
    released = quiet.release_at(night_in_moscow, "Europe/Moskow")  # raised ZoneInfoNotFoundError
    assert released == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # 08:00 in Moscow
