"""`bench`: every benchmark in one run, each a ratio to the raw baselines measured in the same run.

    uv run python bench/run_all.py                 # CI-ish sizes (~10-20 min on 2 busy cores)
    uv run python bench/run_all.py --skip city_day --pipeline-tickets 500

Steps (results in bench/results/, the table in docs/performance.md is written from run_all.json):
  raw       bench/raw_baseline.py: aiokafka produce/consume, single-document insert/update
  issue     bench/ticketing_bench.py: POST /tickets at fixed concurrency vs raw insert_one
  pipeline  TicketIssued + ServiceCompleted pairs onto fresh topics; feedback and notifier (processes)
            consume them; time until each consumer group's lag is 0, vs a raw aiokafka consume +
            insert_one loop over the same records
  board     bench/board_bench.py: TicketCalled -> SSE frame p50/p99 at 20 calls/s
  city_day  bench/city_day.py: the simulated city day through the whole system
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from contracts import Envelope, new_event
from contracts.catalog import Offering
from contracts.registry import encode, partition_key, topic_for
from contracts.samples import sample_office, sample_service
from contracts.ticketing import ServiceCompleted, TicketIssued
from pymongo import AsyncMongoClient
from testbed.harness import System

ROOT = Path(__file__).resolve().parents[1]


RESULTS = ROOT / "bench" / "results"
STEPS = ("raw", "issue", "pipeline", "board", "city_day")
OFFICE = "kzn-kirov-moskov"


def run_script(name: str, *args: str, results: Path | None = None) -> dict[str, Any]:
    """Run a sibling benchmark as its own process (not sharing our event loop) and read its JSON."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / name), *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if (
        results is not None
        and results.exists()
        and results.stat().st_mtime > time.time() - (time.monotonic() - started)
    ):
        return dict(json.loads(results.read_text()))
    if done.returncode != 0:
        return {"error": f"{name} exited {done.returncode}", "seconds": round(time.monotonic() - started, 1)}
    text = done.stdout
    return dict(json.loads(text[text.index("{") :]))


# --------------------------------------------------------------------------- pipeline


# (topic without prefix, key, value, headers): one record as a service publishes it, headers too (a
# consumer skips the event types it does not handle by the event_type header, undecoded).
Record = tuple[str, bytes, bytes, list[tuple[str, bytes]]]


def as_record(envelope: Envelope) -> Record:
    headers = [(key, value.encode()) for key, value in envelope.headers().items()]
    return topic_for(envelope.event_type).name, partition_key(envelope), encode(envelope), headers


def pipeline_events(
    tickets: int,
    offices: int = 1,
    contact: Callable[[int], str | None] | None = None,
    first: int = 0,
    catalog: bool = True,
) -> list[Record]:
    """Records (`as_record`): the catalog, then per ticket TicketIssued and ServiceCompleted.

    Tickets go round robin over `offices` offices (keys spread them over partitions);
    `contact(n)` gives ticket n a sealed contact (the notifier then texts it); tickets are numbered
    from `first` (a run in several parts), the catalog only with `catalog`."""
    out = []
    office_ids = [OFFICE] + [f"{OFFICE}-{k}" for k in range(2, offices + 1)]
    service = sample_service(office_id=OFFICE).model_copy(
        update={"offerings": [Offering(office_id=o, zone_id="z1") for o in office_ids]}
    )
    items = [(sample_office(o, all_day=True), o) for o in office_ids] + [(service, service.service_id)]
    for item, aggregate_id in items if catalog else []:
        office_id = aggregate_id if aggregate_id in office_ids else OFFICE
        envelope = new_event(
            item, producer="bench", office_id=office_id, aggregate_id=aggregate_id, aggregate_version=1
        )
        out.append(as_record(envelope))
    now = datetime.now(UTC)
    for n in range(first, first + tickets):
        ticket_id = f"t-bench-{n:06d}"
        office_id = office_ids[n % len(office_ids)]
        issued = TicketIssued(
            ticket_id=ticket_id,
            number=f"А{n % 1000:03d}",
            service_id="housing-certificate",
            service_ids=["housing-certificate"],
            zone_id="z1",
            channel="kiosk",
            local_day=date.today(),
            issued_at=now,
            position=1,
            estimated_wait_minutes=0,
            contact_sealed=contact(n) if contact else None,
        )
        done = ServiceCompleted(
            ticket_id=ticket_id,
            number=issued.number,
            service_id="housing-certificate",
            window_no=1 + n % 12,
            zone_id="z1",
            operator_ref="op-bench",
            outcome="served",
            waited_seconds=60,
            service_seconds=300,
            channel="kiosk",
        )
        for version, data in ((1, issued), (5, done)):
            envelope = new_event(
                data, producer="bench", office_id=office_id, aggregate_id=ticket_id, aggregate_version=version
            )
            out.append(as_record(envelope))
    return out


