"""The queue's rules: ticket lifecycle, routing order, number format and wait estimates; pure, no I/O."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from contracts.ticketing import (
    Channel,
    Outcome,
    ServiceCompleted,
    ServiceQueue,
    ServiceStarted,
    SlaBreached,
    SlaBreachPredicted,
    TicketCalled,
    TicketCancelled,
    TicketNoShow,
    TicketTransferred,
)

# --------------------------------------------------------------------------- errors


class DomainError(Exception):
    """A rule said no; the API maps each kind to one HTTP status."""

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.details = details


class UnknownOffice(DomainError):
    pass


class ServiceNotOffered(DomainError):
    pass


class TicketNotFound(DomainError):
    pass


class OfficeClosed(DomainError):
    pass


class IssuingStopped(OfficeClosed):
    """The office is still open but no longer issues tickets today (its closing cut-off)."""


class UnknownPriorityCategory(DomainError):
    pass


class UnknownTransferTarget(DomainError):
    pass


class UnknownWindow(DomainError):
    pass


class InvalidTransition(DomainError):
    """The ticket is not in a state that allows this step (completing twice, recalling a finished one)."""


class RecallLimitReached(DomainError):
    pass


class NoTicketWaiting(DomainError):
    pass


class WindowBusy(DomainError):
    """The window still has a called or serving ticket."""


class WindowTaken(DomainError):
    """Another operator has this window open."""


class WindowNotOpen(DomainError):
    pass


class WindowOffDuty(DomainError):
    """The window has a schedule of its own (office settings) and does not work now."""


class NotYourWindow(DomainError):
    pass


class TooManyTickets(DomainError):
    """One client asked for too many tickets in a short time."""


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class QueueRules:
    """Tunable parts of the routing and lifecycle rules (from settings)."""

    max_calls: int = 3
    # A ticket that has waited this share of the office SLA is called before priority categories,
    # so regular visitors are not pushed past the SLA by a stream of preferential ones.
    ageing_share: float = 2 / 3
    # An appointment ticket is due from this many minutes before its slot.
    appointment_early_minutes: int = 5


class TicketState(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


ACTIVE_AT_WINDOW = (TicketState.CALLED, TicketState.SERVING)


def format_number(letter: str, seq: int) -> str:
    """Letter + three digits ("А017"); after 999 the number simply grows to four digits ("А1000")."""
    return f"{letter}{seq:03d}"


@dataclass(frozen=True)
class Ticket:
    ticket_id: str
    office_id: str
    number: str
    seq: int
    local_day: date
    service_ids: list[str]
    zone_id: str
    channel: Channel
    issued_at: datetime
    queued_at: datetime  # start of the current wait (issue, transfer, next service of a visit)
    token_digest: str
    step: int = 0  # index of the current service in service_ids
    priority_category: str | None = None
    appointment_id: str | None = None
    appointment_at: datetime | None = None
    language: str = "ru"
    raised: bool = False  # transferred or continuing a multi-service visit: raised priority
    state: TicketState = TicketState.WAITING
    window_no: int | None = None
    last_window_no: int | None = None
    calls: int = 0
    called_at: datetime | None = None
    started_at: datetime | None = None
    operator_ref: str | None = None
    outcome: str | None = None
    finished_at: datetime | None = None
    sla_predicted: bool = False
    sla_breached: bool = False
    served: list[str] = field(default_factory=list)
    rev: int = 0  # version of the ticket: aggregate_version of its events

    @property
    def service_id(self) -> str:
        return self.service_ids[self.step]

    @property
    def next_service_id(self) -> str | None:
        return self.service_ids[self.step + 1] if self.step + 1 < len(self.service_ids) else None

    @property
    def at_window(self) -> str | None:
        """`office:window` while the ticket occupies a window (an equality-queryable field)."""
        if self.state in ACTIVE_AT_WINDOW and self.window_no is not None:
            return window_key(self.office_id, self.window_no)
        return None

    def waited_seconds(self, now: datetime) -> int:
        return max(0, int((now - self.queued_at).total_seconds()))


@dataclass
class Window:
    office_id: str
    window_no: int
    zone_id: str
    service_ids: list[str]
    state: str  # open | paused | closed
    operator_subject: str
    operator_ref: str
    opened_at: datetime
    ticket_id: str | None = None  # the ticket called or served here
    rev: int = 0

    @property
    def key(self) -> str:
        return window_key(self.office_id, self.window_no)


def window_key(office_id: str, window_no: int) -> str:
    return f"{office_id}:{window_no}"


# --------------------------------------------------------------------------- routing


def is_due_appointment(ticket: Ticket, now: datetime, rules: QueueRules) -> bool:
    return (
        ticket.appointment_at is not None
        and ticket.appointment_at - timedelta(minutes=rules.appointment_early_minutes) <= now
    )


def routing_key(ticket: Ticket, now: datetime, sla_seconds: int, rules: QueueRules) -> tuple[Any, ...]:
    """Call-next order: due appointments, then aged, then priority/raised, then first come first served.

    Within a tier the original issue time decides (a transferred ticket keeps its place in time).
    """
    if is_due_appointment(ticket, now, rules):
        assert ticket.appointment_at is not None
        return (0, ticket.appointment_at, ticket.issued_at, ticket.seq, ticket.ticket_id)
    if ticket.waited_seconds(now) >= sla_seconds * rules.ageing_share:
        tier = 1
    elif ticket.priority_category or ticket.raised:
        tier = 2
    else:
        tier = 3
    return (tier, ticket.issued_at, ticket.issued_at, ticket.seq, ticket.ticket_id)


def order_for_call(
    tickets: Iterable[Ticket], service_ids: Sequence[str], now: datetime, sla_seconds: int, rules: QueueRules
) -> list[Ticket]:
    """Waiting tickets for these services, in the order a window should call them."""
    wanted = set(service_ids)
    candidates = [t for t in tickets if t.state == TicketState.WAITING and t.service_id in wanted]
    return sorted(candidates, key=lambda t: routing_key(t, now, sla_seconds, rules))


def position_of(
    ticket: Ticket, waiting: Iterable[Ticket], now: datetime, sla_seconds: int, rules: QueueRules
) -> int:
    """1-based place of `ticket` among those waiting for its current service."""
    ordered = order_for_call(waiting, [ticket.service_id], now, sla_seconds, rules)
    ids = [t.ticket_id for t in ordered]
    return ids.index(ticket.ticket_id) + 1 if ticket.ticket_id in ids else len(ids) + 1


# --------------------------------------------------------------------------- estimates

SERVICE_TIME_WEIGHT = 0.2  # weight of the newest sample in the rolling mean
MAX_SERVICE_SAMPLE_SECONDS = 4 * 3600


def rolling_mean(previous_seconds: float | None, sample_seconds: float) -> float:
    """Exponentially weighted mean of service times; one outlier moves it by at most a fifth."""
    sample = min(max(sample_seconds, 0.0), MAX_SERVICE_SAMPLE_SECONDS)
    if previous_seconds is None:
        return sample
    return previous_seconds + SERVICE_TIME_WEIGHT * (sample - previous_seconds)


def estimate_wait_minutes(position: int, mean_service_seconds: float, open_windows: int) -> int:
    """Minutes until a ticket at `position` is called.

    The windows serving the service free up every mean/windows seconds on average; the first in
    line waits, on average, half a service (the window is busy with someone mid-way). With no
    window open the estimate assumes one will open.
    """
    windows = max(1, open_windows)
    seconds = (max(1, position) - 0.5) * mean_service_seconds / windows
    return max(0, math.ceil(seconds / 60))


def summarize_queue(
    waiting: Sequence[tuple[str, datetime]],
    open_windows_by_service: Mapping[str, int],
    mean_seconds_by_service: Mapping[str, float],
    now: datetime,
) -> tuple[int, int, list[ServiceQueue]]:
    """(waiting, longest wait, per-service lines) of one office's QueueStatus from (service_id, queued_at)."""
    waits: dict[str, list[int]] = {}
    for service_id, queued_at in waiting:
        waits.setdefault(service_id, []).append(max(0, int((now - queued_at).total_seconds())))
    lines = []
    for service_id in sorted(set(waits) | set(open_windows_by_service)):
        seconds = waits.get(service_id, [])
        windows = open_windows_by_service.get(service_id, 0)
        mean = mean_seconds_by_service.get(service_id, 600.0)
        lines.append(
            ServiceQueue(
                service_id=service_id,
                waiting=len(seconds),
                estimated_wait_minutes=estimate_wait_minutes(len(seconds) + 1, mean, windows),
                longest_wait_seconds=max(seconds, default=0),
                open_windows=windows,
            )
        )
    longest = max((w for seconds in waits.values() for w in seconds), default=0)
    return len(waiting), longest, lines


