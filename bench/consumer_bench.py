"""The feedback and notifier consumers against raw floors, all measured in one run.

    uv run python bench/consumer_bench.py --tickets 1000     # -> bench/results/consumers.json

N TicketIssued + N ServiceCompleted are produced onto fresh topics while feedback and notifier run
as processes (testbed.harness); each consumer's time is from the first send until its
group's committed offsets equal the end offsets (lag 0). With --backlog, as the floors: the
consumer processes are stopped (SIGSTOP) while the records are produced, then each consumer drains
them alone, timed from its SIGCONT (feedback first, then the notifier's two processes).
The raw floors read the same records:
`getmany`, `json.loads`, then one `insert_one` per record (the unbatched floor) or one
`insert_many` per poll (the fair floor for batched handlers), committing once per poll; the
`insert_many` floor twice, with aiokafka's default fetch wait (500 ms) and with the kit consumers'
(servicekit.kafka.FETCH_MAX_WAIT_MS). CPU per 1,000 events: each consumer process's from the first
send to its lag 0, each floor's own. Also reported: feedback's outbox markers and published
FeedbackRequested when its consumer reaches lag 0.

Then the board (unless --board-seconds 0): another office's TicketCalled at --board-rate per second,
each timed from its send to its call frame on the notifier's board stream, first with the consumers
idle (the baseline), then while --board-load more tickets keep both consumers busy. The notifier
runs as deployed, its messages and the hall's calls in two processes (NOTIFIER_CONSUMERS); with
--one-notifier-process both groups share one process, as before.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import murmur2
from board_bench import paced, percentiles
from contracts import new_event
from contracts.samples import sample_office
from contracts.ticketing import TicketCalled
from pymongo import AsyncMongoClient
from run_all import OFFICE, RESULTS, as_record, pipeline_events, produce, wait_lag_zero
from servicekit.kafka import FETCH_MAX_WAIT_MS
from testbed.harness import System

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def raw_consume(
    kafka: str,
    mongo_url: str,
    topic: str,
    limits: dict[int, int],
    *,
    batched: bool,
    fetch_max_wait_ms: int = 500,
) -> dict[str, Any]:
    """The floor over the records below `limits` (partition -> end offset of the measured phase)."""
    expected = sum(limits.values())
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka,
        group_id=f"bench-raw-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=fetch_max_wait_ms,
    )
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    db = client[f"bench_rawpipe_{uuid.uuid4().hex[:8]}"]
    await consumer.start()
    got, first = 0, None
    cpu = time.process_time()
    try:
        deadline = time.monotonic() + 600
        while got < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=500)
            for records in batches.values():
                first = first or time.monotonic()
                docs = []
                # the records of the measured phase only (the board phase adds more after them)
                for record in [r for r in records if r.offset < limits.get(r.partition, 0)]:
                    event = json.loads(record.value)
                    docs.append(
                        {"_id": event["event_id"], "type": event["event_type"], "data": event["data"]}
                    )
                if not docs:
                    continue
                if batched:
                    await db["events"].insert_many(docs)
                else:
                    for doc in docs:
                        await db["events"].insert_one(doc)
                got += len(docs)
            if batches:
                await consumer.commit()
        seconds = time.monotonic() - (first or time.monotonic())
        cpu = time.process_time() - cpu
    finally:
        await consumer.stop()
        await client.drop_database(db.name)
        await client.close()
    return {
        "events": got,
        "seconds": round(seconds, 2),
        "events_per_s": round(got / seconds, 1) if seconds else None,
        # this loop's own CPU (the bench process has nothing else to do meanwhile)
        "cpu_ms_per_1000_events": round(1000 * cpu / got * 1000, 1) if got else None,
    }


class Outbox:
    """Feedback's outbox as the run goes: markers left and FeedbackRequested events on the topic."""

    def __init__(self, system: System, ticket_topic: str, tickets: int) -> None:
        self.system = system
        self.tickets = tickets
        self.topic = ticket_topic.replace("ticketing.ticket", "feedback.feedback")
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(system.mongo_url)
        self.probe = AIOKafkaConsumer(bootstrap_servers=system.kafka)
        self.seen: dict[str, dict[str, int]] = {}

    async def start(self) -> None:
        await self.probe.start()

    async def stop(self) -> None:
        await self.probe.stop()
        await self.client.close()

    async def published(self) -> int:
        partitions = [TopicPartition(self.topic, p) for p in range(self.system.partitions)]
        return sum((await self.probe.end_offsets(partitions)).values())

    async def at_zero(self, name: str) -> None:
        if name != "feedback":
            return
        db = self.client[self.system.database("feedback")]
        self.seen[name] = {
            "outbox_markers": await db["_outbox_pending"].count_documents({}),
            "feedback_events_published": await self.published(),
            "feedback_requests": await db["feedback_requests"].count_documents({}),
        }

    async def all_requests_published(self, started: float, limit_s: float) -> float | None:
        """Seconds from the first send until one FeedbackRequested per ticket is on the topic
        (polled alongside the lag probe)."""
        while time.monotonic() - started < limit_s:
            if await self.published() >= self.tickets:
                return round(time.monotonic() - started, 2)
            await asyncio.sleep(0.1)
        return None


