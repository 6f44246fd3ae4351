"""Reconcile a running OneWindow system: every ticket once everywhere, dead letters, lag, nothing stuck.

    uv run python ops/reconcile.py [--prefix sysab12cd34.] [--db-template 'onewindow_{service}']
        [--acknowledged ticket-ids.txt] [--idle] [--kafka 127.0.0.1:9092] [--mongo-url mongodb://...]

Defaults come from the environment the services use (ONEWINDOW_KAFKA, ONEWINDOW_MONGO_URL,
ONEWINDOW_TOPIC_PREFIX, <SERVICE>_MONGO_DB). It only reads: the topics from the beginning (no
consumer group, nothing committed) and each service's database. Prints one JSON report and exits 1
when anything disagrees, 0 when everything reconciles; run it again after a fault until it is 0.

What it checks:
- every TicketIssued on `ticketing.ticket` (and every id in --acknowledged, one per line: tickets the
  API answered 201 for) is in ticketing's `tickets` once, with a number no other ticket has that
  day, in feedback's `visits` with every ticket event applied exactly once, and - while it waits -
  in the notifier's `waiting` view (which holds no ticket that stopped waiting);
- checked-in appointments have their ticket, and bookings close when their ticket does;
- every message on a dead-letter topic is counted per topic and group; poison (bytes that are no
  valid event) is expected there, a valid event there is a discrepancy (a handler gave up on it);
  every poison message on a consumed topic reached the dead letters of every group past it;
- consumer lag (end offset - committed offset) of every group a service runs (`<prefix><service>` and
  `<prefix><service>-<what>`, such as the notifier's board group) is zero;
- nothing is stuck: no outbox marker or unpublished outbox entry, no unfinished revision claim,
  no ticket at a closed window or two at one window (with --idle: no ticket at any window).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from contracts.registry import TOPICS, MalformedEvent, UnknownEvent, decode
from contracts.ticketing import appointment_ticket_id
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

SERVICES = ("catalog", "ticketing", "appointments", "feedback", "notifier")
# Aggregate collections (written through AggregateStore: revision claims + outbox) per service.
AGGREGATES = {
    "catalog": ("offices", "services"),
    "ticketing": ("tickets", "windows", "queue_status"),
    "appointments": ("bookings",),
    "feedback": ("feedback_requests", "alerts"),
    "notifier": ("boards", "deliveries"),
}
# Ticket events the feedback service keeps in a visit (SlaBreachPredicted only goes to supervisors).
FEEDBACK_FACTS = {
    "ticketing.TicketIssued",
    "ticketing.TicketCalled",
    "ticketing.TicketNoShow",
    "ticketing.ServiceStarted",
    "ticketing.ServiceCompleted",
    "ticketing.TicketTransferred",
    "ticketing.TicketCancelled",
    "ticketing.SlaBreached",
}
# Events after which the notifier shows the ticket as waiting (a multi-service re-queue it does not track).
JOINS_QUEUE = {"ticketing.TicketIssued", "ticketing.TicketTransferred"}
LEAVES_QUEUE = {"ticketing.TicketCalled", "ticketing.TicketNoShow", "ticketing.TicketCancelled"}
FINAL_TICKET_STATES = {"done", "no_show", "cancelled"}
STALE_CLAIM = timedelta(seconds=10)
SAMPLE = 20

Doc = dict[str, Any]


@dataclass
class Config:
    kafka: str
    mongo_url: str
    prefix: str
    db_template: str
    acknowledged: Path | None = None
    idle: bool = False

    def database(self, service: str) -> str:
        return os.environ.get(f"{service.upper()}_MONGO_DB") or self.db_template.format(service=service)


@dataclass
class Report:
    discrepancies: list[Doc] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    lag: dict[str, dict[str, int]] = field(default_factory=dict)
    dead_letters: dict[str, Doc] = field(default_factory=dict)

    def problem(self, check: str, items: list[Any] | set[Any], what: str) -> None:
        """Record a discrepancy: how many, what it means, a sample to start from."""
        if items:
            listed = sorted(items, key=str)
            self.discrepancies.append(
                {"check": check, "count": len(listed), "what": what, "sample": listed[:SAMPLE]}
            )

    def as_json(self) -> Doc:
        return {
            "ok": not self.discrepancies,
            "checked_at": datetime.now(UTC).isoformat(),
            "counts": self.counts,
            "lag": self.lag,
            "dead_letters": self.dead_letters,
            "discrepancies": self.discrepancies,
        }


# ------------------------------------------------------------------ Kafka


class Kafka:
    """Read-only: an admin client for groups and metadata, a group-less consumer for offsets and records."""

    def __init__(self, bootstrap: str) -> None:
        self.admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        self.consumer: AIOKafkaConsumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None, auto_offset_reset="earliest"
        )

    async def __aenter__(self) -> Kafka:
        await self.admin.start()
        await self.consumer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.consumer.stop()
        await self.admin.close()

    async def partitions(self, topics: list[str]) -> list[TopicPartition]:
        described = await self.admin.describe_topics(sorted(set(topics)))
        return [
            TopicPartition(topic["topic"], partition["partition"])
            for topic in described
            if topic["error_code"] == 0
            for partition in sorted(topic["partitions"], key=lambda p: p["partition"])
        ]

    async def read(self, topics: list[str]) -> dict[str, list[ConsumerRecord[bytes, bytes]]]:
        """Every record of the topics, beginning to the current end (no group: nothing is committed)."""
        records: dict[str, list[ConsumerRecord[bytes, bytes]]] = {topic: [] for topic in topics}
        partitions = await self.partitions(topics)
        if not partitions:
            return records
        consumer = self.consumer
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        for tp in partitions:
            # An exact seek: seek_to_beginning can lose a race with the first position reset.
            consumer.seek(tp, starts[tp])
        remaining = {tp for tp in partitions if ends[tp] > starts[tp]}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000, max_records=5000)
            for tp, batch in batches.items():
                records[tp.topic] += [r for r in batch if r.offset < ends[tp]]
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return records

    async def service_groups(self, prefix: str) -> list[str]:
        listed = await self.admin.list_consumer_groups()
        return sorted(g[0] for g in listed if is_service_group(g[0], prefix))

    async def committed(self, groups: list[str]) -> dict[tuple[str, str, int], int]:
        found: dict[tuple[str, str, int], int] = {}
        for group in groups:
            for tp, meta in (await self.admin.list_consumer_group_offsets(group)).items():
                found[(group, tp.topic, tp.partition)] = meta.offset
        return found

    async def lag(self, committed: dict[tuple[str, str, int], int]) -> dict[str, dict[str, int]]:
        """Lag per group and topic: end offset minus committed offset, summed over the partitions.

        A partition the group never committed counts from the beginning (it has not read it)."""
        topics_of: dict[str, set[str]] = defaultdict(set)
        for group, topic, _ in committed:
            topics_of[group].add(topic)
        partitions = await self.partitions([t for ts in topics_of.values() for t in ts])
        ends = await self.consumer.end_offsets(partitions) if partitions else {}
        starts = await self.consumer.beginning_offsets(partitions) if partitions else {}
        lag: dict[str, dict[str, int]] = {}
        for group, topics in sorted(topics_of.items()):
            per_topic: dict[str, int] = {}
            for tp in partitions:
                if tp.topic in topics:
                    position = committed.get((group, tp.topic, tp.partition), -1)
                    position = position if position >= 0 else starts[tp]
                    per_topic[tp.topic] = per_topic.get(tp.topic, 0) + max(0, ends[tp] - position)
            lag[group] = dict(sorted(per_topic.items()))
        return lag


def is_service_group(group: str, prefix: str) -> bool:
    """A group a service runs: `<prefix><service>`, or another of its own, `<prefix><service>-<what>`
    (the notifier's `notifier-board`; ticketing's `ticketing-owners` commits no offsets: no lag)."""
    if not group.startswith(prefix):
        return False
    name = group[len(prefix) :]
    return any(name == service or name.startswith(f"{service}-") for service in SERVICES)


def headers_of(record: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    return {key: value.decode(errors="replace") for key, value in (record.headers or ())}


def is_poison(body: bytes | None) -> bool:
    """Bytes no consumer can read as an event (unknown types are skipped, not poison)."""
    try:
        decode(body or b"")
    except MalformedEvent:
        return True
    except UnknownEvent:
        return False
    return False


def check_dead_letters(
    report: Report,
    records: dict[str, list[ConsumerRecord[bytes, bytes]]],
    lag: dict[str, dict[str, int]],
    committed_past: dict[tuple[str, str, int], int],
    prefix: str,
) -> None:
    dead_lettered: Counter[tuple[str, str, int, int]] = Counter()
    valid_events: list[str] = []
    for spec in TOPICS.values():
        topic, dlt = prefix + spec.name, prefix + spec.dead_letters
        by_group: Counter[str] = Counter()
        by_error: Counter[str] = Counter()
        poison = 0
        for record in records.get(dlt, []):
            headers = headers_of(record)
            group = headers.get("dlt.group", "?")
            by_group[group] += 1
            by_error[headers.get("dlt.error_type", "?")] += 1
            dead_lettered[
                (group, topic, int(headers.get("dlt.partition", -1)), int(headers.get("dlt.offset", -1)))
            ] += 1
            if is_poison(record.value):
                poison += 1
            else:
                valid_events.append(
                    f"{group} gave up on {headers.get('event_type', '?')} {headers.get('event_id', '?')} "
                    f"({topic}[{headers.get('dlt.partition')}]@{headers.get('dlt.offset')}): "
                    f"{headers.get('dlt.error', '')[:200]}"
                )
        total = len(records.get(dlt, []))
        if total:
            report.dead_letters[dlt] = {
                "total": total,
                "poison": poison,
                "valid_events": total - poison,
                "by_group": dict(by_group),
                "by_error": dict(by_error),
            }
        # Every poison record of the topic must be in the dead letters of each group that moved past it.
        missing = []
        for record in records.get(topic, []):
            if not is_poison(record.value):
                continue
            for group, topics in lag.items():
                if spec.name not in {t[len(prefix) :] for t in topics}:
                    continue
                past = committed_past.get((group, topic, record.partition), -1) > record.offset
                if past and dead_lettered[(group, topic, record.partition, record.offset)] == 0:
                    missing.append(f"{group}: {topic}[{record.partition}]@{record.offset}")
        report.problem(
            "poison_not_dead_lettered",
            missing,
            "a message no consumer can read was skipped without reaching the dead-letter topic",
        )
    report.counts["dead_letters_total"] = sum(v["total"] for v in report.dead_letters.values())
    report.counts["dead_letters_repeated"] = sum(n - 1 for n in dead_lettered.values() if n > 1)
    report.problem(
        "valid_events_dead_lettered",
        valid_events,
        "a handler failed on a valid event and gave it up: the consumer's state misses it",
    )


# ------------------------------------------------------------------ tickets across the stores


@dataclass
class TicketHistory:
    """What `ticketing.ticket` says of one ticket: its event ids by type, in topic order."""

    issued: set[str] = field(default_factory=set)
    events: dict[str, str] = field(default_factory=dict)  # event_id -> event_type
    last_queue_move: str | None = None


def ticket_histories(
    records: list[ConsumerRecord[bytes, bytes]],
) -> tuple[dict[str, TicketHistory], Counter[str]]:
    histories: dict[str, TicketHistory] = defaultdict(TicketHistory)
    seen: Counter[str] = Counter()
    for record in records:
        try:
            envelope, _ = decode(record.value or b"")
        except (MalformedEvent, UnknownEvent):
            seen["unreadable_or_unknown"] += 1
            continue
        seen["events"] += 1
        ticket_id = str(envelope.data.get("ticket_id", envelope.aggregate_id))
        event_id = str(envelope.event_id)
        history = histories[ticket_id]
        if event_id in history.events:
            seen["redelivered"] += 1  # at-least-once: the same event again (outbox retry, injected copy)
            continue
        history.events[event_id] = envelope.event_type
        if envelope.event_type == "ticketing.TicketIssued":
            history.issued.add(event_id)
        if envelope.event_type in JOINS_QUEUE | LEAVES_QUEUE or (
            envelope.event_type == "ticketing.ServiceCompleted" and envelope.data.get("next_service_id")
        ):
            history.last_queue_move = envelope.event_type
    return histories, seen


async def all_docs(db: AsyncDatabase[Doc], collection: str, projection: Doc | None = None) -> list[Doc]:
    return [doc async for doc in db[collection].find({}, projection)]


async def check_tickets(
    report: Report, config: Config, dbs: dict[str, AsyncDatabase[Doc]], histories: dict[str, TicketHistory]
) -> None:
    issued = {ticket_id for ticket_id, h in histories.items() if h.issued}
    acknowledged: set[str] = set()
    if config.acknowledged is not None:
        acknowledged = {line.strip() for line in config.acknowledged.read_text().splitlines() if line.strip()}
    report.counts["tickets_issued_on_topic"] = len(issued)
    report.counts["tickets_acknowledged"] = len(acknowledged)
    report.problem(
        "issued_more_than_once",
        [t for t, h in histories.items() if len(h.issued) > 1],
        "a ticket has several TicketIssued events with different event ids",
    )
    report.problem(
        "acknowledged_without_event",
        acknowledged - issued,
        "the API acknowledged a ticket whose TicketIssued never reached the topic",
    )

    tickets = {str(d["_id"]): d for d in await all_docs(dbs["ticketing"], "tickets", {"outbox": 0})}
    report.counts["tickets_in_ticketing"] = len(tickets)
    expected = issued | acknowledged
    report.problem(
        "missing_in_ticketing",
        expected - set(tickets),
        "issued or acknowledged, but not in ticketing's tickets collection",
    )
    report.problem(
        "unpublished_tickets",
        set(tickets) - issued,
        "in ticketing's store, but its TicketIssued is not on the topic (outbox not relayed)",
    )
    numbers: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for ticket_id, doc in tickets.items():
        numbers[(str(doc.get("office_id")), str(doc.get("local_day")), str(doc.get("number")))].append(
            ticket_id
        )
    report.problem(
        "number_issued_twice",
        [f"{k}: {v}" for k, v in numbers.items() if len(v) > 1],
        "two tickets of one office and day carry the same number",
    )

    # Feedback: one visit per ticket holding each of the ticket's events exactly once.
    visits = {str(d["_id"]): d for d in await all_docs(dbs["feedback"], "visits", {"applied": 1})}
    # A visit's later events are facts of their own until its day is folded into it (feedback.store).
    facts: dict[str, set[str]] = defaultdict(set)
    for fact in await all_docs(dbs["feedback"], "visit_facts", {"ticket_id": 1}):
        facts[str(fact["ticket_id"])].add(str(fact["_id"]))
    report.counts["visits_in_feedback"] = len(visits)
    report.problem("missing_in_feedback", expected - set(visits), "no visit in feedback's projection")
    doubled, missed = [], []
    for ticket_id in expected & set(visits):
        applied = [str(e) for e in visits[ticket_id].get("applied", [])]
        if len(applied) != len(set(applied)):
            doubled.append(ticket_id)
        applied += sorted(facts[ticket_id] - set(applied))  # a fact folded in already counts once
        wanted = {e for e, kind in histories[ticket_id].events.items() if kind in FEEDBACK_FACTS}
        if wanted - set(applied):
            missed.append(f"{ticket_id}: {sorted(wanted - set(applied))[:3]}")
    report.problem("feedback_fact_applied_twice", doubled, "a visit applied one event more than once")
    report.problem("feedback_fact_missing", missed, "a visit lacks ticket events that are on the topic")

    # Notifier: its waiting view holds exactly the tickets that wait since they joined the queue.
    waiting = {str(d["_id"]) for d in await all_docs(dbs["notifier"], "waiting", {"_id": 1})}
    report.counts["waiting_in_notifier"] = len(waiting)
    report.problem(
        "notifier_waits_for_gone_ticket",
        [
            f"{t}: {tickets[t].get('state')}"
            for t in waiting
            if t in tickets and tickets[t].get("state") != "waiting"
        ]
        + [f"{t}: unknown ticket" for t in waiting - set(tickets)],
        "the notifier still counts a ticket as waiting that ticketing has called, served or closed",
    )
    report.problem(
        "notifier_missing_waiting",
        [
            t
            for t in expected
            if tickets.get(t, {}).get("state") == "waiting"
            and histories[t].last_queue_move in JOINS_QUEUE
            and t not in waiting
        ],
        "a ticket waits in ticketing but not in the notifier's queue view",
    )

    # Tickets at windows: never two at one window, never at a closed window (with --idle: none at all).
    windows = {str(d["_id"]): d for d in await all_docs(dbs["ticketing"], "windows", {"outbox": 0})}
    at_window: dict[str, list[str]] = defaultdict(list)
    for ticket_id, doc in tickets.items():
        if doc.get("at_window"):
            at_window[str(doc["at_window"])].append(ticket_id)
    report.counts["tickets_at_windows"] = sum(len(v) for v in at_window.values())
    report.problem(
        "two_tickets_at_one_window",
        [f"{w}: {t}" for w, t in at_window.items() if len(t) > 1],
        "a window has more than one called or serving ticket",
    )
    report.problem(
        "ticket_at_closed_window",
        [f"{w}: {t}" for w, t in at_window.items() if windows.get(w, {}).get("state") in (None, "closed")],
        "a ticket is called or served at a window that is closed or unknown",
    )
    if config.idle:
        report.problem(
            "ticket_left_at_window",
            [f"{w}: {t}" for w, t in at_window.items()],
            "the system should be idle, but tickets are still called or being served",
        )

    # Appointments: a checked-in booking has its ticket; a booking closes when its ticket does.
    bookings = await all_docs(dbs["appointments"], "bookings", {"outbox": 0})
    report.counts["bookings"] = len(bookings)
    without_ticket, not_closed = [], []
    for booking in bookings:
        ticket = tickets.get(appointment_ticket_id(str(booking["_id"])))
        if booking.get("state") in ("checked_in", "fulfilled") and ticket is None:
            without_ticket.append(str(booking["_id"]))
        elif (
            booking.get("state") == "checked_in"
            and ticket is not None
            and ticket.get("state") in FINAL_TICKET_STATES
        ):
            not_closed.append(f"{booking['_id']}: ticket {ticket.get('state')}")
    report.problem(
        "checked_in_without_ticket", without_ticket, "a checked-in appointment never got its ticket"
    )
    report.problem("booking_not_closed", not_closed, "the appointment's ticket ended but the booking did not")


async def check_stuck(report: Report, dbs: dict[str, AsyncDatabase[Doc]]) -> None:
    markers, unpublished, claims = [], [], []
    now = datetime.now(UTC)
    for service, db in dbs.items():
        markers += [f"{service}: {d['_id']}" for d in await all_docs(db, "_outbox_pending")]
        for collection in AGGREGATES[service]:
            async for doc in db[collection].find({"pending": True}, {"_id": 1, "outbox": 1}):
                if doc.get("outbox"):
                    unpublished.append(f"{service}.{collection}: {doc['_id']} ({len(doc['outbox'])} events)")
        async for claim in db["_claims"].find({}, {"doc._id": 1, "doc.rev": 1, "at": 1}):
            collection = str(claim["_id"]).split(":", 1)[0]
            if collection not in AGGREGATES[service] or now - claim["at"] < STALE_CLAIM:
                continue
            current = await db[collection].find_one({"_id": claim["doc"]["_id"]}, {"rev": 1})
            if current is None or current["rev"] < claim["doc"]["rev"]:
                claims.append(f"{service}: {claim['_id']}")
    report.problem(
        "outbox_markers_left", markers, "outbox markers remain: the relay has not published everything"
    )
    report.problem("outbox_not_empty", unpublished, "aggregates hold events the relay has not published")
    report.problem(
        "unfinished_claims",
        claims,
        "a writer claimed a revision and died before writing it (the claim sweeper rolls it forward)",
    )


# ------------------------------------------------------------------ the command


async def reconcile(config: Config) -> Report:
    report = Report()
    topics = [config.prefix + spec.name for spec in TOPICS.values()]
    topics += [config.prefix + spec.dead_letters for spec in TOPICS.values()]
    async with Kafka(config.kafka) as kafka:
        committed = await kafka.committed(await kafka.service_groups(config.prefix))
        lag = await kafka.lag(committed)
        records = await kafka.read(topics)
    report.lag = lag
    report.problem(
        "consumer_lag",
        [f"{group} {topic}: {n}" for group, topics in lag.items() for topic, n in topics.items() if n],
        "a consumer group has not committed up to the end of a topic",
    )
    check_dead_letters(report, records, lag, committed, config.prefix)

    histories, seen = ticket_histories(records[config.prefix + "ticketing.ticket"])
    report.counts.update({f"ticket_topic_{k}": v for k, v in seen.items()})
    client: AsyncMongoClient[Doc] = AsyncMongoClient(
        config.mongo_url, tz_aware=True, serverSelectionTimeoutMS=5000
    )
    try:
        dbs = {service: client[config.database(service)] for service in SERVICES}
        await check_tickets(report, config, dbs, histories)
        await check_stuck(report, dbs)
    finally:
        await client.close()
    return report


def parse_args(argv: list[str] | None) -> Config:
    parser = argparse.ArgumentParser(prog="ops/reconcile.py", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--kafka", default=os.environ.get("ONEWINDOW_KAFKA", "127.0.0.1:9092"))
    parser.add_argument(
        "--mongo-url", default=os.environ.get("ONEWINDOW_MONGO_URL", "mongodb://127.0.0.1:27017")
    )
    parser.add_argument("--prefix", default=os.environ.get("ONEWINDOW_TOPIC_PREFIX", ""), help="topic prefix")
    parser.add_argument(
        "--db-template",
        default="onewindow_{service}",
        help="database name per service ({service} is replaced); <SERVICE>_MONGO_DB wins",
    )
    parser.add_argument(
        "--acknowledged", type=Path, help="file of ticket ids the API acknowledged, one a line"
    )
    parser.add_argument(
        "--idle", action="store_true", help="traffic has stopped: tickets still at windows count"
    )
    args = parser.parse_args(argv)
    return Config(args.kafka, args.mongo_url, args.prefix, args.db_template, args.acknowledged, args.idle)


def main(argv: list[str] | None = None) -> int:
    report = asyncio.run(reconcile(parse_args(argv)))
    print(json.dumps(report.as_json(), indent=2, ensure_ascii=False, default=str))
    return 0 if not report.discrepancies else 1


if __name__ == "__main__":
    sys.exit(main())