# --------------------------------------------------------------------------- lifecycle


def _require(ticket: Ticket, states: Sequence[TicketState], action: str) -> None:
    if ticket.state not in states:
        allowed = " or ".join(str(s) for s in states)
        raise InvalidTransition(
            f"ticket {ticket.number} is {ticket.state}; it can be {action} only when {allowed}",
            ticket_state=str(ticket.state),
        )


def _require_at(ticket: Ticket, window_no: int, states: Sequence[TicketState], action: str) -> None:
    _require(ticket, states, action)
    if ticket.window_no != window_no:
        raise InvalidTransition(f"ticket {ticket.number} is at window {ticket.window_no}, not {window_no}")


def call(ticket: Ticket, window_no: int, operator_ref: str, now: datetime) -> tuple[Ticket, TicketCalled]:
    _require(ticket, [TicketState.WAITING], "called")
    called = replace(
        ticket,
        state=TicketState.CALLED,
        window_no=window_no,
        last_window_no=window_no,
        calls=1,
        called_at=now,
        operator_ref=operator_ref,
    )
    return called, _called_event(called, now)


def recall(
    ticket: Ticket, window_no: int, operator_ref: str, now: datetime, rules: QueueRules
) -> tuple[Ticket, TicketCalled]:
    _require_at(ticket, window_no, [TicketState.CALLED], "recalled")
    if ticket.calls >= rules.max_calls:
        raise RecallLimitReached(
            f"ticket {ticket.number} was called {ticket.calls} times; mark it as a no-show",
            calls=ticket.calls,
        )
    recalled = replace(ticket, calls=ticket.calls + 1, operator_ref=operator_ref)
    return recalled, _called_event(recalled, now)