async def end_offsets(kafka: str, topic: str, partitions: int) -> dict[int, int]:
    probe = AIOKafkaConsumer(bootstrap_servers=kafka)
    await probe.start()
    try:
        ends = await probe.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
    finally:
        await probe.stop()
    return {tp.partition: offset for tp, offset in ends.items()}


def other_partition_office(partitions: int) -> str:
    """An office whose events go to another partition than the load's office (OFFICE)."""
    taken = (murmur2(OFFICE.encode()) & 0x7FFFFFFF) % partitions
    return next(
        office
        for office in (f"{OFFICE}-board-{n}" for n in range(100))
        if (murmur2(office.encode()) & 0x7FFFFFFF) % partitions != taken
    )


class Board:
    """TicketCalled for one office at a steady rate, each timed from its send until the call
    frame arrives on the notifier's board stream (SSE), as bench/board_bench.py does."""

    def __init__(self, system: System, office: str) -> None:
        self.system = system
        self.office = office
        self.producer = AIOKafkaProducer(bootstrap_servers=system.kafka, enable_idempotence=True, acks="all")

    async def publish(self, data: Any, aggregate_id: str) -> None:
        envelope = new_event(
            data, producer="bench", office_id=self.office, aggregate_id=aggregate_id, aggregate_version=2
        )
        topic, key, value, headers = as_record(envelope)
        await self.producer.send(self.system.prefix + topic, value, key=key, headers=headers)

    async def calls(self, tag: str, rate: float, seconds: float) -> list[tuple[float, float]]:
        """(sent at, latency) per call seen on the stream, sent at in monotonic seconds."""
        sent: dict[str, tuple[float, float]] = {}
        seen: list[tuple[float, float]] = []
        total = int(rate * seconds)
        url = self.system.board_url()
        last_id: str | None = None

        async def read(client: httpx.AsyncClient) -> None:
            """Like a board screen: reconnect with Last-Event-ID when the stream ends (the
            notifier drops a client that falls behind); calls in a snapshot count when it comes."""
            nonlocal last_id
            while len(seen) < total:
                headers = {"Last-Event-ID": last_id} if last_id else {}
                async with client.stream("GET", f"/boards/{self.office}/stream", headers=headers) as response:
                    event = ""
                    async for line in response.aiter_lines():
                        if line.startswith("event:"):
                            event = line[6:].strip()
                        elif line.startswith("id:"):
                            last_id = line[3:].strip()
                        elif line.startswith("data:") and event in ("call", "snapshot"):
                            data = json.loads(line[5:])
                            for shown in data.get("calls", []) if event == "snapshot" else [data]:
                                if shown.get("ticket_id") in sent:
                                    at, perf = sent.pop(shown["ticket_id"])
                                    seen.append((at, time.perf_counter() - perf))
                            if len(seen) >= total:
                                return

        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            reader = asyncio.create_task(read(client))
            await asyncio.sleep(0.5)  # connected
            async for i in paced(rate, seconds):
                ticket_id = f"{tag}{i}"
                sent[ticket_id] = (time.monotonic(), time.perf_counter())
                await self.publish(call(ticket_id, i), ticket_id)
            try:
                await asyncio.wait_for(reader, 60)
            except TimeoutError:
                pass
        return seen


def call(ticket_id: str, i: int) -> TicketCalled:
    return TicketCalled(
        ticket_id=ticket_id,
        number=f"Б{i % 1000:03d}",
        service_id="housing-certificate",
        window_no=1 + i % 12,
        zone_id="z1",
        call_no=1,
        operator_ref="op",
        waited_seconds=0,
    )


