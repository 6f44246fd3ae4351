"""Feedback rules, the visits projection and the office's numbers: pure functions, no I/O.

The models are typed (`Visit`, `FeedbackRequest`, `Alert`); their documents are store.py's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal, Protocol, TypeVar

from contracts.feedback import TimelineEntry

# The office's numbers as the API returns them (JSON objects, not stored documents).
Figures = dict[str, Any]

TAGS = (
    "waiting_time",
    "politeness",
    "competence",
    "comfort",
    "documents_unclear",
    "online_would_do",
    "speed",
    "information",
)
Tag = Literal[
    "waiting_time",
    "politeness",
    "competence",
    "comfort",
    "documents_unclear",
    "online_would_do",
    "speed",
    "information",
]
MAX_COMMENT_CHARS = 1000
ALERT_MAX_RATING = 2
OUTCOMES = ("served", "documents_missing", "sent_online", "refused")
GENERIC_LINK_REASON = "this feedback link is unknown, expired or already used"


class FeedbackLinkUnusable(Exception):
    """Unknown, expired or already used token: one reason for all, so a guesser learns nothing."""

    def __init__(self) -> None:
        super().__init__(GENERIC_LINK_REASON)


class VisitAlreadyRated(Exception):
    """This visit has its rating already (from the ticket, the window screen or the SMS link)."""

    def __init__(self) -> None:
        super().__init__("this visit has been rated already: thank you")


class AlertAlreadyResolved(Exception):
    """The alert was resolved; it cannot be acknowledged or resolved again."""


class BadPeriod(ValueError):
    """A KPI period that is reversed or longer than the export allows."""


# ---------------------------------------------------------------- feedback requests


def request_id_for(ticket_id: str) -> str:
    """One request per visit: the id is derived from the ticket, so a redelivery cannot make two."""
    return f"fr-{ticket_id}"[:64]


def alert_id_for(ticket_id: str) -> str:
    return f"al-{ticket_id}"[:64]


@dataclass(frozen=True)
class FeedbackRequest:
    """One visit's request for a rating, answered once from any of its links (its document: store.py)."""

    request_id: str
    ticket_id: str
    office_id: str
    service_id: str
    visit_day: date  # the office's local day of the visit
    window_no: int | None
    number: str | None
    operator_ref: str | None
    language: str
    token_digest: str  # of the token sealed into the SMS/e-mail link
    ticket_token_digest: str | None  # of the ticket's own token (the link printed on it)
    expires_at: datetime
    requested_at: datetime
    state: str = "requested"  # then "answered"
    correlation_id: str | None = None
    rating: int | None = None
    tags: tuple[str, ...] = ()
    comment: str | None = None  # personal data: erased after the retention period
    answered_at: datetime | None = None
    rev: int = 0


def ensure_usable(request: FeedbackRequest | None, now: datetime) -> FeedbackRequest:
    """The request behind a token, if it can still be answered."""
    if request is None or request.expires_at <= now or request.state != "requested":
        raise FeedbackLinkUnusable()
    return request


def answer(
    request: FeedbackRequest, *, rating: int, tags: Iterable[str], comment: str, now: datetime
) -> FeedbackRequest:
    """The request answered once: rating, tags and the comment (kept here only)."""
    ensure_usable(request, now)
    return replace(
        request,
        state="answered",
        rating=rating,
        tags=tuple(sorted(set(tags))),
        comment=comment.strip() or None,
        answered_at=now,
    )


# ---------------------------------------------------------------- alerts


@dataclass(frozen=True)
class Alert:
    """A low rating put before the office's supervisors, with the visit's timeline as raised
    (its document: store.py)."""

    alert_id: str
    request_id: str
    ticket_id: str
    office_id: str
    service_id: str
    window_no: int | None
    operator_ref: str | None
    rating: int
    tags: tuple[str, ...]
    timeline: tuple[Mapping[str, Any], ...]  # the TimelineEntry JSON of FeedbackAlertRaised
    raised_at: datetime
    state: str = "open"  # then "acknowledged", "resolved"
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    note: str | None = None  # personal data: erased after the retention period
    rev: int = 0