async def produce(kafka: str, prefix: str, events: list[Record]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        futures = [
            await producer.send(prefix + topic, value, key=key, headers=headers)
            for topic, key, value, headers in events
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def group_lag(
    admin: AIOKafkaAdminClient, probe: AIOKafkaConsumer, group: str, topic: str, partition_count: int
) -> int:
    partitions = [TopicPartition(topic, p) for p in range(partition_count)]
    ends = await probe.end_offsets(partitions)
    if sum(ends.values()) == 0:
        raise RuntimeError(f"{topic} looks empty: the lag probe sees no records")
    committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
    return sum(
        ends[tp] - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0)
        for tp in partitions
    )


async def wait_lag_zero(
    kafka: str,
    groups: dict[str, str],
    topic: str,
    partition_count: int,
    started: float,
    limit_s: float,
    at_zero: Callable[[str], Awaitable[None]] | None = None,
) -> dict[str, float | None]:
    """Seconds from `started` until each group's lag is 0; `at_zero(name)` runs right then."""
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    probe = AIOKafkaConsumer(bootstrap_servers=kafka)
    await admin.start()
    await probe.start()
    done: dict[str, float | None] = dict.fromkeys(groups)
    try:
        while any(v is None for v in done.values()) and time.monotonic() - started < limit_s:
            for name, group in groups.items():
                if done[name] is None and await group_lag(admin, probe, group, topic, partition_count) == 0:
                    done[name] = time.monotonic() - started
                    if at_zero is not None:
                        await at_zero(name)
            await asyncio.sleep(0.1)
    finally:
        await probe.stop()
        await admin.close()
    return done


async def raw_consume_and_write(kafka: str, mongo_url: str, topic: str, expected: int) -> dict[str, Any]:
    """A consumer's floor: aiokafka getmany, json decode, one insert_one per record, commit per batch."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka,
        group_id=f"bench-raw-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    db = client[f"bench_rawpipe_{uuid.uuid4().hex[:8]}"]
    await consumer.start()
    got, first = 0, None
    try:
        deadline = time.monotonic() + 600
        while got < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=500)
            for records in batches.values():
                for record in records:
                    first = first or time.monotonic()
                    event = json.loads(record.value)
                    await db["events"].insert_one(
                        {"_id": event["event_id"], "type": event["event_type"], "data": event["data"]}
                    )
                    got += 1
            if batches:
                await consumer.commit()
        seconds = time.monotonic() - (first or time.monotonic())
    finally:
        await consumer.stop()
        await client.drop_database(db.name)
        await client.close()
    return {
        "events": got,
        "seconds": round(seconds, 2),
        "events_per_s": round(got / seconds, 1) if seconds else None,
    }


async def pipeline(tickets: int) -> dict[str, Any]:
    system = System(ticketing_replicas=0, extra_env={"ONEWINDOW_LOG_LEVEL": "WARNING"})
    system.instances = [i for i in system.instances if i.service in ("feedback", "notifier")]
    events = pipeline_events(tickets)
    ticket_topic = f"{system.prefix}ticketing.ticket"
    on_ticket_topic = sum(1 for topic, *_ in events if topic == "ticketing.ticket")
    await system.start()
    try:
        # The catalog first, and one warm-up pair through both services, so joins are not timed.
        await produce(system.kafka, system.prefix, events[:2])
        await asyncio.sleep(3)
        groups = {"feedback": f"{system.prefix}feedback", "notifier": f"{system.prefix}notifier"}
        started = time.monotonic()
        await produce(system.kafka, system.prefix, events[2:])
        produced = time.monotonic() - started
        done = await wait_lag_zero(
            system.kafka, groups, ticket_topic, system.partitions, started, limit_s=900
        )
    finally:
        system.stop()
    raw = await raw_consume_and_write(system.kafka, system.mongo_url, ticket_topic, on_ticket_topic)
    result: dict[str, Any] = {
        "events": on_ticket_topic,
        "produce_seconds": round(produced, 2),
        "raw_consume_and_insert": raw,
    }
    for name, seconds in done.items():
        rate = round(on_ticket_topic / seconds, 1) if seconds else None
        result[name] = {
            "seconds_to_lag_0": round(seconds, 2) if seconds else None,
            "events_per_s": rate,
            "ratio_to_raw": round(rate / raw["events_per_s"], 3) if rate and raw["events_per_s"] else None,
        }
    return result


# --------------------------------------------------------------------------- the table


def table(run: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(what, measured, raw baseline, ratio, target) rows for docs/performance.md."""
    rows = []
    raw = run.get("raw", {})
    issue = run.get("issue", {})
    if "issue" in issue:
        rows.append(
            (
                "Ticket issuance, POST /tickets",
                f"{issue['issue']['per_s']}/s, p50 {issue['issue']['p50_ms']} ms, "
                f"p99 {issue['issue']['p99_ms']} ms (c={issue['concurrency']})",
                f"insert_one {issue['raw_store_insert']['per_s']}/s",
                f"{issue['ratios_to_raw_insert']['issue']:.0%}",
                ">= 50%",
            )
        )
    pipe = run.get("pipeline", {})
    for name in ("feedback", "notifier"):
        if name in pipe:
            p = pipe[name]
            rows.append(
                (
                    f"{name} consumer",
                    f"{p['events_per_s']} events/s",
                    f"consume+insert {pipe['raw_consume_and_insert']['events_per_s']}/s",
                    f"{p['ratio_to_raw']:.0%}" if p["ratio_to_raw"] else "-",
                    ">= 50%",
                )
            )
    board = run.get("board", {})
    if "board" in board:
        b, r = board["board"], board["raw_kafka_produce_to_consume"]
        rows.append(
            (
                f"Board TicketCalled -> SSE at {board['rate_per_s']:.0f}/s",
                f"p50 {b.get('p50_ms')} ms, p99 {b.get('p99_ms')} ms, lost {b.get('lost')}",
                f"Kafka p50 {r.get('p50_ms')} ms, p99 {r.get('p99_ms')} ms",
                f"p99 x{board.get('ratio_p99')}",
                "p99 < 250 ms",
            )
        )
    day = run.get("city_day", {})
    if "speedup_vs_real_time" in day:
        rows.append(
            (
                f"City day {day['offices']} x {day['visits_per_office']}",
                f"{day['speedup_vs_real_time']}x real time, reconciliation "
                f"{'OK' if day['reconciliation']['ok'] else 'FAILED'}",
                "-",
                "-",
                ">= 100x, zero loss, flat memory",
            )
        )
    if raw:
        rows.append(
            (
                "Raw Kafka produce / consume",
                f"{raw['kafka_produce']['msgs_per_s']} / {raw['kafka_consume']['msgs_per_s']} msg/s",
                "-",
                "-",
                "-",
            )
        )
        rows.append(
            (
                "Raw store insert / update (c=16)",
                f"{raw['store_insert_one']['ops_per_s']} / {raw['store_update_one']['ops_per_s']} ops/s",
                "-",
                "-",
                "-",
            )
        )
    return rows


def markdown(rows: list[tuple[str, str, str, str, str]]) -> str:
    lines = ["| benchmark | measured | raw baseline (same run) | ratio | target |", "|---|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--skip", nargs="*", default=[], choices=STEPS)
    parser.add_argument("--tickets", type=int, default=300, help="tickets for the issuance benchmark")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--pipeline-tickets", type=int, default=300, help="ticket pairs for the pipeline")
    parser.add_argument("--board-seconds", type=float, default=20.0)
    parser.add_argument("--offices", type=int, default=4)
    parser.add_argument("--visits", type=int, default=150)
    args = parser.parse_args()

    run: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_1m_at_start": os.getloadavg()[0],
        },
    }
    timings: dict[str, float] = {}
    for step in STEPS:
        if step in args.skip:
            continue
        print(f"== {step}", file=sys.stderr, flush=True)
        started = time.monotonic()
        if step == "raw":
            run[step] = run_script("raw_baseline.py", "--out", str(RESULTS / "raw_baseline.json"))
        elif step == "issue":
            run[step] = run_script(
                "ticketing_bench.py", "--tickets", str(args.tickets), "--concurrency", str(args.concurrency)
            )
        elif step == "pipeline":
            run[step] = await pipeline(args.pipeline_tickets)
        elif step == "board":
            run[step] = run_script("board_bench.py", "--rate", "20", "--seconds", str(args.board_seconds))
        else:
            run[step] = run_script(
                "city_day.py",
                "--offices",
                str(args.offices),
                "--visits",
                str(args.visits),
                "--quiet",
                results=RESULTS / "city_day.json",
            )
        timings[step] = round(time.monotonic() - started, 1)
        run["load_1m"] = {**run.get("load_1m", {}), step: round(os.getloadavg()[0], 2)}
    run["step_seconds"] = timings
    run["table_markdown"] = markdown(table(run))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "run_all.json").write_text(json.dumps(run, indent=2, ensure_ascii=False) + "\n")
    (RESULTS / "pipeline.json").write_text(json.dumps(run.get("pipeline", {}), indent=2) + "\n")
    print(run["table_markdown"])


if __name__ == "__main__":
    asyncio.run(main())