async def board_under_load(
    system: System, groups: dict[str, str], ticket_topic: str, rate: float, seconds: float, load: int
) -> dict[str, Any]:
    """Board latency of another office's calls: first with the consumers idle (the baseline),
    then while `load` more tickets keep both consumers at full throughput."""
    board = Board(system, other_partition_office(system.partitions))
    await board.producer.start()
    try:
        await board.publish(sample_office(board.office, all_day=True), board.office)
        await board.calls("warm", 2, 1)
        idle = await board.calls("idle", rate, seconds)
        events = pipeline_events(load, first=100_000, catalog=False)
        started = time.monotonic()
        # The load first (a second or so): the calls then go out while both consumers work it off.
        await produce(system.kafka, system.prefix, events)
        lag = asyncio.create_task(
            wait_lag_zero(system.kafka, groups, ticket_topic, system.partitions, started, limit_s=900)
        )
        busy = await board.calls("busy", rate, seconds)
        done = await lag
    finally:
        await board.producer.stop()
    drained = done.get("notifier")
    under_load = [latency for at, latency in busy if drained is None or at - started < drained]
    return {
        "office": board.office,
        "rate_per_s": rate,
        "seconds": seconds,
        "load_tickets": load,
        "load_events_per_s": {name: round(len(events) / s, 1) if s else None for name, s in done.items()},
        # not shown: never on the stream, pushed off the board (it keeps the newest 20 calls) by
        # later calls written in the same or the next board write
        "idle": percentiles([latency for _, latency in idle])
        | {"not_shown": int(rate * seconds) - len(idle)},
        "under_load": percentiles(under_load)
        | {
            "not_shown": int(rate * seconds) - len(busy),
            "sent_before_notifier_lag_0": len(under_load),
            "notifier_lag_0_after_s": round(drained, 2) if drained else None,
        },
    }