def acknowledge(alert: Alert, *, by: str, now: datetime) -> Alert:
    if alert.state == "resolved":
        raise AlertAlreadyResolved(f"alert {alert.alert_id} is already resolved")
    if alert.state == "acknowledged":
        return alert
    return replace(alert, state="acknowledged", acknowledged_by=by, acknowledged_at=now)


def resolve(alert: Alert, *, by: str, note: str, now: datetime) -> Alert:
    if alert.state == "resolved":
        raise AlertAlreadyResolved(f"alert {alert.alert_id} is already resolved")
    return replace(alert, state="resolved", resolved_by=by, resolved_at=now, note=note)


# ---------------------------------------------------------------- ratings and applications filed online


@dataclass(frozen=True)
class Rating:
    """A visit's rating as the numbers count it, on the office's local day it was given (its
    document: store.py); `event_id` is the FeedbackGiven's, so a redelivery changes nothing."""

    ticket_id: str
    event_id: str
    office_id: str
    request_id: str
    service_id: str
    operator_ref: str | None
    window_no: int | None
    rating: int
    tags: tuple[str, ...]
    given_at: datetime
    given_day: date


@dataclass(frozen=True)
class OnlineApplication:
    """An application the city portal reports filed online, on the office's local day (store.py)."""

    application_id: str
    office_id: str
    service_id: str
    channel: str | None
    after_office_visit: bool  # it carries a OneWindow referral
    filed_at: datetime
    local_day: date


# ---------------------------------------------------------------- windows


@dataclass(frozen=True)
class WindowState:
    """A window as the live view counts it (its document: store.py): the state the newest of its
    events left it in, `order` being that event's (aggregate_version, occurred_at in ISO)."""

    office_id: str
    window_no: int
    zone_id: str
    operator_ref: str
    state: str  # "open", "paused" or "closed"
    order: tuple[int, str]


def window_after(current: WindowState | None, reported: WindowState) -> WindowState | None:
    """The window as `reported`, or None when that is a duplicate or an older state."""
    if current is not None and current.order >= reported.order:
        return None
    return reported


# ---------------------------------------------------------------- the visits projection

# A visit in one of these is over: later events for it are late duplicates or rare corrections.
FINISHED_STATUSES = ("done", "no_show", "cancelled")

# Ticket event type -> status it leaves the ticket in (None: no change).
_STATUS_AFTER = {
    "ticketing.TicketIssued": "waiting",
    "ticketing.TicketCalled": "called",
    "ticketing.ServiceStarted": "serving",
    "ticketing.TicketTransferred": "waiting",
    "ticketing.TicketNoShow": "no_show",
    "ticketing.TicketCancelled": "cancelled",
}


@dataclass(frozen=True)
class TicketFact:
    """What the projection needs of one ticket event: envelope metadata and the payload as JSON."""

    event_id: str
    event_type: str
    occurred_at: datetime
    office_id: str
    aggregate_version: int
    data: Mapping[str, Any]
    local_day: date  # of occurred_at in the office's time zone (used when TicketIssued is missing)


# One fact of a visit per ticket event: every one carries the event's id, time and service.


@dataclass(frozen=True, slots=True)
class Call:
    event_id: str
    at: datetime
    service_id: str
    call_no: int
    window_no: int
    operator_ref: str
    waited_seconds: int


@dataclass(frozen=True, slots=True)
class Start:
    event_id: str
    at: datetime
    service_id: str
    window_no: int
    operator_ref: str


@dataclass(frozen=True, slots=True)
class Leg:
    """One service completed at a window (a visit of several services has several)."""

    event_id: str
    at: datetime
    service_id: str
    window_no: int
    operator_ref: str
    outcome: str
    waited_seconds: int
    service_seconds: int
    next_service_id: str | None
    appointment: bool  # held to the appointment wait target


@dataclass(frozen=True, slots=True)
class Transfer:
    event_id: str
    at: datetime
    service_id: str
    to_service_id: str
    window_no: int | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class SlaBreach:
    event_id: str
    at: datetime
    service_id: str
    waited_seconds: int


@dataclass(frozen=True, slots=True)
class NoShow:
    event_id: str
    at: datetime
    service_id: str
    window_no: int
    calls: int


