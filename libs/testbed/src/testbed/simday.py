"""A simulated office day: seeded visit schedules and a discrete-event replay on ticketing's routing rules.

Pure (no I/O). The city day (`city_day.py`) replays the actions computed here through the real
services; the what-if tool (`what_if.py`) reruns the same arrivals with other window counts.

Time is simulated seconds from the office's opening. Which ticket a free window calls is decided by
`ticketing.domain.order_for_call` (due appointments, aged, priority/raised, then first come), the
exact function the ticketing service uses, so the simulated order is the real one.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from ticketing.domain import QueueRules, Ticket, TicketState, order_for_call

Kind = Literal["walk_in", "priority", "appointment"]
Fate = Literal["served", "no_show", "transfer"]

OPENING_HOUR = 8
OPEN_HOURS = 12  # 08:00-20:00, the MFC rule of at least 10 hours and an evening until 20:00
# Relative arrivals per hour from 08:00: a morning peak, the lunch dip at 13-14, a second
# afternoon wave and a quiet evening.
ARRIVAL_CURVE = (5.0, 10.0, 12.0, 11.0, 8.0, 4.0, 6.0, 9.0, 10.0, 9.0, 6.0, 4.0)
NO_SHOW_CALL_SECONDS = 120  # three calls a minute or so apart before the operator marks a no-show
TRANSFER_AFTER_SECONDS = 180  # the operator finds the other zone is the right one
SIM_DAY = date(2026, 3, 2)
SIM_EPOCH = datetime(2026, 3, 2, OPENING_HOUR - 3, 0, tzinfo=UTC)  # 08:00 Moscow time


@dataclass(frozen=True)
class ServicePlan:
    service_id: str
    letter: str
    zone_id: str
    mean_minutes: int
    share: float  # of the office's visits


@dataclass(frozen=True)
class OfficePlan:
    office_id: str
    windows: dict[str, int]  # zone_id -> number of windows
    services: tuple[ServicePlan, ...]
    sla_minutes: int = 15
    appointment_sla_minutes: int = 5

    def service(self, service_id: str) -> ServicePlan:
        return next(s for s in self.services if s.service_id == service_id)

    def zone_windows(self) -> list[tuple[int, str]]:
        """(window_no, zone_id) numbered 1.. zone by zone in the zones' order."""
        zones = [zone_id for zone_id, count in self.windows.items() for _ in range(count)]
        return [(n, zone_id) for n, zone_id in enumerate(zones, start=1)]

    def with_windows(self, total: int) -> OfficePlan:
        return OfficePlan(
            self.office_id,
            allocate_windows(self.services, total),
            self.services,
            self.sla_minutes,
            self.appointment_sla_minutes,
        )


DEFAULT_SERVICES = (
    ServicePlan("housing-certificate", "А", "z1", 10, 0.35),
    ServicePlan("residence-registration", "Р", "z1", 15, 0.20),
    ServicePlan("document-issue", "В", "z2", 5, 0.30),
    ServicePlan("social-benefit", "С", "z2", 12, 0.15),
)


def allocate_windows(services: Sequence[ServicePlan], total: int) -> dict[str, int]:
    """Spread `total` windows over zones: each next window goes where the work per window is highest."""
    load: dict[str, float] = {}
    for s in services:
        load[s.zone_id] = load.get(s.zone_id, 0.0) + s.share * s.mean_minutes
    windows = dict.fromkeys(load, 1)
    for _ in range(max(total, len(load)) - len(load)):
        busiest = max(load, key=lambda zone: load[zone] / windows[zone])
        windows[busiest] += 1
    return windows


def default_office(office_id: str, visits: int, windows: int | None = None) -> OfficePlan:
    """An office sized for `visits` a day: enough windows to carry the peak hour at ~85% load."""
    if windows is None:
        mean_minutes = sum(s.share * s.mean_minutes for s in DEFAULT_SERVICES)
        peak_share = max(ARRIVAL_CURVE) / sum(ARRIVAL_CURVE)
        windows = max(2, math.ceil(visits * peak_share * mean_minutes / 60 / 0.85))
    return OfficePlan(office_id, allocate_windows(DEFAULT_SERVICES, windows), DEFAULT_SERVICES)


@dataclass(frozen=True)
class Visit:
    visit_id: str
    office_id: str
    arrival: int  # seconds from opening: kiosk ticket, or check-in for an appointment
    service_id: str
    kind: Kind
    service_seconds: int
    fate: Fate
    priority_category: str | None = None
    appointment_at: int | None = None  # slot start, seconds from opening
    transfer_to: str | None = None
    second_service_seconds: int = 0
    rating_draw: float = 1.0  # < RATING_SHARE: the citizen rates the visit
    score_draw: float = 0.5


RATING_SHARE = 0.4