def _called_event(ticket: Ticket, now: datetime) -> TicketCalled:
    assert ticket.window_no is not None and ticket.called_at is not None
    return TicketCalled(
        ticket_id=ticket.ticket_id,
        number=ticket.number,
        service_id=ticket.service_id,
        window_no=ticket.window_no,
        zone_id=ticket.zone_id,
        call_no=ticket.calls,
        operator_ref=ticket.operator_ref or "",
        waited_seconds=max(0, int((ticket.called_at - ticket.queued_at).total_seconds())),
        priority_category=ticket.priority_category,
        appointment_id=ticket.appointment_id,
        language=ticket.language,
    )


def no_show(ticket: Ticket, window_no: int, now: datetime) -> tuple[Ticket, TicketNoShow]:
    _require_at(ticket, window_no, [TicketState.CALLED], "marked as a no-show")
    gone = replace(ticket, state=TicketState.NO_SHOW, finished_at=now)
    event = TicketNoShow(
        ticket_id=ticket.ticket_id,
        number=ticket.number,
        service_id=ticket.service_id,
        window_no=window_no,
        calls=ticket.calls,
        appointment_id=ticket.appointment_id,
    )
    return gone, event


def start(ticket: Ticket, window_no: int, operator_ref: str, now: datetime) -> tuple[Ticket, ServiceStarted]:
    _require_at(ticket, window_no, [TicketState.CALLED], "started")
    serving = replace(ticket, state=TicketState.SERVING, started_at=now, operator_ref=operator_ref)
    event = ServiceStarted(
        ticket_id=ticket.ticket_id,
        number=ticket.number,
        service_id=ticket.service_id,
        window_no=window_no,
        operator_ref=operator_ref,
    )
    return serving, event


def complete(
    ticket: Ticket,
    window_no: int,
    operator_ref: str,
    outcome: Outcome,
    now: datetime,
    next_zone_id: str | None = None,
) -> tuple[Ticket, ServiceCompleted]:
    """Finish the current service; a visit with more services goes back to the queue for the next one."""
    _require_at(ticket, window_no, [TicketState.SERVING], "completed")
    assert ticket.started_at is not None and ticket.called_at is not None
    next_service = ticket.next_service_id
    event = ServiceCompleted(
        ticket_id=ticket.ticket_id,
        number=ticket.number,
        service_id=ticket.service_id,
        window_no=window_no,
        zone_id=ticket.zone_id,
        operator_ref=operator_ref,
        outcome=outcome,
        waited_seconds=max(0, int((ticket.called_at - ticket.queued_at).total_seconds())),
        service_seconds=max(0, int((now - ticket.started_at).total_seconds())),
        channel=ticket.channel,
        appointment_id=ticket.appointment_id,
        next_service_id=next_service,
        language=ticket.language,
    )
    served = [*ticket.served, f"{ticket.service_id}:{outcome}"]
    if next_service is None:
        return replace(ticket, state=TicketState.DONE, outcome=outcome, finished_at=now, served=served), event
    requeued = replace(
        ticket,
        state=TicketState.WAITING,
        step=ticket.step + 1,
        zone_id=next_zone_id or ticket.zone_id,
        queued_at=now,
        raised=True,
        window_no=None,
        calls=0,
        called_at=None,
        started_at=None,
        served=served,
    )
    return requeued, event