@dataclass(frozen=True, slots=True)
class Cancellation:
    event_id: str
    at: datetime
    service_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Visit:
    """One ticket's visit as the projection keeps it (its document: store.py).

    The facts are kept per event and sorted by (at, event_id), so the visit is the same whatever
    order its events arrived in; `status_key` is the (aggregate_version, occurred_at) of the event
    that set the status; `applied` the ids of the events applied (a duplicate changes nothing).
    """

    ticket_id: str
    office_id: str
    local_day: date
    number: str
    service_id: str
    service_ids: tuple[str, ...]
    channel: str | None = None
    appointment_id: str | None = None
    priority_category: str | None = None
    issued_at: datetime | None = None
    calls: tuple[Call, ...] = ()
    starts: tuple[Start, ...] = ()
    legs: tuple[Leg, ...] = ()
    transfers: tuple[Transfer, ...] = ()
    sla_breaches: tuple[SlaBreach, ...] = ()
    no_show: NoShow | None = None
    cancelled: Cancellation | None = None
    status: str = "waiting"
    waiting_since: datetime | None = None
    status_key: tuple[int, datetime | None] = (-1, None)
    applied: tuple[str, ...] = ()
    ticket_token_digest: str | None = None  # of the ticket's own token: its printed rating link
    # Whether the TicketIssued carried a contact (a link can be sent); None: not seen yet.
    has_contact: bool | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES


def new_visit(ticket_id: str, fact: TicketFact) -> Visit:
    data = fact.data
    return Visit(
        ticket_id=ticket_id,
        office_id=fact.office_id,
        local_day=fact.local_day,
        number=data["number"],
        service_id=data["service_id"],
        service_ids=(data["service_id"],),
        appointment_id=data.get("appointment_id"),
        priority_category=data.get("priority_category"),
    )


def apply_ticket_event(visit: Visit | None, fact: TicketFact) -> Visit | None:
    """The visit after one ticket event; None when the event changes nothing (a duplicate).

    Facts are stored per event (keyed by event_id), so the result does not depend on duplicates;
    the status follows the newest event by (aggregate_version, occurred_at), so a late republish
    of an older event cannot move a ticket backwards.
    """
    return apply_ticket_events(visit, (fact,))


def apply_ticket_events(visit: Visit | None, facts: Iterable[TicketFact]) -> Visit | None:
    """The visit after these events of one ticket, applied in order as `apply_ticket_event` does
    one by one, but copied once; None when none of them changes it."""
    base = visit
    changes: dict[str, Any] = {}
    applied: list[str] = []
    known = set(visit.applied) if visit is not None else set()

    def now(name: str) -> Any:
        return changes[name] if name in changes else getattr(base, name)

    for fact in facts:
        if fact.event_id in known:
            continue
        if base is None:
            base = new_visit(str(fact.data["ticket_id"]), fact)
        known.add(fact.event_id)
        applied.append(fact.event_id)
        changes.update(_recorded(now, fact))
        changes.update(_status(now, fact))
    if base is None or not applied:
        return None
    return replace(base, applied=(*base.applied, *applied), **changes)


def fold(visit: Visit, facts: Iterable[TicketFact]) -> Visit:
    """A stored visit with the facts stored after it (one per later event, store.py): applied in
    the order their ticket made them (aggregate_version, occurred_at, event_id), whatever order
    they were read in; a fact the visit has applied already (a redelivery, a fact folded into the
    visit before) changes nothing."""
    ordered = sorted(facts, key=lambda f: (f.aggregate_version, f.occurred_at, f.event_id))
    return apply_ticket_events(visit, ordered) or visit


def new_facts(before: Visit | None, after: Visit, facts: Iterable[TicketFact]) -> list[TicketFact]:
    """The facts of `facts` that `after` (`apply_ticket_events(before, facts)`) applied and
    `before` had not, each event once."""
    fresh = set(after.applied[len(before.applied) if before is not None else 0 :])
    found: dict[str, TicketFact] = {}
    for fact in facts:
        if fact.event_id in fresh:
            found.setdefault(fact.event_id, fact)
    return list(found.values())


