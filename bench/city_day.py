"""The simulated city day: N offices x M visits through the five real services, KPIs, reconciliation.

    uv run python bench/city_day.py                                # 4 offices x 150 visits (minutes)
    uv run python bench/city_day.py --offices 60 --visits 1000     # the full city (hours on 2 cores)

Needs deploy/local/infra.sh up (Kafka + FerretDB). Starts the system as processes on fresh topics and
databases (testbed.harness: catalog, ticketing x2, appointments, feedback, notifier).

How the day is compressed. The services use wall-clock time, so the day is not slowed down but
*ordered*: `simday.simulate` serves each office's day on ticketing's own call order and yields
the actions (arrivals, window calls) in simulated time; the replay performs them over HTTP in that
order as fast as the system takes them (offices in parallel, one office's actions in sequence):
kiosk tickets (`POST /tickets`), appointments booked and checked in at the appointments service
(its ticket arrives over Kafka), and per call: call-next, then no-show, or start + transfer, or
start + complete. Ratings go through the feedback link, whose token the harness (holding the
notifier's key, as the citizen's phone would) reads from `FeedbackRequested`, or, for a ticket
without a contact (no token there), through the link printed on the ticket (its token from
`TicketIssued.citizen_token_sealed`). Waits in the KPI
table are the simulated ones; the services' own wait figures are wall-clock (seconds) and are
shown only as a check that they are small.

Speed-up vs real time = simulated day length (opening to the last window freed, from the
simulation) / wall time of the replay (first action to last action). The wall time to a clean
reconciliation is reported as well.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from aiokafka import AIOKafkaConsumer
from servicekit.sealing import Unsealer
from testbed.harness import Instance, System
from testbed.simday import DayResult, OfficePlan, Visit, default_office, schedule, simulate

ROOT = Path(__file__).resolve().parents[1]


RESULTS = ROOT / "bench" / "results"
TERMINAL = {"ticketing.TicketNoShow": "no_show", "ticketing.TicketCancelled": "cancelled"}
ZONE_NAMES = {"z1": ("Приём документов", "Acceptance"), "z2": ("Выдача документов", "Issuance")}


# --------------------------------------------------------------------------- catalog


def office_body(plan: OfficePlan) -> dict[str, Any]:
    windows = plan.zone_windows()
    total = len(windows)
    return {
        "office_id": plan.office_id,
        "name": {"ru": f"Офис {plan.office_id}", "en": f"Office {plan.office_id}"},
        "address": {"ru": "Казань", "en": "Kazan"},
        "timezone": "Europe/Moscow",
        # Open around the clock: the replay runs whenever it is started.
        "hours": [{"weekday": d, "open": "00:00", "close": "24:00"} for d in range(7)],
        "zones": [
            {
                "zone_id": z,
                "kind": "acceptance" if z == "z1" else "issuance",
                "name": {"ru": ZONE_NAMES.get(z, (z, z))[0], "en": ZONE_NAMES.get(z, (z, z))[1]},
                "windows": [w for w, zone in windows if zone == z],
            }
            for z in plan.windows
        ],
        "sla": {
            "max_wait_minutes": plan.sla_minutes,
            "appointment_max_wait_minutes": plan.appointment_sla_minutes,
        },
        "priority_categories": [
            {"code": c, "title": {"ru": c, "en": c}} for c in ("disability", "veteran", "pregnant", "infant")
        ],
        "appointment_capacity": [
            {"weekdays": list(range(7)), "start": "00:00", "end": "23:59", "windows": total}
        ],
    }


def service_bodies(plans: list[OfficePlan]) -> list[dict[str, Any]]:
    bodies = []
    for s in plans[0].services:
        bodies.append(
            {
                "service_id": s.service_id,
                "code": s.service_id.upper(),
                "letter": s.letter,
                "category": "municipal",
                "title": {"ru": s.service_id, "en": s.service_id},
                "expected_minutes": s.mean_minutes,
                "appointment_allowed": True,
                "online": {
                    "available": s.service_id == "document-issue",
                    "url": "https://uslugi.tatarstan.ru",
                },
                "offerings": [{"office_id": p.office_id, "zone_id": s.zone_id} for p in plans],
            }
        )
    return bodies


async def publish_catalog(client: httpx.AsyncClient, system: System, plans: list[OfficePlan]) -> None:
    admin = {"Authorization": f"Bearer {system.token('admin', None)}"}
    catalog = system.url("catalog")
    for plan in plans:
        (
            await client.post(f"{catalog}/admin/offices", json=office_body(plan), headers=admin)
        ).raise_for_status()
    for body in service_bodies(plans):
        (await client.post(f"{catalog}/admin/services", json=body, headers=admin)).raise_for_status()


async def wait_catalog_known(client: httpx.AsyncClient, system: System, plans: list[OfficePlan]) -> None:
    """Every ticketing replica and the appointments service have the offices and services."""
    deadline = time.monotonic() + 120
    service = plans[0].services[0].service_id
    for plan in plans:
        urls = [f"{i.url}/offices/{plan.office_id}/queue" for i in system.of("ticketing")]
        urls.append(f"{system.url('appointments')}/offices/{plan.office_id}/services/{service}/slots")
        for url in urls:
            while (await client.get(url)).status_code != 200:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the catalog did not reach {url}")
                await asyncio.sleep(0.2)


# --------------------------------------------------------------------------- the event stream


@dataclass
class Stream:
    """What the ticket and feedback topics say: issued tickets, terminal events, feedback tokens."""

    issued: dict[str, str] = field(default_factory=dict)  # ticket_id -> office_id
    appointment_ticket: dict[str, str] = field(default_factory=dict)  # appointment_id -> ticket_id
    terminal: dict[str, dict[str, str]] = field(
        default_factory=lambda: defaultdict(dict)
    )  # ticket -> event_id -> kind
    feedback_tokens: dict[str, str | None] = field(default_factory=dict)  # ticket_id -> link token
    ticket_tokens: dict[str, str] = field(default_factory=dict)  # ticket_id -> the ticket's own token
    events: int = 0


async def follow(system: System, stream: Stream, stop: asyncio.Event) -> None:
    unsealer = Unsealer(system.private_key)
    topics = [f"{system.prefix}ticketing.ticket", f"{system.prefix}feedback.feedback"]
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=system.kafka,
        group_id=f"{system.prefix}cityday",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=200, max_records=2000)
            for records in batches.values():
                for record in records:
                    stream.events += 1
                    note(stream, json.loads(record.value), unsealer)
    finally:
        await consumer.stop()


def note(stream: Stream, event: dict[str, Any], unsealer: Unsealer) -> None:
    kind, data = event["event_type"], event["data"]
    if kind == "ticketing.TicketIssued":
        stream.issued[data["ticket_id"]] = event["office_id"]
        if data.get("citizen_token_sealed"):  # the token of the rating link printed on the ticket
            stream.ticket_tokens[data["ticket_id"]] = unsealer.unseal(data["citizen_token_sealed"])
        if data.get("appointment_id"):
            stream.appointment_ticket[data["appointment_id"]] = data["ticket_id"]
    elif kind in TERMINAL:
        stream.terminal[data["ticket_id"]][event["event_id"]] = TERMINAL[kind]
    elif kind == "ticketing.ServiceCompleted" and not data.get("next_service_id"):
        stream.terminal[data["ticket_id"]][event["event_id"]] = "done"
    elif kind == "feedback.FeedbackRequested":
        # No token: the ticket left no contact, so no link goes out (the printed one is used).
        sealed = data.get("token_sealed")
        stream.feedback_tokens[data["ticket_id"]] = unsealer.unseal(sealed) if sealed else None


# --------------------------------------------------------------------------- one office's day


@dataclass
class OfficeRun:
    plan: OfficePlan
    day: DayResult
    system: System
    client: httpx.AsyncClient
    stream: Stream
    visit_of_ticket: dict[str, str] = field(default_factory=dict)
    visit_of_appointment: dict[str, str] = field(default_factory=dict)
    legs_done: Counter[str] = field(default_factory=Counter)
    finished: dict[str, str] = field(default_factory=dict)  # visit_id -> done | no_show
    ticket_of_visit: dict[str, str] = field(default_factory=dict)
    acknowledged: set[str] = field(default_factory=set)  # ticket ids the API gave out
    checked_in: set[str] = field(default_factory=set)  # appointment ids checked in
    walk_ins: int = 0
    walk_in_fallbacks: int = 0
    empty_calls: int = 0
    requests: int = 0
    ratings_posted: int = 0

    def __post_init__(self) -> None:
        office = self.plan.office_id
        self.kiosk = {"Authorization": f"Bearer {self.system.token('kiosk', office)}"}
        self.operators = {
            w: {"Authorization": f"Bearer {self.system.token('operator', office, f'op-{office}-{w}')}"}
            for w, _ in self.plan.zone_windows()
        }
        self.serves = {
            w: [s.service_id for s in self.plan.services if s.zone_id == zone]
            for w, zone in self.plan.zone_windows()
        }
        self.zone_of = {s.service_id: s.zone_id for s in self.plan.services}

    def ticketing(self, n: int) -> str:
        replicas = self.system.of("ticketing")
        return replicas[n % len(replicas)].url

    async def post(self, url: str, headers: dict[str, str] | None = None, body: Any = None) -> httpx.Response:
        self.requests += 1
        return await self.client.post(url, json=body, headers=headers)

    async def open_windows(self) -> None:
        for w, services in self.serves.items():
            body = {"office_id": self.plan.office_id, "window_no": w, "service_ids": services}
            (await self.post(f"{self.ticketing(w)}/windows/open", self.operators[w], body)).raise_for_status()

    async def arrive(self, visit: Visit, n: int) -> None:
        if visit.kind == "appointment" and await self.book_and_check_in(visit):
            return
        if visit.kind == "appointment":
            self.walk_in_fallbacks += 1
        body = {
            "office_id": self.plan.office_id,
            "service_id": visit.service_id,
            "channel": "kiosk",
            "priority_category": visit.priority_category,
        }
        response = await self.post(f"{self.ticketing(n)}/tickets", self.kiosk, body)
        response.raise_for_status()
        ticket_id = response.json()["ticket_id"]
        self.visit_of_ticket[ticket_id] = visit.visit_id
        self.ticket_of_visit[visit.visit_id] = ticket_id
        self.acknowledged.add(ticket_id)
        self.walk_ins += 1

    async def book_and_check_in(self, visit: Visit) -> bool:
        """Book the earliest free slot and check in at once (check-in opens 2 h early in this run)."""
        appointments = self.system.url("appointments")
        slots = await self.client.get(
            f"{appointments}/offices/{self.plan.office_id}/services/{visit.service_id}/slots",
            params={"days": 1},
        )
        self.requests += 1
        now = datetime.now(UTC)
        free = [
            s["slot_start"]
            for s in slots.json().get("slots", [])
            if s["seats_left"] > 0 and datetime.fromisoformat(s["slot_start"]) > now
        ]
        for slot_start in free[:3]:
            booked = await self.post(
                f"{appointments}/appointments",
                body={
                    "office_id": self.plan.office_id,
                    "service_id": visit.service_id,
                    "slot_start": slot_start,
                    "name": "Гражданин",
                    "language": "ru",
                },
            )
            if booked.status_code != 201:
                continue
            booking = booked.json()
            checked = await self.post(
                f"{appointments}/checkin", body={"office_id": self.plan.office_id, "code": booking["code"]}
            )
            if checked.status_code == 200:
                self.visit_of_appointment[booking["appointment_id"]] = visit.visit_id
                self.checked_in.add(booking["appointment_id"])
                return True
        return False

    def visit_for(self, ticket: dict[str, Any]) -> str | None:
        visit_id = self.visit_of_ticket.get(ticket["ticket_id"])
        if visit_id is None and ticket.get("appointment_id"):
            visit_id = self.visit_of_appointment.get(ticket["appointment_id"])
            if visit_id is not None:
                self.visit_of_ticket[ticket["ticket_id"]] = visit_id
                self.ticket_of_visit[visit_id] = ticket["ticket_id"]
                self.acknowledged.add(ticket["ticket_id"])
        return visit_id

    async def call(self, window: int) -> bool:
        """Call-next at the window and play the called visit's part; False when nobody waits for it."""
        base = f"{self.ticketing(window)}/windows/{self.plan.office_id}/{window}"
        headers = self.operators[window]
        response = await self.post(f"{base}/call-next", headers)
        if response.status_code == 409:
            return False
        response.raise_for_status()
        ticket = response.json()
        visit_id = self.visit_for(ticket)
        visit = self.day.visits[visit_id] if visit_id else None
        leg = self.legs_done[visit_id or ticket["ticket_id"]]
        self.legs_done[visit_id or ticket["ticket_id"]] += 1
        ref = {"ticket_id": ticket["ticket_id"]}
        if visit is not None and visit.fate == "no_show" and leg == 0:
            (await self.post(f"{base}/no-show", headers, ref)).raise_for_status()
            self.finished[visit.visit_id] = "no_show"
            return True
        (await self.post(f"{base}/start", headers, ref)).raise_for_status()
        if visit is not None and visit.fate == "transfer" and leg == 0 and visit.transfer_to:
            body = {
                **ref,
                "to_service_id": visit.transfer_to,
                "to_zone_id": self.zone_of[visit.transfer_to],
                "reason": "другая зона",
            }
            (await self.post(f"{base}/transfer", headers, body)).raise_for_status()
            return True
        (await self.post(f"{base}/complete", headers, {**ref, "outcome": "served"})).raise_for_status()
        self.finished[visit_id or ticket["ticket_id"]] = "done"
        return True

    async def drain(self, deadline: float) -> None:
        """Calls the day left unanswered (an appointment ticket still on its way over Kafka)."""
        while time.monotonic() < deadline:
            progressed = False
            for window in self.serves:
                while await self.call(window):
                    progressed = True
            if not progressed and len(self.finished) >= self.walk_ins + len(self.checked_in):
                return
            await asyncio.sleep(0.3)

    async def rate(self, deadline: float) -> None:
        feedback = self.system.url("feedback")
        for visit_id, state in self.finished.items():
            score = self.day.rating(visit_id) if visit_id in self.day.visits else None
            if state != "done" or score is None:
                continue
            ticket_id = self.ticket_of_visit[visit_id]
            # The token arrives on the stream follower's dict; polling it is the simple wait here.
            while ticket_id not in self.stream.feedback_tokens and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
            if ticket_id not in self.stream.feedback_tokens:
                continue
            token = self.stream.feedback_tokens[ticket_id]
            if token is not None:  # the link sent to the contact the ticket left
                path = f"/feedback/{token}"
            elif ticket_id in self.stream.ticket_tokens:  # no contact: the link printed on the ticket
                path = f"/feedback/by-ticket/{self.stream.ticket_tokens[ticket_id]}"
            else:
                continue
            response = await self.post(f"{feedback}{path}", body={"rating": score, "tags": []})
            if response.status_code == 201:
                self.ratings_posted += 1


