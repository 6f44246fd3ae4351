"""The notifier's rules: announcements, board changes, positions, quiet hours, reminders. Pure, no I/O."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from contracts.calendar import zone_named

ANNOUNCEMENT = {
    "ru": "Талон {number} — окно {window}",
    "tt": "Талон {number} — {window} нче тәрәзә",
    "en": "Ticket {number}, window {window}",
}


def display_number(number: str) -> str:
    """'А017' -> 'А-017', as the board and the voice say it."""
    match = re.fullmatch(r"(\D+)(\d+)", number)
    return f"{match.group(1)}-{match.group(2)}" if match else number


def announcement(number: str, window_no: int) -> dict[str, str]:
    shown = display_number(number)
    return {lang: text.format(number=shown, window=window_no) for lang, text in ANNOUNCEMENT.items()}


def contact_channel(contact: str) -> str:
    """A citizen leaves a phone number or an e-mail address; the address decides the channel."""
    return "email" if "@" in contact else "sms"


def delivery_id(cause_event_id: str, channel: str, template: str, recipient_ref: str) -> str:
    """One delivery per (cause, channel, template, recipient): a redelivered event claims the same id."""
    return f"{cause_event_id}:{channel}:{template}:{recipient_ref}"


def notification_id(delivery: str) -> str:
    """The short public id of a delivery (event identifiers are at most 64 characters)."""
    return "n-" + hashlib.sha256(delivery.encode()).hexdigest()[:30]


# --- quiet hours ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """'21:00-09:00' -> QuietHours; '' -> None (no quiet hours)."""
        if not text:
            return None
        start, end = (time.fromisoformat(part) for part in text.split("-"))
        return cls(start, end)

    def is_quiet(self, local: time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def release_at(self, at: datetime, timezone: str) -> datetime:
        """`at` itself outside quiet hours, else the moment they end (office local time)."""
        local = at.astimezone(zone_named(timezone))
        if not self.is_quiet(local.time()):
            return at
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(at.tzinfo)


# --- appointment reminders -----------------------------------------------------------------------

REMINDERS = (
    ("appointment_reminder_day", timedelta(days=1)),
    ("appointment_reminder_hour", timedelta(hours=1)),
)


def reminder_times(slot_start: datetime, now: datetime) -> list[tuple[str, datetime]]:
    """(template, due) of the reminders still ahead: a day and an hour before the slot."""
    return [(template, slot_start - before) for template, before in REMINDERS if slot_start - before > now]


def deferred_reminder(
    due: datetime, slot_start: datetime, quiet: QuietHours | None, timezone: str
) -> datetime | None:
    """When a reminder may go out; None when quiet hours would push it past the appointment itself."""
    if quiet is None:
        return due
    release = quiet.release_at(due, timezone)
    return release if release < slot_start - timedelta(minutes=10) else None


# --- position in the queue -----------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingTicket:
    ticket_id: str
    order: str  # issue order: ISO time of issue + number, sortable as text
    initial_position: int
    notified: bool
    has_contact: bool


def tickets_reaching_threshold(
    waiting: list[WaitingTicket], threshold: int
) -> list[tuple[WaitingTicket, int]]:
    """Tickets that moved up to the threshold (or past it) since they were issued and were not told yet."""
    ranked = sorted(waiting, key=lambda ticket: ticket.order)
    return [
        (ticket, position)
        for position, ticket in enumerate(ranked[:threshold], start=1)
        if ticket.has_contact and not ticket.notified and ticket.initial_position > threshold
    ]


@dataclass(frozen=True)
class TicketProgress:
    """How far the waiting list has followed one ticket: its last applied version, and whether it is over."""

    version: int
    finished: bool


def is_stale(progress: TicketProgress | None, version: int) -> bool:
    """A redelivered or replayed ticket event: not newer than the last one applied, or the ticket is over."""
    return progress is not None and (progress.finished or version <= progress.version)


# --- the display board ---------------------------------------------------------------------------


def empty_board(office_id: str) -> dict[str, Any]:
    return {
        "_id": office_id,
        "calls": [],
        "waiting": {"seq": 0, "services": [], "total": 0, "as_of": None},
        "announcements": 0,
        "dropped_through": 0,
        "applied": [],
    }


def board_with_call(
    board: dict[str, Any], call: dict[str, Any], event_id: str, seq: int, kept: int
) -> dict[str, Any]:
    """The board state after one more call: newest first, `kept` calls, an announcement number in order."""
    number = int(board["announcements"]) + 1
    item = {**call, "seq": seq, "announcement_no": number, "event_id": event_id}
    calls = [item, *board["calls"]]
    dropped = calls[kept:]
    return {
        "calls": calls[:kept],
        "announcements": number,
        "dropped_through": max([board["dropped_through"], *(c["seq"] for c in dropped)]),
        "applied": remember(board["applied"], event_id),
    }


def board_with_waiting(
    board: dict[str, Any], waiting: dict[str, Any], event_id: str, seq: int
) -> dict[str, Any]:
    return {"waiting": {**waiting, "seq": seq}, "applied": remember(board["applied"], event_id)}


def remember(applied: list[str], event_id: str, keep: int = 100) -> list[str]:
    """The last event ids applied to a board, so a redelivered event is recognised."""
    return [*applied, event_id][-keep:]


def snapshot(board: dict[str, Any]) -> dict[str, Any]:
    """What a board screen shows: the public part of the state, seq = the last update."""
    return {
        "office_id": board["_id"],
        "seq": int(board.get("rev", 0)),
        "calls": [{k: v for k, v in call.items() if k != "event_id"} for call in board["calls"]],
        "waiting": board["waiting"],
        "announcements": board["announcements"],
    }


def changes_since(board: dict[str, Any], last_seq: int) -> list[tuple[int, str, dict[str, Any]]] | None:
    """(seq, name, data) the screen has not shown, oldest first; None when only a snapshot can say it."""
    seq = int(board.get("rev", 0))
    if last_seq > seq or last_seq < int(board["dropped_through"]):
        return None  # a board from another life (store reset) or too far behind
    changes: list[tuple[int, str, dict[str, Any]]] = [
        (call["seq"], "call", {k: v for k, v in call.items() if k != "event_id"})
        for call in board["calls"]
        if call["seq"] > last_seq
    ]
    if board["waiting"]["seq"] > last_seq:
        changes.append((board["waiting"]["seq"], "waiting", board["waiting"]))
    return sorted(changes, key=lambda change: change[0])