async def measure(
    tickets: int,
    board: dict[str, float] | None = None,
    *,
    board_process: bool = True,
    completions_later: bool = False,
    backlog: bool = False,
) -> dict[str, Any]:
    system = System(
        ticketing_replicas=0,
        notifier_board_process=board_process,
        extra_env={"ONEWINDOW_LOG_LEVEL": "WARNING"},
    )
    system.instances = [i for i in system.instances if i.service in ("feedback", "notifier")]
    events = pipeline_events(tickets)
    ticket_topic = f"{system.prefix}ticketing.ticket"
    on_ticket_topic = sum(1 for topic, *_ in events if topic == "ticketing.ticket")
    await system.start()
    try:
        # The catalog first, so group joins and the catalog are not timed.
        await produce(system.kafka, system.prefix, events[:2])
        await asyncio.sleep(3)
        groups = {"feedback": f"{system.prefix}feedback", "notifier": f"{system.prefix}notifier"}
        outbox = Outbox(system, ticket_topic, tickets)
        await outbox.start()
        # Each consumer process's CPU from the first send until its lag 0 (the notifier's: the
        # process of its messages group, whose lag is timed).
        pids = {name: system.of(name)[0].process.pid for name in groups}  # type: ignore[union-attr]
        cpu_at_start = {name: cpu_seconds(pid) for name, pid in pids.items()}
        cpu_used: dict[str, float] = {}

        async def at_zero(name: str) -> None:
            cpu_used[name] = cpu_seconds(pids[name]) - cpu_at_start[name]
            await outbox.at_zero(name)

        measured = events[2:]
        if completions_later:  # every TicketIssued first: a completion meets a visit already stored
            measured = sorted(measured, key=lambda event: b"ServiceCompleted" in event[2])
        paused: dict[str, float] = {}
        if backlog:
            # As the floors: the records are all on the topic before a consumer reads one, and each
            # consumer drains them alone (feedback, then the notifier's processes), from SIGCONT.
            for instance in system.instances:
                instance.process.send_signal(signal.SIGSTOP)  # type: ignore[union-attr]
            stopped_at = time.monotonic()
            await produce(system.kafka, system.prefix, measured)
            produced = time.monotonic() - stopped_at
            done: dict[str, float | None] = {}
            requests_published = None
            for name, group in groups.items():
                for instance in system.of(name):
                    instance.process.send_signal(signal.SIGCONT)  # type: ignore[union-attr]
                paused[name] = round(time.monotonic() - stopped_at, 2)
                cpu_at_start[name] = cpu_seconds(pids[name])
                began = time.monotonic()
                requests_out = (
                    asyncio.create_task(outbox.all_requests_published(began, limit_s=900))
                    if name == "feedback"
                    else None
                )
                done.update(
                    await wait_lag_zero(
                        system.kafka, {name: group}, ticket_topic, system.partitions, began, 900, at_zero
                    )
                )
                if requests_out is not None:
                    requests_published = await requests_out
        else:
            started = time.monotonic()
            await produce(system.kafka, system.prefix, measured)
            produced = time.monotonic() - started
            requests_out = asyncio.create_task(outbox.all_requests_published(started, limit_s=900))
            done = await wait_lag_zero(
                system.kafka,
                groups,
                ticket_topic,
                system.partitions,
                started,
                limit_s=900,
                at_zero=at_zero,
            )
            requests_published = await requests_out
        await outbox.stop()
        limits = await end_offsets(system.kafka, ticket_topic, system.partitions)
        if board:
            board_figures = await board_under_load(
                system,
                groups,
                ticket_topic,
                board["rate"],
                board["seconds"],
                int(board["load"]),
            )
    finally:
        for instance in system.instances:  # a process left stopped would not see the SIGTERM
            if instance.process is not None and instance.process.poll() is None:
                instance.process.send_signal(signal.SIGCONT)
        system.stop()
    floors = {
        "raw_insert_one": await raw_consume(
            system.kafka, system.mongo_url, ticket_topic, limits, batched=False
        ),
        "raw_insert_many": await raw_consume(
            system.kafka, system.mongo_url, ticket_topic, limits, batched=True
        ),
        # The same with the kit consumers' fetch wait: aiokafka's default 500 ms stalls a loop
        # whose fetched records take over 0.1 s to consume, in some runs and not others
        # (servicekit.kafka.FETCH_MAX_WAIT_MS); this floor never waits more than 0.1 s for one.
        "raw_insert_many_fetch_100ms": await raw_consume(
            system.kafka,
            system.mongo_url,
            ticket_topic,
            limits,
            batched=True,
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        ),
    }
    with contextlib.suppress(Exception):
        await system.destroy()
    result: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_1m": os.getloadavg()[0],
        "tickets": tickets,
        "events": on_ticket_topic,
        "partitions": system.partitions,
        # the hall's calls in a notifier process of their own (as deployed), or in the one notifier
        "notifier_processes": 2 if board_process else 1,
        "completions_later": completions_later,
        # backlog: every consumer process stopped (SIGSTOP) while the records were produced, then
        # each consumer timed alone from its SIGCONT (paused_s: how long it was stopped)
        "backlog": backlog,
        "paused_s": paused or None,
        "produce_seconds": round(produced, 2),
        **floors,
        # feedback's outbox when its consumer reached lag 0, and when its requests were all out
        "feedback_outbox_at_lag_0": outbox.seen.get("feedback"),
        "feedback_requests_all_published_after_s": requests_published,
    }
    if board:
        result["board"] = board_figures
    for name, seconds in done.items():
        rate = round(on_ticket_topic / seconds, 1) if seconds else None
        result[name] = {
            "seconds_to_lag_0": round(seconds, 2) if seconds else None,
            "events_per_s": rate,
            "cpu_ms_per_1000_events": round(1000 * cpu_used[name] / on_ticket_topic * 1000, 1)
            if name in cpu_used
            else None,
            **{
                f"ratio_to_{floor}": round(rate / figures["events_per_s"], 3)
                if rate and figures["events_per_s"]
                else None
                for floor, figures in floors.items()
            },
        }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1000, help="ticket pairs (2 events each)")
    parser.add_argument("--out", default=str(RESULTS / "consumers.json"))
    parser.add_argument("--board-rate", type=float, default=20, help="calls/s on another office's board")
    parser.add_argument("--board-seconds", type=float, default=10, help="per board phase; 0: none")
    parser.add_argument(
        "--board-load",
        type=int,
        default=20000,
        help="tickets that keep the consumers busy meanwhile (enough for the whole phase)",
    )
    parser.add_argument(
        "--completions-later",
        action="store_true",
        help="all TicketIssued before all ServiceCompleted (visits spanning polls: replaces)",
    )
    parser.add_argument(
        "--backlog",
        action="store_true",
        help="as the floors: produce everything with the consumers stopped (SIGSTOP), then time "
        "each consumer alone from its SIGCONT (default: both run while the records are produced, "
        "timed from the first send)",
    )
    parser.add_argument(
        "--one-notifier-process",
        action="store_true",
        help="messages and the hall's calls in one notifier process (default: two, as deployed)",
    )
    args = parser.parse_args()
    board = (
        {"rate": args.board_rate, "seconds": args.board_seconds, "load": args.board_load}
        if args.board_seconds > 0
        else None
    )
    result = asyncio.run(
        measure(
            args.tickets,
            board,
            board_process=not args.one_notifier_process,
            completions_later=args.completions_later,
            backlog=args.backlog,
        )
    )
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