# --------------------------------------------------------------------------- progress and memory


@dataclass
class Progress:
    total: int
    done: int = 0
    started: float = field(default_factory=time.monotonic)

    def line(self, sim_seconds: float) -> str:
        elapsed = time.monotonic() - self.started
        share = self.done / self.total if self.total else 1.0
        bar = "#" * int(share * 30)
        return (
            f"\r[city day {bar:<30}] {self.done}/{self.total} actions  {elapsed:6.1f} s  "
            f"~{sim_seconds * share / max(elapsed, 1e-6):6.0f}x real time"
        )


def rss_kib(pid: int, field_name: str = "VmRSS") -> int:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


def label(instance: Instance, system: System) -> str:
    return f"{instance.service}-{system.of(instance.service).index(instance)}"


async def watch(
    system: System,
    progress: Progress,
    sim_seconds: float,
    samples: dict[str, list[tuple[float, int]]],
    stop: asyncio.Event,
    quiet: bool,
) -> None:
    ticks = 0
    while not stop.is_set():
        share = progress.done / progress.total if progress.total else 1.0
        for instance in system.instances:
            if instance.process is not None:
                samples[label(instance, system)].append((round(share, 3), rss_kib(instance.process.pid)))
        # A live bar on a terminal; one line every 10 s into a log file.
        tty = sys.stderr.isatty()
        if not quiet and (tty or ticks % 20 == 0):
            print(progress.line(sim_seconds), end="" if tty else "\n", file=sys.stderr, flush=True)
        ticks += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)


