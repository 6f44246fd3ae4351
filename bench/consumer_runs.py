"""Feedback and notifier under volume: two replicas of each against one, and 50,000 events for memory.

    uv run python bench/consumer_runs.py replicas [--visits 2000] [--offices 6]
    uv run python bench/consumer_runs.py memory [--events 50000] [--warm-up 5000]
    # -> bench/results/consumer_replicas.json, bench/results/consumer_memory.json

replicas: the same visits (TicketIssued + ServiceCompleted, every 10th with a sealed contact, over
several offices so the ticket topic's partitions are shared) go through one feedback and one
notifier process, then through two of each (fresh topics and databases each time). After lag 0:
every office's KPIs of the two runs must be equal, every visit applied each event once, every
message sent once (NotificationSent per notification id, lines in the log channel), and no event
id twice on the feedback and notifier topics.

memory: one process each; --warm-up events, lag 0, RSS of each process (VmRSS); then the rest up
to --events, lag 0, RSS again (and the highest seen meanwhile), with the document count of each
collection of the two databases.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from feedback.store import folded
from pymongo import AsyncMongoClient
from run_all import OFFICE, RESULTS, pipeline_events, produce, wait_lag_zero
from servicekit.sealing import Sealer
from testbed.harness import Instance, System, free_port

ROOT = Path(__file__).resolve().parents[1]


# Made-up numbers, one per ticket with a contact (one recipient would hit the daily cap per
# recipient); the log channel masks them anyway.
PHONE = "+7999{:07d}"
CONTACT_EVERY = 10
PARTITIONS = 6


def consumers_only(replicas: int) -> System:
    """A System of feedback and notifier processes only, `replicas` of each."""
    system = System(ticketing_replicas=0, partitions=PARTITIONS, extra_env={"ONEWINDOW_LOG_LEVEL": "WARNING"})
    system.instances = [
        Instance(service, free_port(), system.log_dir / f"{service}-{n}.log")
        for service in ("feedback", "notifier")
        for n in range(replicas)
    ]
    return system


def contact_for(system: System) -> Any:
    sealer = Sealer(system.public_key)
    return lambda n: sealer.seal(PHONE.format(n)) if n % CONTACT_EVERY == 0 else None


async def settle(system: System, started: float, limit_s: float = 900) -> dict[str, float | None]:
    groups = {"feedback": f"{system.prefix}feedback", "notifier": f"{system.prefix}notifier"}
    return await wait_lag_zero(
        system.kafka, groups, f"{system.prefix}ticketing.ticket", system.partitions, started, limit_s
    )


async def read_topic(system: System, name: str) -> list[dict[str, Any]]:
    """Every event on one of the System's topics, read from the start by a consumer of no group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=system.kafka, enable_auto_commit=False)
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        parts = [TopicPartition(system.prefix + name, p) for p in range(system.partitions)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=1000, max_records=5000)).values():
                found += [json.loads(record.value or b"{}") for record in records]
    finally:
        await consumer.stop()
    return found


async def wait_messages(system: System, expected: int, timeout: float = 120) -> list[dict[str, Any]]:
    """NotificationSent events once at least `expected` distinct notifications were sent and no
    more came for 3 s (feedback links follow the visits), or at the deadline."""
    deadline = time.monotonic() + timeout
    before: list[dict[str, Any]] = []
    while True:
        sent = [
            e
            for e in await read_topic(system, "notifier.notification")
            if e["event_type"] == "notifier.NotificationSent"
        ]
        distinct = len({e["data"]["notification_id"] for e in sent})
        if (distinct >= expected and len(sent) == len(before)) or time.monotonic() > deadline:
            return sent
        before = sent
        await asyncio.sleep(3)


async def kpis(system: System, offices: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=system.url("feedback"), timeout=30) as client:
        for office in offices:
            token = system.token("supervisor", office)
            response = await client.get(
                f"/offices/{office}/kpis", headers={"Authorization": f"Bearer {token}"}
            )
            response.raise_for_status()
            out[office] = response.json()
    return out


async def handled_per_replica(system: System) -> dict[str, float]:
    """Ticket events each process handled (its /metrics): both replicas of a service had work."""
    out: dict[str, float] = {}
    async with httpx.AsyncClient(timeout=10) as client:
        for instance in system.instances:
            text = (await client.get(f"{instance.url}/metrics")).text
            out[f"{instance.service}@{instance.port}"] = sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("onewindow_events_handled_total{") and 'event_type="ticketing.' in line
            )
    return out