def _recorded(now: Callable[[str], Any], fact: TicketFact) -> dict[str, Any]:
    """The fields of the visit that this event's fact changes (`now(field)`: the visit so far)."""
    data, at, kind = fact.data, fact.occurred_at, fact.event_type
    event_id, service_id = fact.event_id, data["service_id"]
    if kind == "ticketing.TicketIssued":
        issued = {
            "local_day": date.fromisoformat(str(data["local_day"])),
            "number": data["number"],
            "service_id": data["service_id"],
            "service_ids": tuple(data["service_ids"]),
            "channel": data["channel"],
            "appointment_id": data.get("appointment_id"),
            "priority_category": data.get("priority_category"),
            "issued_at": _as_datetime(data["issued_at"]),
            "has_contact": data.get("contact_sealed") is not None,
        }
        if data.get("citizen_token_digest"):  # the rating link printed on the ticket carries its token
            issued["ticket_token_digest"] = data["citizen_token_digest"]
        return issued
    if kind == "ticketing.TicketCalled":
        call = Call(
            event_id,
            at,
            service_id,
            call_no=data["call_no"],
            window_no=data["window_no"],
            operator_ref=data["operator_ref"],
            waited_seconds=data["waited_seconds"],
        )
        return {"calls": _add(now("calls"), call)}
    if kind == "ticketing.ServiceStarted":
        start = Start(
            event_id, at, service_id, window_no=data["window_no"], operator_ref=data["operator_ref"]
        )
        return {"starts": _add(now("starts"), start)}
    if kind == "ticketing.ServiceCompleted":
        leg = Leg(
            event_id,
            at,
            service_id,
            window_no=data["window_no"],
            operator_ref=data["operator_ref"],
            outcome=data["outcome"],
            waited_seconds=data["waited_seconds"],
            service_seconds=data["service_seconds"],
            next_service_id=data.get("next_service_id"),
            appointment=bool(data.get("appointment_id")) or data.get("channel") == "appointment",
        )
        return {"legs": _add(now("legs"), leg)}
    if kind == "ticketing.TicketTransferred":
        transfer = Transfer(
            event_id,
            at,
            service_id,
            to_service_id=data["to_service_id"],
            window_no=data.get("window_no"),
            reason=data.get("reason"),
        )
        return {"transfers": _add(now("transfers"), transfer)}
    if kind == "ticketing.TicketNoShow":
        return {"no_show": NoShow(event_id, at, service_id, window_no=data["window_no"], calls=data["calls"])}
    if kind == "ticketing.TicketCancelled":
        return {"cancelled": Cancellation(event_id, at, service_id, reason=data["reason"])}
    if kind == "ticketing.SlaBreached":
        breach = SlaBreach(event_id, at, service_id, waited_seconds=data["waited_seconds"])
        return {"sla_breaches": _add(now("sla_breaches"), breach)}
    return {}


class _Fact(Protocol):
    @property
    def at(self) -> datetime: ...
    @property
    def event_id(self) -> str: ...


F = TypeVar("F", bound=_Fact)


def _add(entries: tuple[F, ...], entry: F) -> tuple[F, ...]:
    # Sorted by time then id, so the stored list is the same whatever order events arrived in.
    return tuple(sorted([*entries, entry], key=lambda e: (e.at, e.event_id)))