def schedule(plan: OfficePlan, visits: int, seed: int) -> list[Visit]:
    """One office's day: arrival times on the curve, services, appointments, transfers, no-shows, ratings."""
    rng = random.Random(f"{seed}:{plan.office_id}")
    weights = [s.share for s in plan.services]
    out: list[Visit] = []
    for n in range(visits):
        hour = rng.choices(range(OPEN_HOURS), weights=ARRIVAL_CURVE)[0]
        arrival = hour * 3600 + rng.randrange(3600)
        service = rng.choices(plan.services, weights=weights)[0]
        kind_draw, fate_draw = rng.random(), rng.random()
        kind: Kind = "appointment" if kind_draw < 0.15 else "priority" if kind_draw < 0.20 else "walk_in"
        appointment_at = None
        if kind == "appointment":
            # Slots on a 15-minute grid; citizens check in from 10 minutes early to 2 minutes late.
            appointment_at = min(OPEN_HOURS * 3600 - 900, (arrival // 900 + 1) * 900)
            arrival = max(0, appointment_at - rng.randrange(-120, 600))
        fate: Fate = "no_show" if fate_draw < 0.05 else "transfer" if fate_draw < 0.11 else "served"
        others = [s for s in plan.services if s.zone_id != service.zone_id]
        transfer_to = rng.choice(others).service_id if fate == "transfer" and others else None
        if fate == "transfer" and transfer_to is None:
            fate = "served"
        out.append(
            Visit(
                visit_id=f"{plan.office_id}-v{n:05d}",
                office_id=plan.office_id,
                arrival=arrival,
                service_id=service.service_id,
                kind=kind,
                service_seconds=_service_seconds(rng, service.mean_minutes),
                fate=fate,
                priority_category=rng.choice(["disability", "veteran", "pregnant", "infant"])
                if kind == "priority"
                else None,
                appointment_at=appointment_at,
                transfer_to=transfer_to,
                second_service_seconds=_service_seconds(rng, plan.service(transfer_to).mean_minutes)
                if transfer_to
                else 0,
                rating_draw=rng.random(),
                score_draw=rng.random(),
            )
        )
    return sorted(out, key=lambda v: (v.arrival, v.visit_id))


def _service_seconds(rng: random.Random, mean_minutes: int) -> int:
    # Log-normal with the catalog's mean: most visits near it, a few much longer.
    sigma = 0.45
    mu = math.log(mean_minutes * 60) - sigma**2 / 2
    return max(60, min(4 * 3600, round(rng.lognormvariate(mu, sigma))))


def rating_for(visit: Visit, longest_wait: int, sla_seconds: int) -> int | None:
    """The citizen's 1-5 score, if they rate: mostly 5 and 4, worse after a wait past the SLA."""
    if visit.rating_draw >= RATING_SHARE or visit.fate == "no_show":
        return None
    late = longest_wait > sla_seconds
    cuts = (0.15, 0.25, 0.40, 0.60) if late else (0.03, 0.06, 0.14, 0.38)
    return 1 + sum(visit.score_draw >= cut for cut in cuts)


# --------------------------------------------------------------------------- the replay


@dataclass(frozen=True)
class Leg:
    visit_id: str
    service_id: str
    window_no: int
    queued_at: int
    called_at: int
    service_seconds: int
    outcome: Literal["served", "no_show", "transferred"]

    @property
    def waited(self) -> int:
        return self.called_at - self.queued_at


@dataclass(frozen=True)
class Action:
    """One thing a person does, at simulated time `at`: the city day replays these through the services."""

    at: int
    kind: Literal["arrive", "call"]
    visit_id: str
    window_no: int | None = None
    leg: int = 0  # for "call": which leg of the visit (0, or 1 after a transfer)


@dataclass
class DayResult:
    plan: OfficePlan
    visits: dict[str, Visit]
    legs: dict[str, list[Leg]] = field(default_factory=dict)
    actions: list[Action] = field(default_factory=list)
    closed_at: int = 0  # the last window freed

    def wait_legs(self) -> list[Leg]:
        """Legs that count in the wait figures, as feedback counts them: one per ServiceCompleted."""
        return [leg for legs in self.legs.values() for leg in legs if leg.outcome == "served"]

    def terminal(self, visit_id: str) -> str:
        legs = self.legs.get(visit_id, [])
        return "no_show" if legs and legs[-1].outcome == "no_show" else "done" if legs else "waiting"

    def rating(self, visit_id: str) -> int | None:
        legs = self.legs.get(visit_id, [])
        if not legs or self.terminal(visit_id) != "done":
            return None
        return rating_for(self.visits[visit_id], max(leg.waited for leg in legs), self.plan.sla_minutes * 60)

    def figures(self) -> dict[str, float | int | None]:
        legs = self.wait_legs()
        waits = sorted(leg.waited for leg in legs)
        within = sum(1 for leg in legs if leg.waited <= self._target(leg))
        return {
            "visits": len(self.visits),
            "windows": sum(self.plan.windows.values()),
            "served_legs": len(legs),
            "no_shows": sum(1 for v in self.visits if self.terminal(v) == "no_show"),
            "wait_mean_seconds": round(sum(waits) / len(waits), 1) if waits else None,
            "wait_p90_seconds": waits[math.ceil(0.9 * len(waits)) - 1] if waits else None,
            "wait_max_seconds": waits[-1] if waits else None,
            "within_sla_share": round(within / len(legs), 4) if legs else None,
            "closed_at_seconds": self.closed_at,
        }

    def _target(self, leg: Leg) -> int:
        visit = self.visits[leg.visit_id]
        minutes = self.plan.appointment_sla_minutes if visit.kind == "appointment" else self.plan.sla_minutes
        return minutes * 60


def _ticket(visit: Visit, service_id: str, queued_at: int, raised: bool, seq: int) -> Ticket:
    at = SIM_EPOCH + timedelta(seconds=visit.arrival)
    return Ticket(
        ticket_id=visit.visit_id,
        office_id=visit.office_id,
        number=f"{seq:03d}",
        seq=seq,
        local_day=SIM_DAY,
        service_ids=[service_id],
        zone_id="",
        channel="appointment" if visit.kind == "appointment" else "kiosk",
        issued_at=at,
        queued_at=SIM_EPOCH + timedelta(seconds=queued_at),
        token_digest="",
        priority_category=visit.priority_category,
        raised=raised,
        appointment_id=visit.visit_id if visit.appointment_at is not None else None,
        appointment_at=SIM_EPOCH + timedelta(seconds=visit.appointment_at)
        if visit.appointment_at is not None
        else None,
    )


def simulate(plan: OfficePlan, visits: Sequence[Visit], rules: QueueRules = QueueRules()) -> DayResult:
    """Serve the day: windows call by ticketing's order; wait = call time minus queue time, per leg."""
    result = DayResult(plan, {v.visit_id: v for v in visits})
    windows = plan.zone_windows()
    serves = {w: [s.service_id for s in plan.services if s.zone_id == zone] for w, zone in windows}
    idle = {w for w, _ in windows}
    waiting: dict[str, Ticket] = {}
    queued: dict[str, int] = {}  # ticket -> simulated seconds it (re)joined the queue
    events: list[tuple[int, int, str, str, int]] = []  # (time, order, kind, visit_id | "", window)
    order = 0
    for v in visits:
        events.append((v.arrival, order, "arrive", v.visit_id, 0))
        order += 1
    heapq.heapify(events)
    seq = 0
    while events:
        now, _, kind, visit_id, window = heapq.heappop(events)
        if kind == "arrive":
            seq += 1
            visit = result.visits[visit_id]
            waiting[visit_id] = _ticket(visit, visit.service_id, now, False, seq)
            queued[visit_id] = now
            result.actions.append(Action(now, "arrive", visit_id))
        elif kind == "requeue":
            visit = result.visits[visit_id]
            assert visit.transfer_to is not None
            seq += 1
            waiting[visit_id] = _ticket(visit, visit.transfer_to, now, True, seq)
            queued[visit_id] = now
        else:  # a window is free again
            idle.add(window)
            result.closed_at = max(result.closed_at, now)
        # Same-time events settle before anyone is called (a window freed at t sees the arrival at t).
        if events and events[0][0] == now:
            continue
        for w in sorted(idle):
            if not waiting:
                break
            sim_now = SIM_EPOCH + timedelta(seconds=now)
            sla = plan.sla_minutes * 60
            candidates = order_for_call(waiting.values(), serves[w], sim_now, sla, rules)
            if not candidates:
                continue
            ticket = candidates[0]
            del waiting[ticket.ticket_id]
            idle.discard(w)
            busy, leg = _serve(result, ticket, w, queued.pop(ticket.ticket_id), now)
            result.actions.append(Action(now, "call", ticket.ticket_id, w, leg))
            heapq.heappush(events, (now + busy, order, "free", "", w))
            order += 1
            if result.legs[ticket.ticket_id][-1].outcome == "transferred":
                heapq.heappush(events, (now + busy, order, "requeue", ticket.ticket_id, 0))
                order += 1
    return result


def _serve(result: DayResult, ticket: Ticket, window: int, queued_at: int, now: int) -> tuple[int, int]:
    """Record the leg a window serves now; return (seconds the window is busy, leg index)."""
    visit = result.visits[ticket.ticket_id]
    legs = result.legs.setdefault(ticket.ticket_id, [])
    leg_no = len(legs)
    if visit.fate == "no_show" and leg_no == 0:
        busy, outcome = NO_SHOW_CALL_SECONDS, "no_show"
    elif visit.fate == "transfer" and leg_no == 0:
        busy, outcome = min(TRANSFER_AFTER_SECONDS, visit.service_seconds), "transferred"
    else:
        busy, outcome = visit.second_service_seconds if leg_no else visit.service_seconds, "served"
    legs.append(Leg(visit.visit_id, ticket.service_id, window, queued_at, now, busy, outcome))  # type: ignore[arg-type]
    return busy, leg_no


def day_length_seconds() -> int:
    return OPEN_HOURS * 3600


__all__ = [
    "Action",
    "DayResult",
    "OfficePlan",
    "TicketState",
    "Visit",
    "default_office",
    "schedule",
    "simulate",
]
