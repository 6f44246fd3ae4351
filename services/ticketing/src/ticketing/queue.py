"""One office's live queue in memory: tickets, ordered waiting lines, windows, numbers; pure, no I/O.

The owner of an office (see `owner.py`) holds one `OfficeQueue` and applies every command to it in
order; what a command changed is collected in `pending` until the owner commits it to the office
log. Routing and positions come from one ordered line per service, never a whole-queue sort:

* `plain[service]` - tickets without priority, appointment or raise, ordered by issue time. Their
  queue time is their issue time, so the aged ones (tier 1) are a prefix and the line's routing
  keys only grow: its head is its best candidate and a position is a binary search.
* `special[service]` - priority, appointment and raised tickets (a few per cent of a day); their
  routing keys depend on the clock in other ways, so they are compared one by one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from contracts import EventData
from contracts.catalog import OfficeConfigured
from contracts.ticketing import (
    Channel,
    QueueStatus,
    ServiceQueue,
    TicketIssued,
    WindowClosed,
    WindowOpened,
    WindowPaused,
    WindowResumed,
)
from sortedcontainers import SortedKeyList

from ticketing import domain
from ticketing.domain import (
    ACTIVE_AT_WINDOW,
    InvalidTransition,
    NoTicketWaiting,
    NotYourWindow,
    QueueRules,
    Ticket,
    TicketNotFound,
    TicketState,
    Window,
    WindowBusy,
    WindowNotOpen,
    WindowTaken,
)
from ticketing.store import ticket_document, ticket_from, window_document, window_from

DEFAULT_MEAN_SECONDS = 600.0


@dataclass
class Change:
    """What one command, or one batch of commands, changed: committed together as one log entry."""

    tickets: dict[str, Ticket] = field(default_factory=dict)
    windows: dict[int, Window] = field(default_factory=dict)
    events: list[tuple[EventData, str, int]] = field(default_factory=list)  # (data, aggregate_id, version)
    tokens: list[tuple[str, str]] = field(default_factory=list)  # (token digest, ticket_id)
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)  # ticket_id -> its document
    new_tickets: set[str] = field(default_factory=set)  # issued in this change: inserted, not replaced
    quiet: set[str] = field(default_factory=set)  # only SLA flags changed: logged, no read-model write
    numbers: dict[str, int] = field(default_factory=dict)
    means: dict[str, tuple[float, int]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.tickets or self.windows or self.events or self.numbers or self.means)


@dataclass(frozen=True)
class Placement:
    position: int
    estimated_wait_minutes: int


@dataclass(frozen=True)
class NewTicket:
    """What the caller decided before the owner numbers and queues the ticket."""

    ticket_id: str
    letter: str
    service_ids: list[str]
    zone_id: str
    channel: Channel
    token_digest: str
    language: str = "ru"
    priority_category: str | None = None
    appointment_id: str | None = None
    appointment_at: datetime | None = None
    contact_sealed: str | None = None
    citizen_token_sealed: str | None = None


def _plain_key(ticket: Ticket) -> tuple[datetime, int, str]:
    return (ticket.issued_at, ticket.seq, ticket.ticket_id)


def _is_plain(ticket: Ticket) -> bool:
    return not (ticket.priority_category or ticket.appointment_id or ticket.raised)


class OfficeQueue:
    def __init__(self, office: OfficeConfigured, rules: QueueRules) -> None:
        self.office = office
        self.rules = rules
        self.tickets: dict[str, Ticket] = {}  # live: waiting, called, serving
        self.windows: dict[int, Window] = {}
        self.numbers: dict[str, int] = {}  # "day:letter" -> last seq
        self.means: dict[str, tuple[float, int]] = {}  # learned service seconds, samples
        self.expected_seconds: dict[str, float] = {}  # the catalog's figure until one is learned
        self.plain: dict[str, SortedKeyList[Ticket, tuple[datetime, int, str]]] = {}
        self.special: dict[str, dict[str, Ticket]] = {}
        self.pending = Change()
        self.seq = 0  # last committed log entry
        self.docs: dict[str, dict[str, Any]] = {}  # documents of the live tickets (snapshots reuse them)

    @property
    def office_id(self) -> str:
        return self.office.office_id

    @property
    def sla_seconds(self) -> int:
        return self.office.sla.max_wait_minutes * 60

    # ------------------------------------------------------------------ state

    def _line(self, ticket: Ticket) -> SortedKeyList[Ticket, tuple[datetime, int, str]]:
        line = self.plain.get(ticket.service_id)
        if line is None:
            line = self.plain[ticket.service_id] = SortedKeyList(key=_plain_key)
        return line

    def _unindex(self, ticket: Ticket) -> None:
        if ticket.state != TicketState.WAITING:
            return
        if _is_plain(ticket):
            line = self.plain.get(ticket.service_id)
            if line is not None:
                line.discard(ticket)
        else:
            self.special.get(ticket.service_id, {}).pop(ticket.ticket_id, None)

    def _index(self, ticket: Ticket) -> None:
        if ticket.state != TicketState.WAITING:
            return
        if _is_plain(ticket):
            self._line(ticket).add(ticket)
        else:
            self.special.setdefault(ticket.service_id, {})[ticket.ticket_id] = ticket

    def load_ticket(self, ticket: Ticket) -> None:
        """Put a ticket's latest state in place (replaying the log, or after a change)."""
        previous = self.tickets.pop(ticket.ticket_id, None)
        if previous is not None:
            self._unindex(previous)
        if ticket.state in (TicketState.WAITING, *ACTIVE_AT_WINDOW):
            self.tickets[ticket.ticket_id] = ticket
            self._index(ticket)
        else:
            self.docs.pop(ticket.ticket_id, None)

    def _put(self, ticket: Ticket, event: EventData | None = None, *, quiet: bool = False) -> Ticket:
        ticket = replace(ticket, rev=ticket.rev + 1)
        self.load_ticket(ticket)
        doc = ticket_document(ticket)
        if ticket.ticket_id in self.tickets:
            self.docs[ticket.ticket_id] = doc
        if quiet and ticket.ticket_id not in self.pending.tickets:
            self.pending.quiet.add(ticket.ticket_id)
        elif not quiet:
            self.pending.quiet.discard(ticket.ticket_id)
        self.pending.tickets[ticket.ticket_id] = ticket
        self.pending.docs[ticket.ticket_id] = doc
        if event is not None:
            self.pending.events.append((event, ticket.ticket_id, ticket.rev))
        return ticket

    def _put_window(self, window: Window, event: EventData) -> Window:
        window.rev += 1
        self.windows[window.window_no] = window
        self.pending.windows[window.window_no] = window
        self.pending.events.append((event, window.key, window.rev))
        return window

    def take_pending(self) -> Change:
        change, self.pending = self.pending, Change()
        return change

    def waiting(self) -> Iterator[Ticket]:
        for line in self.plain.values():
            yield from line
        for tickets in self.special.values():
            yield from tickets.values()

    def waiting_count(self) -> int:
        return sum(len(line) for line in self.plain.values()) + sum(len(s) for s in self.special.values())

    # ------------------------------------------------------------------ routing and estimates

    def _key(self, ticket: Ticket, now: datetime) -> tuple[Any, ...]:
        return domain.routing_key(ticket, now, self.sla_seconds, self.rules)

    def next_for(self, service_ids: Sequence[str], now: datetime) -> Ticket | None:
        """The ticket a window serving these services calls now (routing order, `domain.routing_key`)."""
        best: tuple[tuple[Any, ...], Ticket] | None = None
        for service_id in dict.fromkeys(service_ids):
            line = self.plain.get(service_id)
            candidates = [line[0]] if line else []
            candidates.extend(self.special.get(service_id, {}).values())
            for ticket in candidates:
                key = self._key(ticket, now)
                if best is None or key < best[0]:
                    best = (key, ticket)
        return best[1] if best else None

    def _plain_before(self, service_id: str, key: tuple[Any, ...], now: datetime) -> int:
        """How many plain tickets of the service route before `key` (their keys only grow: bisect)."""
        line = self.plain.get(service_id)
        if not line:
            return 0
        low, high = 0, len(line)
        while low < high:
            middle = (low + high) // 2
            if self._key(line[middle], now) < key:
                low = middle + 1
            else:
                high = middle
        return low

    def position_of(self, ticket: Ticket, now: datetime) -> int:
        """1-based place among those waiting for the ticket's service (O(log n) + the special few)."""
        key = self._key(ticket, now)
        ahead = self._plain_before(ticket.service_id, key, now)
        for other in self.special.get(ticket.service_id, {}).values():
            if other.ticket_id != ticket.ticket_id and self._key(other, now) < key:
                ahead += 1
        return ahead + 1

    def mean_seconds(self, service_id: str) -> float:
        learned = self.means.get(service_id)
        if learned is not None:
            return learned[0]
        return self.expected_seconds.get(service_id, DEFAULT_MEAN_SECONDS)

    def windows_serving(self, service_id: str) -> int:
        return sum(1 for w in self.windows.values() if w.state == "open" and service_id in w.service_ids)

    def placement(self, ticket: Ticket, now: datetime) -> Placement:
        position = self.position_of(ticket, now)
        minutes = domain.estimate_wait_minutes(
            position, self.mean_seconds(ticket.service_id), self.windows_serving(ticket.service_id)
        )
        return Placement(position, minutes)

    def queue_status(self, now: datetime) -> QueueStatus:
        """The office's QueueStatus from the ordered lines: counts and heads, no pass over every ticket."""
        open_by_service: dict[str, int] = {}
        for window in self.windows.values():
            if window.state == "open":
                for service_id in window.service_ids:
                    open_by_service[service_id] = open_by_service.get(service_id, 0) + 1
        lines = []
        longest = 0
        for service_id in sorted(set(self.plain) | set(self.special) | set(open_by_service)):
            line = self.plain.get(service_id)
            special = self.special.get(service_id, {})
            waiting = (len(line) if line else 0) + len(special)
            candidates = ([line[0]] if line else []) + list(special.values())
            oldest = max((t.waited_seconds(now) for t in candidates), default=0)
            longest = max(longest, oldest)
            if waiting == 0 and service_id not in open_by_service:
                continue
            windows = open_by_service.get(service_id, 0)
            lines.append(
                ServiceQueue(
                    service_id=service_id,
                    waiting=waiting,
                    estimated_wait_minutes=domain.estimate_wait_minutes(
                        waiting + 1, self.mean_seconds(service_id), windows
                    ),
                    longest_wait_seconds=oldest,
                    open_windows=windows,
                )
            )
        return QueueStatus(
            as_of=now,
            waiting=self.waiting_count(),
            open_windows=sum(1 for w in self.windows.values() if w.state == "open"),
            longest_wait_seconds=longest,
            services=lines,
        )

    # ------------------------------------------------------------------ issuing

    def issue(self, new: NewTicket, day: date, now: datetime) -> tuple[Ticket, Placement]:
        number_key = f"{day.isoformat()}:{new.letter}"
        seq = self.numbers.get(number_key, 0) + 1
        self.numbers[number_key] = seq
        self.pending.numbers[number_key] = seq
        ticket = Ticket(
            ticket_id=new.ticket_id,
            office_id=self.office_id,
            number=domain.format_number(new.letter, seq),
            seq=seq,
            local_day=day,
            service_ids=list(new.service_ids),
            zone_id=new.zone_id,
            channel=new.channel,
            issued_at=now,
            queued_at=now,
            token_digest=new.token_digest,
            priority_category=new.priority_category,
            appointment_id=new.appointment_id,
            appointment_at=new.appointment_at,
            language=new.language,
        )
        self.load_ticket(ticket)
        placement = self.placement(ticket, now)
        issued = TicketIssued(
            ticket_id=ticket.ticket_id,
            number=ticket.number,
            service_id=ticket.service_id,
            service_ids=ticket.service_ids,
            zone_id=ticket.zone_id,
            channel=ticket.channel,
            priority_category=ticket.priority_category,
            appointment_id=ticket.appointment_id,
            local_day=day,
            issued_at=now,
            position=placement.position,
            estimated_wait_minutes=placement.estimated_wait_minutes,
            language=ticket.language,
            contact_sealed=new.contact_sealed,
            citizen_token_sealed=new.citizen_token_sealed,
            citizen_token_digest=new.token_digest,
        )
        ticket = self._put(ticket, issued)
        self.pending.tokens.append((ticket.token_digest, ticket.ticket_id))
        self.pending.new_tickets.add(ticket.ticket_id)
        return ticket, placement

    # ------------------------------------------------------------------ windows

    def window(self, window_no: int) -> Window:
        window = self.windows.get(window_no)
        if window is None or window.state == "closed":
            raise NotYourWindow(f"window {window_no} is not open; open it first")
        return window

    def my_window(self, subject: str, window_no: int) -> Window:
        window = self.window(window_no)
        if window.operator_subject != subject:
            raise NotYourWindow(f"window {window_no} was opened by another operator")
        return window

    def active_ticket(self, window_no: int) -> Ticket | None:
        window = self.windows.get(window_no)
        if window is None or window.ticket_id is None:
            return None
        ticket = self.tickets.get(window.ticket_id)
        if ticket is None or ticket.state not in ACTIVE_AT_WINDOW or ticket.window_no != window_no:
            return None
        return ticket

    def open_window(
        self,
        subject: str,
        operator_ref: str,
        window_no: int,
        zone_id: str,
        service_ids: list[str],
        now: datetime,
    ) -> Window:
        current = self.windows.get(window_no)
        if current is not None and current.state != "closed" and current.operator_subject != subject:
            raise WindowTaken(f"window {window_no} is open by another operator; they must close it first")
        window = Window(
            office_id=self.office_id,
            window_no=window_no,
            zone_id=zone_id,
            service_ids=list(service_ids),
            state="open",
            operator_subject=subject,
            operator_ref=operator_ref,
            opened_at=now,
            ticket_id=current.ticket_id if current is not None else None,
            rev=current.rev if current is not None else 0,
        )
        event = WindowOpened(
            window_no=window_no, zone_id=zone_id, operator_ref=operator_ref, service_ids=service_ids
        )
        return self._put_window(window, event)

    def set_window_state(self, subject: str, window_no: int, target: str, reason: str | None) -> Window:
        window = self.my_window(subject, window_no)
        if target in ("paused", "closed") and self.active_ticket(window_no) is not None:
            raise WindowBusy(f"window {window_no} has a called ticket: finish, transfer or no-show it first")
        common = {"window_no": window_no, "zone_id": window.zone_id, "operator_ref": window.operator_ref}
        event: EventData
        if target == "paused":
            if window.state != "open":
                raise WindowNotOpen(f"window {window_no} is {window.state}")
            event = WindowPaused(**common, reason=reason)
        elif target == "open":
            if window.state != "paused":
                raise WindowNotOpen(f"window {window_no} is {window.state}, not paused")
            event = WindowResumed(**common)
        else:
            event = WindowClosed(**common)
        return self._put_window(replace(window, state=target), event)

    # ------------------------------------------------------------------ calling and serving

    def call_next(self, subject: str, operator_ref: str, window_no: int, now: datetime) -> Ticket:
        window = self.my_window(subject, window_no)
        if window.state != "open":
            raise WindowNotOpen(f"window {window_no} is {window.state}; resume it to call")
        if self.active_ticket(window_no) is not None:
            raise WindowBusy(f"window {window_no} still has a ticket: finish, transfer or no-show it first")
        candidate = self.next_for(window.service_ids, now)
        if candidate is None:
            raise NoTicketWaiting(f"nobody is waiting for the services of window {window_no}")
        called, event = domain.call(candidate, window_no, operator_ref, now)
        called = self._put(called, event)
        window.ticket_id = called.ticket_id
        self.pending.windows[window_no] = window
        return called

    def ticket_at(self, window_no: int, ticket_id: str | None) -> Ticket:
        """The ticket an operator means: the one named, or the one now at the window."""
        if ticket_id is not None:
            ticket = self.tickets.get(ticket_id)
            if ticket is None:
                raise TicketNotFound(f"ticket {ticket_id} is not active in office {self.office_id}")
            return ticket
        active = self.active_ticket(window_no)
        if active is None:
            raise InvalidTransition(f"window {window_no} has no called ticket")
        return active

    def change_ticket(self, ticket: Ticket, changed: Ticket, event: EventData) -> Ticket:
        """Commit a domain step's result; a ticket leaving its window frees the window."""
        result = self._put(changed, event)
        if ticket.window_no is not None and result.state not in ACTIVE_AT_WINDOW:
            window = self.windows.get(ticket.window_no)
            if window is not None and window.ticket_id == ticket.ticket_id:
                window.ticket_id = None
                self.pending.windows[window.window_no] = window
        return result

    def learn_service_time(self, service_id: str, seconds: float) -> None:
        previous = self.means.get(service_id)
        base = previous[0] if previous else self.expected_seconds.get(service_id)
        mean = domain.rolling_mean(base, seconds)
        learned = (mean, (previous[1] if previous else 0) + 1)
        self.means[service_id] = learned
        self.pending.means[service_id] = learned

    # ------------------------------------------------------------------ jobs

    def check_sla(self, now: datetime, limit: int = 500) -> int:
        """SlaBreachPredicted / SlaBreached once per waiting ticket; only unannounced ones are placed.

        At most `limit` tickets change per call (one log entry stays well below a document's size
        limit even when a long queue crosses its SLA at once); the caller repeats while it is reached.
        """
        announced = 0
        changed = 0
        office_sla = self.office.sla
        for ticket in list(self.waiting()):
            if ticket.sla_breached:
                continue
            sla = domain.sla_seconds_for(
                ticket, office_sla.max_wait_minutes, office_sla.appointment_max_wait_minutes
            )
            estimate = 0
            if not ticket.sla_predicted and ticket.waited_seconds(now) < sla:
                estimate = self.placement(ticket, now).estimated_wait_minutes * 60
            checked, events = domain.check_sla(ticket, now, sla, estimate)
            if events:
                self._put(checked, quiet=True)
                for event in events:
                    current = self.pending.tickets[ticket.ticket_id]
                    self.pending.events.append((event, ticket.ticket_id, current.rev))
                announced += len(events)
                changed += 1
                if changed >= limit:
                    break
        return announced

    def close_day(self, today: date, over_today: bool, now: datetime) -> int:
        """Cancel waiting tickets of earlier days, or all of them once the office closed today."""
        closed = 0
        for ticket in list(self.waiting()):
            if ticket.local_day < today or over_today:
                cancelled, event = domain.cancel(ticket, "office_closed", now)
                self._put(cancelled, event)
                closed += 1
        return closed

    def forget_days_before(self, day: date) -> None:
        """Number counters of past days are not needed once their tickets are gone."""
        keep = day.isoformat()
        for key in [k for k in self.numbers if k.split(":", 1)[0] < keep]:
            del self.numbers[key]

    # ------------------------------------------------------------------ snapshots

    def snapshot(self) -> dict[str, Any]:
        return {
            "tickets": [self.docs.get(t) or ticket_document(self.tickets[t]) for t in self.tickets],
            "windows": [window_document(w) for w in self.windows.values()],
            "numbers": dict(self.numbers),
            "means": {s: {"mean": m, "samples": n} for s, (m, n) in self.means.items()},
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Apply a snapshot or a log entry: the latest state of what it names."""
        for doc in state.get("tickets", ()):
            ticket = ticket_from(doc)
            self.load_ticket(ticket)
            if ticket.ticket_id in self.tickets:
                self.docs[ticket.ticket_id] = dict(doc)
        for doc in state.get("windows", ()):
            window = window_from(doc)
            self.windows[window.window_no] = window
        self.numbers.update({k: int(v) for k, v in state.get("numbers", {}).items()})
        self.means.update(
            {s: (float(v["mean"]), int(v["samples"])) for s, v in state.get("means", {}).items()}
        )