# --------------------------------------------------------------------------- the day


async def replay_office(run: OfficeRun, progress: Progress) -> None:
    await run.open_windows()
    for n, action in enumerate(run.day.actions):
        if action.kind == "arrive":
            await run.arrive(run.day.visits[action.visit_id], n)
        elif action.window_no is not None and not await run.call(action.window_no):
            run.empty_calls += 1
        progress.done += 1


async def kpis_agree(run: OfficeRun, day: str) -> dict[str, Any]:
    supervisor = {"Authorization": f"Bearer {run.system.token('supervisor', run.plan.office_id)}"}
    response = await run.client.get(
        f"{run.system.url('feedback')}/offices/{run.plan.office_id}/kpis",
        params={"day": day},
        headers=supervisor,
    )
    response.raise_for_status()
    kpis: dict[str, Any] = response.json()
    return kpis


def expected_counts(run: OfficeRun) -> dict[str, int]:
    states = Counter(run.finished.values())
    return {
        "visits": len(run.acknowledged),
        "served_visits": states["done"],
        "no_shows": states["no_show"],
        "cancelled": 0,
        "ratings": run.ratings_posted,
    }


async def reconcile(runs: list[OfficeRun], stream: Stream, deadline: float) -> dict[str, Any]:
    """Every acknowledged ticket ended in exactly one terminal state; feedback's counts match, per office."""
    day = datetime.now(ZoneInfo("Europe/Moscow")).date().isoformat()
    while True:
        problems: list[str] = []
        tickets = {t: run for run in runs for t in run.acknowledged}
        for ticket_id in tickets:
            ends = set(stream.terminal.get(ticket_id, {}).values())
            if ticket_id not in stream.issued:
                problems.append(f"{ticket_id}: no TicketIssued on the stream")
            if len(ends) != 1 or len(stream.terminal.get(ticket_id, {})) != 1:
                problems.append(
                    f"{ticket_id}: terminal events {sorted(stream.terminal.get(ticket_id, {}).values())}"
                )
        offices = {}
        for run in runs:
            kpis = await kpis_agree(run, day)
            want = expected_counts(run)
            got = {k: kpis.get(k) for k in want}
            offices[run.plan.office_id] = {"expected": want, "feedback": got, "kpis": kpis}
            if got != want:
                problems.append(f"{run.plan.office_id}: feedback {got} != replay {want}")
        if not problems or time.monotonic() > deadline:
            return {
                "ok": not problems,
                "problems": problems[:20],
                "problem_count": len(problems),
                "tickets": len(tickets),
                "offices": offices,
            }
        await asyncio.sleep(1.0)