# The reception desk appears in events as window 0: a visit it resolved itself never reached a window.
RECEPTION_DESK = 0


def resolve_at_reception(
    ticket: Ticket, operator_ref: str, outcome: Outcome, now: datetime
) -> tuple[Ticket, ServiceCompleted]:
    """The consultant settled the visit at the entrance (e.g. sent the citizen to the portal): the
    ticket ends at once with that outcome, so the office's numbers count it."""
    _require(ticket, [TicketState.WAITING], "resolved at the reception")
    event = ServiceCompleted(
        ticket_id=ticket.ticket_id,
        number=ticket.number,
        service_id=ticket.service_id,
        window_no=RECEPTION_DESK,
        zone_id=ticket.zone_id,
        operator_ref=operator_ref,
        outcome=outcome,
        waited_seconds=0,
        service_seconds=0,
        channel=ticket.channel,
        language=ticket.language,
    )
    served = [f"{ticket.service_id}:{outcome}"]
    done = replace(
        ticket,
        state=TicketState.DONE,
        outcome=outcome,
        finished_at=now,
        served=served,
        operator_ref=operator_ref,
    )
    return done, event


def transfer(
    ticket: Ticket,
    window_no: int,
    to_service_id: str,
    to_zone_id: str,
    now: datetime,
    reason: str | None = None,
) -> tuple[Ticket, TicketTransferred]:
    """Back to the queue for another service or zone, keeping the issue time, with raised priority."""
    _require_at(ticket, window_no, ACTIVE_AT_WINDOW, "transferred")
    service_ids = list(ticket.service_ids)
    service_ids[ticket.step] = to_service_id
    moved = replace(
        ticket,
        service_ids=service_ids,
        zone_id=to_zone_id,
        state=TicketState.WAITING,
        queued_at=now,
        raised=True,
        window_no=None,
        calls=0,
        called_at=None,
        started_at=None,
    )
    event = TicketTransferred(
        ticket_id=ticket.ticket_id,
        number=ticket.number,
        service_id=ticket.service_id,
        to_service_id=to_service_id,
        to_zone_id=to_zone_id,
        window_no=window_no,
        reason=reason,
    )
    return moved, event


def cancel(ticket: Ticket, reason: str, now: datetime) -> tuple[Ticket, TicketCancelled]:
    _require(ticket, [TicketState.WAITING, TicketState.CALLED], "cancelled")
    cancelled = replace(ticket, state=TicketState.CANCELLED, outcome=reason, finished_at=now)
    event = TicketCancelled(
        ticket_id=ticket.ticket_id,
        number=ticket.number,
        service_id=ticket.service_id,
        reason=reason,
        appointment_id=ticket.appointment_id,
    )
    return cancelled, event


def sla_seconds_for(ticket: Ticket, max_wait_minutes: int, appointment_max_wait_minutes: int) -> int:
    minutes = appointment_max_wait_minutes if ticket.appointment_id else max_wait_minutes
    return minutes * 60


def check_sla(
    ticket: Ticket, now: datetime, sla_seconds: int, estimated_wait_seconds: int
) -> tuple[Ticket, list[SlaBreachPredicted | SlaBreached]]:
    """SlaBreachPredicted once when the wait will pass the SLA before the call; SlaBreached once it has."""
    if ticket.state != TicketState.WAITING:
        return ticket, []
    waited = ticket.waited_seconds(now)
    events: list[SlaBreachPredicted | SlaBreached] = []
    common = {"ticket_id": ticket.ticket_id, "number": ticket.number, "service_id": ticket.service_id}
    predicted, breached = ticket.sla_predicted, ticket.sla_breached
    if waited >= sla_seconds:
        if not breached:
            events.append(SlaBreached(**common, waited_seconds=waited, sla_seconds=sla_seconds))
            breached = True
        # A breach that was never predicted still counts as predicted: no late prediction after it.
        predicted = True
    elif not predicted and waited + estimated_wait_seconds > sla_seconds:
        events.append(
            SlaBreachPredicted(
                **common,
                waited_seconds=waited,
                predicted_wait_seconds=waited + estimated_wait_seconds,
                sla_seconds=sla_seconds,
            )
        )
        predicted = True
    return replace(ticket, sla_predicted=predicted, sla_breached=breached), events