async def visits_check(system: System) -> dict[str, int]:
    """Each visit's `applied` as stored and as read (its document with its facts folded in,
    feedback.store.folded): no event applied twice in either."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(system.mongo_url, tz_aware=True)
    try:
        db = client[system.database("feedback")]
        docs = [d async for d in db["visits"].find({})]
        facts = [d async for d in db["visit_facts"].find({})]
    finally:
        await client.close()
    lists = [d.get("applied", []) for d in docs] + [list(v.applied) for v in folded(docs, facts)]
    doubled = sum(1 for applied in lists if len(applied) != len(set(applied)))
    return {"visits": len(docs), "visit_facts": len(facts), "visits_with_an_event_applied_twice": doubled}


async def one_run(replicas: int, visits: int, offices: int, messages: int = 0) -> dict[str, Any]:
    """One run; `messages`: how many notifications to wait for (a previous run's count)."""
    system = consumers_only(replicas)
    office_ids = [OFFICE] + [f"{OFFICE}-{k}" for k in range(2, offices + 1)]
    await system.start()
    try:
        events = pipeline_events(visits, offices=offices, contact=contact_for(system))
        catalog = len(office_ids) + 1
        await produce(system.kafka, system.prefix, events[:catalog])
        await asyncio.sleep(3)  # the catalog and the group joins are not timed
        started = time.monotonic()
        await produce(system.kafka, system.prefix, events[catalog:])
        done = await settle(system, started)
        contacts = len(range(0, visits, CONTACT_EVERY))
        sent = await wait_messages(system, max(contacts, messages))
        feedback_events = await read_topic(system, "feedback.feedback")
        notifier_events = await read_topic(system, "notifier.notification")
        log = system.log_dir / "notifications.log"
        result = {
            "replicas": replicas,
            "visits": visits,
            "seconds_to_lag_0": {k: round(v, 2) if v else None for k, v in done.items()},
            "handled_per_process": await handled_per_replica(system),
            **await visits_check(system),
            "contacts": contacts,
            "notifications_sent": len(sent),
            "notifications_distinct": len({e["data"]["notification_id"] for e in sent}),
            "sent_per_template": dict(Counter(e["data"]["template"] for e in sent)),
            "log_channel_lines": len(log.read_text().splitlines()) if log.exists() else 0,
            "feedback_topic": {
                "events": len(feedback_events),
                "distinct_ids": len({e["event_id"] for e in feedback_events}),
            },
            "notifier_topic": {
                "events": len(notifier_events),
                "distinct_ids": len({e["event_id"] for e in notifier_events}),
            },
            "kpis": await kpis(system, office_ids),
        }
    finally:
        system.stop()
        with contextlib.suppress(Exception):
            await system.destroy()
    return result


async def replicas_run(args: argparse.Namespace) -> dict[str, Any]:
    single = await one_run(1, args.visits, args.offices)
    double = await one_run(2, args.visits, args.offices, messages=single["notifications_distinct"])
    kpi_single, kpi_double = single.pop("kpis"), double.pop("kpis")
    checks = {
        "kpis_equal": kpi_single == kpi_double,
        "no_event_applied_twice": double["visits_with_an_event_applied_twice"] == 0
        and double["visits"] == args.visits,
        "no_message_twice": double["notifications_sent"] == double["notifications_distinct"]
        and double["log_channel_lines"] == double["notifications_distinct"],
        "no_duplicate_event_ids": all(
            run[topic]["events"] == run[topic]["distinct_ids"]
            for run in (single, double)
            for topic in ("feedback_topic", "notifier_topic")
        ),
        "both_replicas_worked": all(v > 0 for v in double["handled_per_process"].values()),
    }
    if not checks["kpis_equal"]:
        checks["kpi_sample"] = {"one": kpi_single[OFFICE], "two": kpi_double[OFFICE]}
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_1m": os.getloadavg()[0],
        "offices": args.offices,
        "partitions": PARTITIONS,
        "one_replica": single,
        "two_replicas": double,
        "checks": checks,
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def collection_counts(system: System) -> dict[str, dict[str, int]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(system.mongo_url)
    out: dict[str, dict[str, int]] = {}
    try:
        for service in ("feedback", "notifier"):
            db = client[system.database(service)]
            out[service] = {
                name: await db[name].count_documents({}) for name in sorted(await db.list_collection_names())
            }
    finally:
        await client.close()
    return out


async def memory_run(args: argparse.Namespace) -> dict[str, Any]:
    system = consumers_only(1)
    await system.start()
    pids = {i.service: i.process.pid for i in system.instances if i.process is not None}
    peak: dict[str, float] = dict.fromkeys(pids, 0.0)
    sampling = True

    async def sample() -> None:
        while sampling:
            for service, pid in pids.items():
                peak[service] = max(peak[service], rss_mb(pid))
            await asyncio.sleep(0.5)

    sampler = asyncio.create_task(sample())
    try:
        contact = contact_for(system)
        warm = args.warm_up // 2
        rest = args.events // 2 - warm
        catalog = pipeline_events(0)
        await produce(system.kafka, system.prefix, catalog)
        await asyncio.sleep(3)
        started = time.monotonic()
        await produce(system.kafka, system.prefix, pipeline_events(warm, contact=contact, catalog=False))
        await settle(system, started)
        at_warm = {service: rss_mb(pid) for service, pid in pids.items()}
        started = time.monotonic()
        for first in range(warm, warm + rest, 5000):  # produced in parts: the bench's memory stays small
            part = min(5000, warm + rest - first)
            await produce(
                system.kafka,
                system.prefix,
                pipeline_events(part, contact=contact, first=first, catalog=False),
            )
        done = await settle(system, started, limit_s=1800)
        await asyncio.sleep(5)  # the outbox relays and sweeps of the last batch
        at_end = {service: rss_mb(pid) for service, pid in pids.items()}
        counts = await collection_counts(system)
    finally:
        sampling = False
        await sampler
        system.stop()
        with contextlib.suppress(Exception):
            await system.destroy()
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_1m": os.getloadavg()[0],
        "events": (warm + rest) * 2,
        "warm_up_events": warm * 2,
        "seconds_after_warm_up_to_lag_0": {k: round(v, 1) if v else None for k, v in done.items()},
        "rss_mb_after_warm_up": at_warm,
        "rss_mb_at_end": at_end,
        "rss_mb_peak": peak,
        "rss_growth_mb": {s: round(at_end[s] - at_warm[s], 1) for s in pids},
        "documents": counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("mode", choices=("replicas", "memory"))
    parser.add_argument("--visits", type=int, default=2000)
    parser.add_argument("--offices", type=int, default=6)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--warm-up", type=int, default=5000)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    run = replicas_run if args.mode == "replicas" else memory_run
    result = asyncio.run(run(args))
    out = Path(args.out or RESULTS / f"consumer_{args.mode}.json")
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
