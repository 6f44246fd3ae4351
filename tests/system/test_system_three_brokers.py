"""The whole OneWindow system on three brokers of its own (RF 3, min.insync.replicas 2): a city
morning runs over HTTP on several offices, one broker is killed -9, the morning goes on for
~30 s, the broker comes back.

Then: no acknowledged ticket is lost (`ops/reconcile.py` with the acknowledged ids: every ticket in
every store once, numbers unique, every service group at lag 0, nothing stuck), no ticket is called
twice (by the API's answers and by the TicketCalled events on the topic), and an outside consumer
(no group) reading every topic from the start finds duplicate event ids only around the failover.
The longest request a client waited for, and the longest time without any acknowledged ticket,
are reported.

A cluster start, a whole system, 30 s of outage and the restart take about three minutes; it runs
in every `make test` (CI included); `uv run pytest -m failover tests/system -s` runs it alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from contracts.registry import TOPICS, MalformedEvent, UnknownEvent, decode
from testbed.chaos import WINDOWS, note, reconciled
from testbed.harness import Api, Office, System
from testbed.kafka_cluster import KafkaCluster

pytestmark = [
    pytest.mark.timeout(600),
    # `uv run pytest -m failover tests/system` runs it alone.
    pytest.mark.failover,
]

OFFICES = 3
DOWN_FOR = 30.0  # seconds the killed broker stays down while the morning goes on
# Duplicates an outbox or a rebuilt producer may send after a broker loss: from the kill to this
# long after the cluster is fully replicated again (the relays retry with backoff).
FAILOVER_TAIL = 60.0


@dataclass
class Morning:
    """Kiosks and operators of several offices over HTTP, with the books a client can keep."""

    api: Api
    offices: list[Office]
    called: list[str] = field(default_factory=list)  # ticket ids of acknowledged (200) call-nexts
    failures: Counter[str] = field(default_factory=Counter)
    longest_request: float = 0.0
    longest_request_what: str = ""
    last_issue: float = field(default_factory=time.monotonic)
    longest_issue_gap: float = 0.0
    _stopping: bool = False
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._run(office, window)) for office in self.offices for window in WINDOWS
        ]

    async def stop(self) -> None:
        self._stopping = True
        await asyncio.gather(*self._tasks)

    async def issued_at_least(self, more: int, timeout: float = 90) -> None:
        target = len(self.api.issued) + more
        deadline = time.monotonic() + timeout
        while len(self.api.issued) < target:
            if time.monotonic() > deadline:
                stalled = f"{len(self.api.issued)} < {target}; {self.failures}"
                raise AssertionError(f"the morning stalled: {stalled}")
            await asyncio.sleep(0.1)

    async def _timed(self, what: str, request: Awaitable[httpx.Response]) -> httpx.Response | None:
        started = time.monotonic()
        try:
            return await request
        except httpx.HTTPError as error:
            self.failures[f"{what}: {type(error).__name__}"] += 1
            return None
        finally:
            took = time.monotonic() - started
            if took > self.longest_request:
                self.longest_request, self.longest_request_what = took, what

    async def _run(self, office: Office, window: int) -> None:
        service_id = getattr(office, WINDOWS[window])
        while not self._stopping:
            issued = await self._timed(
                "issue",
                self.api.call(
                    "POST",
                    f"{self.api.ticketing()}/tickets",
                    role="kiosk",
                    office_id=office.office_id,
                    json={"office_id": office.office_id, "service_id": service_id},
                ),
            )
            if issued is not None and issued.status_code == 201:
                self.api.issued.append(issued.json()["ticket_id"])
                now = time.monotonic()
                self.longest_issue_gap = max(self.longest_issue_gap, now - self.last_issue)
                self.last_issue = now
            elif issued is not None:
                self.failures[f"issue: {issued.status_code}"] += 1
            await self._serve(office, window)
            await asyncio.sleep(0.1)

    async def _serve(self, office: Office, window: int) -> None:
        called = await self._timed("call-next", self.api.window(office, window, "call-next"))
        if called is None:
            await self._finish(office, window)  # the call may have happened: finish what is there
            return
        if called.status_code == 200:
            self.called.append(called.json()["ticket_id"])
        elif called.status_code == 409 and "waiting" in called.text:
            return
        else:
            self.failures[f"call-next: {called.status_code}"] += 1
        await self._finish(office, window)

    async def _finish(self, office: Office, window: int) -> None:
        await self._timed("start", self.api.window(office, window, "start"))
        await self._timed("complete", self.api.window(office, window, "complete", outcome="served"))

    async def finish_windows(self) -> None:
        """Serve what any window still holds, until every window is empty (reconcile --idle)."""
        for office in self.offices:
            for window in WINDOWS:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    with contextlib.suppress(httpx.HTTPError):
                        await self._finish(office, window)
                        console = await self.api.call(
                            "GET",
                            f"{self.api.ticketing()}/windows/{office.office_id}/{window}",
                            role="supervisor",
                            office_id=office.office_id,
                        )
                        if console.status_code == 200 and console.json()["ticket"] is None:
                            break
                    await asyncio.sleep(0.5)


@dataclass(frozen=True)
class Seen:
    topic: str
    event_id: str
    event_type: str
    ticket_id: str
    at: float  # the record's timestamp (wall clock, seconds)


async def read_everything(cluster: KafkaCluster, topics: list[str]) -> list[Seen]:
    """Every readable event on the topics, read from the start by a consumer of no group."""
    rows = await cluster.partitions(topics)
    parts = [TopicPartition(str(row["topic"]), int(str(row["partition"]))) for row in rows]
    assert parts, f"no partitions for {topics}"
    consumer = AIOKafkaConsumer(bootstrap_servers=cluster.bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: list[Seen] = []
    try:
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(timeout_ms=1000, max_records=5000)).values():
                for record in records:
                    try:
                        envelope, _ = decode(record.value or b"")
                    except (MalformedEvent, UnknownEvent):
                        continue
                    found.append(
                        Seen(
                            record.topic,
                            str(envelope.event_id),
                            envelope.event_type,
                            str(envelope.data.get("ticket_id", "")),
                            record.timestamp / 1000,
                        )
                    )
    finally:
        await consumer.stop()
    return found


@pytest.fixture(scope="module")
async def system(cluster: KafkaCluster) -> AsyncIterator[System]:
    started = System(kafka=cluster.bootstrap, ticketing_replicas=2, partitions=6)
    try:
        began = time.monotonic()
        await started.start()
        note(f"system up on the cluster in {time.monotonic() - began:.0f}s (logs {started.log_dir})")
        yield started
    finally:
        started.stop()
        await started.destroy()


async def test_city_morning_survives_a_broker_killed(
    cluster: KafkaCluster, system: System, tmp_path: Path
) -> None:
    async with httpx.AsyncClient() as client:
        api = Api(system, client)
        offices = list(await asyncio.gather(*(api.create_office() for _ in range(OFFICES))))
        for office in offices:
            for window, service in WINDOWS.items():
                opened = await api.window(office, window, "open", service_ids=[getattr(office, service)])
                assert opened.status_code == 200, opened.text
        morning = Morning(api, offices)
        morning.start()
        try:
            await morning.issued_at_least(30)
            ticket_topic = system.prefix + "ticketing.ticket"
            victim = await cluster.leader_of(ticket_topic, 0)
            before = len(api.issued)
            note(f"kill -9 kafka-{victim} (leads {ticket_topic}/0) after {before} tickets")
            killed_wall = time.time()
            await cluster.kill(victim)
            killed_at = time.monotonic()
            while time.monotonic() - killed_at < DOWN_FOR:
                await morning.issued_at_least(1)
            while_down = len(api.issued) - before
            note(f"{while_down} tickets acknowledged in {DOWN_FOR:.0f}s with kafka-{victim} down")
            restart = await cluster.restart()
            topics = [system.prefix + spec.name for spec in TOPICS.values()]
            healed = await cluster.wait_fully_replicated(topics, timeout=120)
            healed_wall = time.time()
            note(f"kafka-{victim} back in {restart:.0f}s, every partition in sync {healed:.0f}s later")
            await morning.issued_at_least(30)
        finally:
            await morning.stop()
        await morning.finish_windows()
        note(
            f"morning over: {len(api.issued)} tickets, {len(morning.called)} calls; longest request "
            f"{morning.longest_request:.1f}s ({morning.longest_request_what}), longest time without "
            f"an issued ticket {morning.longest_issue_gap:.1f}s; failures {dict(morning.failures)}"
        )
        assert while_down > 0

        # Every acknowledged ticket once everywhere, numbers unique, every group at lag 0, idle windows.
        report = await reconciled(system, api, tmp_path, timeout=240)
        assert report["counts"]["tickets_in_ticketing"] >= len(set(api.issued))

    # No ticket called twice: by what the operators were told, and by the events on the topic.
    assert [t for t, n in Counter(morning.called).items() if n > 1] == []
    events = await read_everything(cluster, [system.prefix + spec.name for spec in TOPICS.values()])
    copies: Counter[tuple[str, str]] = Counter()
    duplicate_times: list[float] = []
    calls: dict[str, set[str]] = defaultdict(set)  # ticket -> distinct TicketCalled event ids
    for seen in events:
        copies[(seen.topic, seen.event_id)] += 1
        if copies[(seen.topic, seen.event_id)] > 1:
            duplicate_times.append(seen.at)
        if seen.event_type == "ticketing.TicketCalled":
            calls[seen.ticket_id].add(seen.event_id)
    outside = [t for t in duplicate_times if not killed_wall - 5 <= t <= healed_wall + FAILOVER_TAIL]
    note(
        f"outside consumer: {len(events)} events, {len(copies)} distinct ids, {len(duplicate_times)} "
        f"extra copies ({len(outside)} outside the failover); {len(calls)} tickets called"
    )
    assert [t for t, ids in calls.items() if len(ids) > 1] == []
    assert len(calls) >= len(set(morning.called))
    assert outside == []