def memory_report(samples: dict[str, list[tuple[float, int]]], system: System) -> dict[str, Any]:
    report = {}
    for instance in system.instances:
        name = label(instance, system)
        series = samples.get(name, [])
        if instance.process is None or not series:
            continue

        def at(share: float, series: list[tuple[float, int]] = series) -> int:
            return next((kib for s, kib in series if s >= share), series[-1][1])

        report[name] = {
            "peak_rss_mib": round(rss_kib(instance.process.pid, "VmHWM") / 1024, 1),
            "rss_mib_at_25_50_75_100pct": [round(at(s) / 1024, 1) for s in (0.25, 0.5, 0.75, 1.0)],
        }
    return report


async def city_day(args: argparse.Namespace) -> dict[str, Any]:
    plans = [default_office(f"city-{n:02d}", args.visits, args.windows) for n in range(1, args.offices + 1)]
    days = [simulate(plan, schedule(plan, args.visits, args.seed)) for plan in plans]
    sim_seconds = max(day.closed_at for day in days)
    system = System(
        ticketing_replicas=2,
        extra_env={
            "ONEWINDOW_LOG_LEVEL": "WARNING",
            # Appointments are booked on the wall clock; a 2-hour check-in window lets the compressed
            # day check in right after booking the earliest free slot.
            "APPOINTMENTS_CHECKIN_EARLY_MINUTES": "120",
        },
    )
    stream, stop = Stream(), asyncio.Event()
    samples: dict[str, list[tuple[float, int]]] = defaultdict(list)
    print(
        f"starting the system ({system.prefix}), {args.offices} offices x {args.visits} visits",
        file=sys.stderr,
    )
    await system.start()
    follower = asyncio.create_task(follow(system, stream, stop))
    limits = httpx.Limits(
        max_connections=args.offices * 2 + 8, max_keepalive_connections=args.offices * 2 + 8
    )
    try:
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            await publish_catalog(client, system, plans)
            await wait_catalog_known(client, system, plans)
            runs = [
                OfficeRun(plan, day, system, client, stream) for plan, day in zip(plans, days, strict=True)
            ]
            progress = Progress(total=sum(len(day.actions) for day in days))
            watcher = asyncio.create_task(watch(system, progress, sim_seconds, samples, stop, args.quiet))
            started = time.monotonic()
            await asyncio.gather(*(replay_office(run, progress) for run in runs))
            replay_seconds = time.monotonic() - started
            await asyncio.gather(*(run.drain(time.monotonic() + 90) for run in runs))
            await asyncio.gather(*(run.rate(time.monotonic() + 90) for run in runs))
            drained_seconds = time.monotonic() - started
            reconciliation = await reconcile(runs, stream, time.monotonic() + 120)
            total_seconds = time.monotonic() - started
            stop.set()
            await watcher
            print(file=sys.stderr)
    finally:
        stop.set()
        await follower
        memory = memory_report(samples, system)
        system.stop()
    return {
        "benchmark": "city day",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "offices": args.offices,
        "visits_per_office": args.visits,
        "seed": args.seed,
        "machine": {"cpus": os.cpu_count(), "load_1m_at_end": round(os.getloadavg()[0], 2)},
        "actions": progress.total,
        "http_requests": sum(run.requests for run in runs),
        "simulated_day_seconds": sim_seconds,
        "replay_wall_seconds": round(replay_seconds, 1),
        "to_last_rating_seconds": round(drained_seconds, 1),
        "to_reconciled_seconds": round(total_seconds, 1),
        "speedup_vs_real_time": round(sim_seconds / replay_seconds, 1),
        "speedup_including_reconciliation": round(sim_seconds / total_seconds, 1),
        "appointments_checked_in": sum(len(run.checked_in) for run in runs),
        "appointments_as_walk_ins": sum(run.walk_in_fallbacks for run in runs),
        "calls_with_nobody_waiting": sum(run.empty_calls for run in runs),
        "events_seen": stream.events,
        "reconciliation": {k: v for k, v in reconciliation.items() if k != "offices"},
        "kpi_table": kpi_rows(runs, reconciliation["offices"]),
        "memory": memory,
    }