def _status(now: Callable[[str], Any], fact: TicketFact) -> dict[str, Any]:
    """The status fields this event sets, if it is the newest that sets one (`now(field)`: the
    visit so far, this event's facts recorded)."""
    status = _STATUS_AFTER.get(fact.event_type)
    if fact.event_type == "ticketing.ServiceCompleted":
        status = "waiting" if fact.data.get("next_service_id") else "done"
    if status is None:
        return {}
    key = (fact.aggregate_version, fact.occurred_at)
    stored_version, stored_at = now("status_key")
    if stored_at is not None and (stored_version, stored_at) > key:
        return {}
    # Only a waiting ticket has a "since"; clearing it otherwise keeps the visit order-independent.
    since = None
    if status == "waiting":
        issued = now("issued_at") if fact.event_type == "ticketing.TicketIssued" else None
        since = issued or fact.occurred_at
    return {"status": status, "status_key": key, "waiting_since": since}


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def timeline(visit: Visit) -> list[TimelineEntry]:
    """The visit as a supervisor reads it: issued, waited, calls, transfers, window, operator, outcome."""
    entries: list[TimelineEntry] = []
    if visit.issued_at is not None:
        detail = f"ticket {visit.number}, {visit.channel}, service {visit.service_id}"
        if visit.priority_category:
            detail += f", priority {visit.priority_category}"
        entries.append(TimelineEntry(at=visit.issued_at, what="ticketing.TicketIssued", detail=detail))
    for call in visit.calls:
        entries.append(
            TimelineEntry(
                at=call.at,
                what="ticketing.TicketCalled",
                detail=f"call {call.call_no} to window {call.window_no} by {call.operator_ref}, "
                f"waited {_minutes(call.waited_seconds)}",
            )
        )
    for start in visit.starts:
        entries.append(
            TimelineEntry(
                at=start.at,
                what="ticketing.ServiceStarted",
                detail=f"window {start.window_no}, operator {start.operator_ref}",
            )
        )
    for leg in visit.legs:
        entries.append(
            TimelineEntry(
                at=leg.at,
                what="ticketing.ServiceCompleted",
                detail=f"{leg.service_id}: {leg.outcome} at window {leg.window_no} "
                f"by {leg.operator_ref}, "
                f"waited {_minutes(leg.waited_seconds)}, served {_minutes(leg.service_seconds)}",
            )
        )
    for transfer in visit.transfers:
        entries.append(
            TimelineEntry(
                at=transfer.at,
                what="ticketing.TicketTransferred",
                detail=f"{transfer.service_id} -> {transfer.to_service_id}"
                + (f" ({transfer.reason})" if transfer.reason else ""),
            )
        )
    for breach in visit.sla_breaches:
        entries.append(
            TimelineEntry(
                at=breach.at,
                what="ticketing.SlaBreached",
                detail=f"waited {_minutes(breach.waited_seconds)}",
            )
        )
    if visit.no_show:
        entries.append(
            TimelineEntry(
                at=visit.no_show.at,
                what="ticketing.TicketNoShow",
                detail=f"after {visit.no_show.calls} calls",
            )
        )
    if visit.cancelled:
        entries.append(
            TimelineEntry(
                at=visit.cancelled.at, what="ticketing.TicketCancelled", detail=str(visit.cancelled.reason)
            )
        )
    return sorted(entries, key=lambda e: e.at)


def _minutes(seconds: int) -> str:
    return f"{seconds // 60} min {seconds % 60:02d} s"


# ---------------------------------------------------------------- KPIs


@dataclass(frozen=True)
class SlaTargets:
    max_wait_minutes: int = 15
    appointment_max_wait_minutes: int = 5


@dataclass(frozen=True)
class KpiFilter:
    service_id: str | None = None
    operator_ref: str | None = None

    def takes_leg(self, leg: Leg) -> bool:
        return (self.service_id in (None, leg.service_id)) and (self.operator_ref in (None, leg.operator_ref))

    def takes_visit(self, visit: Visit) -> bool:
        if self.service_id is not None:
            services = {*visit.service_ids, visit.service_id}
            services |= {leg.service_id for leg in visit.legs}
            services |= {t.to_service_id for t in visit.transfers}
            if self.service_id not in services:
                return False
        if self.operator_ref is not None:
            operators = {c.operator_ref for c in visit.calls} | {leg.operator_ref for leg in visit.legs}
            if self.operator_ref not in operators:
                return False
        return True


def percentile_nearest_rank(values: list[int], share: float) -> int | None:
    """Exact percentile by nearest rank: the smallest value with at least `share` of values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def compute_kpis(
    visits: Iterable[Visit],
    ratings: Mapping[str, int],
    *,
    sla: SlaTargets,
    online_services: set[str],
    scope: KpiFilter = KpiFilter(),
) -> Figures:
    """The numbers of one office over a set of visits (typically one local day).

    Visit-level figures (visits, no-shows, ratings) count tickets; wait, service time, SLA,
    outcomes and "online could have done" count served legs (one per ServiceCompleted: a
    multi-service visit waits and is served once per service).
    """
    taken = [v for v in visits if scope.takes_visit(v)]
    legs = [leg for v in taken for leg in v.legs if scope.takes_leg(leg)]
    waits = [int(leg.waited_seconds) for leg in legs]
    no_shows = sum(1 for v in taken if v.no_show)
    served_visits = sum(1 for v in taken if v.legs)
    within = sum(1 for leg in legs if leg.waited_seconds <= _target_seconds(leg, sla))
    given = [ratings[v.ticket_id] for v in taken if v.ticket_id in ratings]
    outcomes = {name: 0 for name in OUTCOMES}
    for leg in legs:
        outcomes[leg.outcome] = outcomes.get(leg.outcome, 0) + 1
    called = no_shows + served_visits
    return {
        "visits": len(taken),
        "served_visits": served_visits,
        "no_shows": no_shows,
        "cancelled": sum(1 for v in taken if v.cancelled),
        "no_show_rate": round(no_shows / called, 4) if called else None,
        "served_legs": len(legs),
        "wait_mean_seconds": _mean(waits),
        "wait_p50_seconds": percentile_nearest_rank(waits, 0.5),
        "wait_p90_seconds": percentile_nearest_rank(waits, 0.9),
        "service_mean_seconds": _mean([int(leg.service_seconds) for leg in legs]),
        "within_sla": within,
        "within_sla_share": round(within / len(legs), 4) if legs else None,
        "ratings": len(given),
        "rating_mean": round(sum(given) / len(given), 2) if given else None,
        "rating_distribution": {str(score): given.count(score) for score in range(1, 6)},
        "outcomes": outcomes,
        "online_could_have_done": sum(1 for leg in legs if leg.service_id in online_services),
    }


def compute_history(
    visits: Iterable[Visit],
    ratings: Mapping[str, int],
    *,
    start: date,
    end: date,
    sla: SlaTargets,
    online_services: set[str],
) -> Figures:
    """An office's numbers over [start, end]: the whole period, per service, per operator, and per
    day, ISO week and calendar month (a week or month cut by the period counts only its days inside).

    Each figure is `compute_kpis` over the visits of that slice (by the visit's office-local day),
    so p50/p90 of a week are exact over the week's legs, not an average of daily percentiles.
    """
    days = days_between(start, end, limit=max(1, (end - start).days + 1))
    by_day: dict[str, list[Visit]] = {day.isoformat(): [] for day in days}
    for visit in visits:
        if (local_day := visit.local_day.isoformat()) in by_day:
            by_day[local_day].append(visit)
    inside = [v for day in by_day.values() for v in day]

    def figures(subset: list[Visit], scope: KpiFilter = KpiFilter()) -> Figures:
        return compute_kpis(subset, ratings, sla=sla, online_services=online_services, scope=scope)

    def periods(key: Any) -> list[Figures]:
        groups: dict[str, list[date]] = {}
        for day in days:
            groups.setdefault(key(day), []).append(day)
        return [
            {
                "period": name,
                "from": members[0].isoformat(),
                "to": members[-1].isoformat(),
                **figures([v for day in members for v in by_day[day.isoformat()]]),
            }
            for name, members in groups.items()
        ]

    services = served_services(inside)
    operators = sorted({leg.operator_ref for v in inside for leg in v.legs})
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "sla_max_wait_minutes": sla.max_wait_minutes,
        "total": figures(inside),
        "services": [{"service_id": s, **figures(inside, KpiFilter(service_id=s))} for s in services],
        "operators": [{"operator_ref": o, **figures(inside, KpiFilter(operator_ref=o))} for o in operators],
        "days": [{"day": day, **figures(members)} for day, members in by_day.items()],
        "weeks": periods(lambda day: "{}-W{:02d}".format(*day.isocalendar()[:2])),
        "months": periods(lambda day: f"{day.year}-{day.month:02d}"),
    }


def served_services(visits: Iterable[Visit]) -> list[str]:
    """The services the visits were issued for or served, sorted."""
    listed = list(visits)
    return sorted({leg.service_id for v in listed for leg in v.legs} | {v.service_id for v in listed})


def _target_seconds(leg: Leg, sla: SlaTargets) -> int:
    minutes = sla.appointment_max_wait_minutes if leg.appointment else sla.max_wait_minutes
    return minutes * 60


def days_between(start: date, end: date, *, limit: int) -> list[date]:
    if end < start:
        raise BadPeriod(f"'from' ({start}) is after 'to' ({end})")
    count = (end - start).days + 1
    if count > limit:
        raise BadPeriod(f"at most {limit} days per export, asked for {count}")
    return [start + timedelta(days=n) for n in range(count)]


def waiting_now(visits: Iterable[Visit], now: datetime) -> tuple[int, int]:
    """(tickets waiting, longest current wait in seconds) among the day's visits."""
    waits = [
        max(0, int((now - v.waiting_since).total_seconds()))
        for v in visits
        if v.status == "waiting" and v.waiting_since is not None
    ]
    return len(waits), max(waits, default=0)


# ---------------------------------------------------------------- the digital share

DIGITAL_SHARE_GOAL = 0.78
# The counts of a digital-share row, summed over services, offices and the city.
SHARE_COUNTS = ("online", "in_office", "could_have_been_online", "sent_online", "online_after_office_visit")


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def compute_digital_share(
    visits: Iterable[Visit],
    applications: Iterable[OnlineApplication],
    *,
    online_services: set[str],
    goal: float = DIGITAL_SHARE_GOAL,
) -> Figures:
    """Online vs in-office applications of one office over a period, in total and per service.

    - `in_office`: served legs with the outcome "served" (the office took the application);
    - `online`: OnlineApplicationFiled reported by the portal for the office;
    - `share_online` = online / (online + in_office), against `goal`;
    - `could_have_been_online`: served legs (any outcome) of a service that has an online alternative;
    - `sent_online`: legs closed with the outcome "sent_online" (the operator sent the citizen to the portal);
    - `online_after_office_visit`: portal applications carrying a OneWindow referral.
    """
    rows: dict[str, Figures] = {}

    def row(service_id: str) -> Figures:
        return rows.setdefault(
            service_id,
            {
                "service_id": service_id,
                "has_online_alternative": service_id in online_services,
                "online": 0,
                "in_office": 0,
                "could_have_been_online": 0,
                "sent_online": 0,
                "online_after_office_visit": 0,
            },
        )

    for visit in visits:
        for leg in visit.legs:
            figures = row(str(leg.service_id))
            figures["in_office"] += leg.outcome == "served"
            figures["sent_online"] += leg.outcome == "sent_online"
            figures["could_have_been_online"] += figures["has_online_alternative"]
    for application in applications:
        figures = row(application.service_id)
        figures["online"] += 1
        figures["online_after_office_visit"] += application.after_office_visit
    services = [_with_share(rows[key], goal) for key in sorted(rows)]
    return {"goal": goal, **_with_share(_summed(services), goal), "services": services}


def _summed(rows: Iterable[Mapping[str, Any]]) -> Figures:
    listed = list(rows)
    return {key: sum(int(row[key]) for row in listed) for key in SHARE_COUNTS}


def compute_city_digital_share(
    offices: Mapping[str, Mapping[str, Any]], goal: float = DIGITAL_SHARE_GOAL
) -> Figures:
    """The city across its offices, from each office's `compute_digital_share` over one period:

    - the city's totals and share against the goal;
    - per office: its totals, share, `meets_goal`, and how many of its services with an online
      alternative (and any applications) are below the goal (`services_below_goal`);
    - per service, summed over the offices: the same counts, share and `meets_goal`, and in how
      many offices it had applications (`offices`).
    """
    services: dict[str, Figures] = {}
    office_rows = []
    for office_id in sorted(offices):
        figures = offices[office_id]
        office_rows.append(
            {
                "office_id": office_id,
                **_with_share(_summed([figures]), goal),
                "services_below_goal": sum(1 for row in figures["services"] if row["meets_goal"] is False),
            }
        )
        for row in figures["services"]:
            city_row = services.setdefault(
                str(row["service_id"]),
                {"service_id": row["service_id"], "has_online_alternative": False, "offices": 0}
                | dict.fromkeys(SHARE_COUNTS, 0),
            )
            city_row["has_online_alternative"] |= bool(row["has_online_alternative"])
            city_row["offices"] += 1
            for key in SHARE_COUNTS:
                city_row[key] += int(row[key])
    service_rows = [_with_share(services[key], goal) for key in sorted(services)]
    return {
        "goal": goal,
        **_with_share(_summed(office_rows), goal),
        "offices": office_rows,
        "services": service_rows,
    }


def _with_share(figures: Figures, goal: float) -> Figures:
    """The online share; a service with no online alternative is not held to the goal."""
    share = _share(int(figures["online"]), int(figures["online"]) + int(figures["in_office"]))
    held = share is not None and figures.get("has_online_alternative", True)
    return {
        **figures,
        "share_online": share,
        "meets_goal": share >= goal if held and share is not None else None,
    }