def kpi_rows(runs: list[OfficeRun], offices: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for run in runs:
        kpis = offices[run.plan.office_id]["kpis"]
        sim = run.day.figures()
        rows.append(
            {
                "office": run.plan.office_id,
                "windows": sim["windows"],
                "visits": kpis["visits"],
                "served": kpis["served_visits"],
                "no_shows": kpis["no_shows"],
                "cancelled": kpis["cancelled"],
                "ratings": kpis["ratings"],
                "rating_mean": kpis["rating_mean"],
                "sim_wait_mean_min": round((sim["wait_mean_seconds"] or 0) / 60, 1),
                "sim_wait_p90_min": round((sim["wait_p90_seconds"] or 0) / 60, 1),
                "sim_within_sla": sim["within_sla_share"],
                "wall_wait_mean_s": kpis["wait_mean_seconds"],
            }
        )
    return rows


def print_report(result: dict[str, Any]) -> None:
    cols = (
        "office",
        "windows",
        "visits",
        "served",
        "no_shows",
        "cancelled",
        "ratings",
        "rating_mean",
        "sim_wait_mean_min",
        "sim_wait_p90_min",
        "sim_within_sla",
        "wall_wait_mean_s",
    )
    print(" ".join(f"{c:>17}" if i else f"{c:<10}" for i, c in enumerate(cols)))
    for row in result["kpi_table"]:
        print(" ".join(f"{row[c]!s:>17}" if i else f"{row[c]!s:<10}" for i, c in enumerate(cols)))
    rec = result["reconciliation"]
    print(
        f"reconciliation: {'OK' if rec['ok'] else 'FAILED'} - {rec['tickets']} tickets, "
        f"{rec['problem_count']} problems {rec['problems'][:5]}"
    )
    print(
        f"simulated day {result['simulated_day_seconds'] / 3600:.1f} h in {result['replay_wall_seconds']} s "
        f"= {result['speedup_vs_real_time']}x real time ({result['speedup_including_reconciliation']}x "
        f"to a clean reconciliation); {result['http_requests']} HTTP requests"
    )
    for name, mem in result["memory"].items():
        print(
            f"  {name:<16} peak RSS {mem['peak_rss_mib']:7.1f} MiB   "
            f"at 25/50/75/100%: {mem['rss_mib_at_25_50_75_100pct']}"
        )


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--offices", type=int, default=4)
    parser.add_argument("--visits", type=int, default=150, help="visits per office")
    parser.add_argument("--windows", type=int, help="windows per office (default: sized to the visits)")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--out", type=Path, default=RESULTS / "city_day.json")
    return parser.parse_args(argv)


async def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse(argv)
    result = await city_day(args)
    print_report(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return result


if __name__ == "__main__":
    outcome = asyncio.run(main())
    raise SystemExit(0 if outcome["reconciliation"]["ok"] else 1)
