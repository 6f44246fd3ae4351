"""The owner side of ticketing: which offices this replica owns, and one writer per owned office.

    ownership topic (Kafka group "ticketing-owners")        office log (unique _id = commit + fence)
    partition p assigned to this replica  ------------->  OfficeHost(office): queue in memory
                                                          commands -> apply -> append -> read models
                                                                                -> publisher -> Kafka

* `Ownership` joins the consumer group of the (empty) `ticketing.commands` topic; an office belongs to
  the partition its id hashes to (Kafka's murmur2, as for every office-keyed topic). Ownership moves
  only on a rebalance; on revoke the offices stop taking commands and flush before they are let go.
* `OfficeHost` applies commands one batch at a time: every command of the batch runs against the
  in-memory `OfficeQueue`, their changes become ONE log entry (one unique insert), then the read
  models and the publisher get them. An append that fails drops the office from memory (the next
  command reloads it from the store), so nothing is ever half-applied; one that collides means
  another replica took the office over: this one stops writing it at once.
* `Publisher` sends committed events in log order and remembers per office how far it got; a new
  owner resends only what the old one had not confirmed (duplicates only around a takeover).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.partitioner import murmur2
from contracts import Envelope
from contracts.catalog import OfficeConfigured
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pymongo.errors import PyMongoError
from servicekit.clock import SYSTEM_CLOCK, Clock
from servicekit.events import Emitter
from servicekit.kafka import EventProducer, close_within

from ticketing.domain import DomainError, QueueRules
from ticketing.projections import ReadModels
from ticketing.queue import Change, OfficeQueue
from ticketing.settings import Settings
from ticketing.store import LogConflict, OfficeLog, log_id, window_document

log = structlog.get_logger("ticketing.owner")
RELEASE_SECONDS = 15.0  # what a stop gives the offices to flush and snapshot before leaving
PRODUCER = "ticketing"
EMITTER = Emitter(PRODUCER)
OWNERSHIP_TOPIC = "ticketing.commands"
T = TypeVar("T")
Apply = Callable[[OfficeQueue, datetime], T]


class NotOwner(Exception):
    """This replica does not own the office: the request goes to the owner."""

    def __init__(self, office_id: str, partition: int) -> None:
        super().__init__(f"office {office_id} is owned by another replica")
        self.office_id = office_id
        self.partition = partition


class OfficeUnavailable(Exception):
    """Nobody can take the office's commands right now (handover, store down): retry shortly."""

    retry_after = 1


def partition_of(office_id: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives the key `office_id`."""
    return int(murmur2(office_id.encode()) & 0x7FFFFFFF) % partitions


# --------------------------------------------------------------------------- publishing


@dataclass
class _Committed:
    office_id: str
    seq: int
    events: list[Envelope]


class Publisher:
    """Committed events to Kafka in log order; per office, the last published seq is remembered."""

    def __init__(self, producer: EventProducer, office_log: OfficeLog) -> None:
        self.producer = producer
        self.log = office_log
        self._queue: list[_Committed] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.published: dict[str, int] = {}  # office -> last seq whose events reached Kafka

    def enqueue(self, office_id: str, seq: int, events: list[Envelope]) -> None:
        self._queue.append(_Committed(office_id, seq, events))
        self._idle.clear()
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def flush(self, timeout: float = 10.0) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout)

    async def stop(self) -> None:
        await self.flush()
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def backlog(self) -> int:
        return sum(len(c.events) for c in self._queue)

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            if not self._queue:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = list(self._queue)
            try:
                await self.producer.publish_all([e for c in batch for e in c.events])
                last: dict[str, int] = {}
                for committed in batch:
                    last[committed.office_id] = committed.seq
                await asyncio.gather(*(self.log.mark_published(o, s) for o, s in last.items()))
                self.published.update(last)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                log.warning(
                    "publishing committed events failed; retrying", error=repr(error), failures=failures
                )
                await asyncio.sleep(min(5.0, 0.2 * 2 ** min(failures, 5)))
                continue
            failures = 0
            del self._queue[: len(batch)]


# --------------------------------------------------------------------------- one office


@dataclass
class _Command(Generic[T]):
    apply: Apply[T]
    future: asyncio.Future[T]
    cause: Envelope | None = None


@dataclass
class HostParts:
    """What every office host of a replica shares."""

    log: OfficeLog
    models: ReadModels
    publisher: Publisher
    instance: str
    snapshot_every: int = 500
    snapshot_seconds: float = 60.0
    batch_max: int = 256
    on_lost: Callable[[str, bool], None] = field(default=lambda office_id, lost: None)
    clock: Clock = SYSTEM_CLOCK


class OfficeHost:
    """The single writer of one office on its owner."""

    def __init__(self, queue: OfficeQueue, parts: HostParts, snapshot_seq: int) -> None:
        self.queue = queue
        self.parts = parts
        self._commands: asyncio.Queue[_Command[Any] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._accepting = True
        self._snapshot_seq = snapshot_seq
        self._snapshot_at = time.monotonic()
        self._snapshot_task: asyncio.Task[None] | None = None
        self._pruned_to = 0
        self._projector = _Projector(self)

    @property
    def office_id(self) -> str:
        return self.queue.office_id

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"office-writer-{self.office_id}")
        self._projector.start()

    async def run(self, apply: Apply[T], cause: Envelope | None = None) -> T:
        """Apply one command on the owner and return its result once it is committed."""
        if not self._accepting:
            raise OfficeUnavailable(f"office {self.office_id} is being handed over")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._commands.put_nowait(_Command(apply, future, cause))
        return await future

    async def stop(self, *, snapshot: bool) -> None:
        """Take no more commands, finish those queued, optionally leave a snapshot for the next owner."""
        self._accepting = False
        if self._task is not None and not self._task.done():
            self._commands.put_nowait(None)  # after everything queued before it
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._refuse_queued()
        await self._projector.stop()
        if self._snapshot_task is not None:
            with contextlib.suppress(Exception):
                await self._snapshot_task
        if snapshot and self.queue.seq > self._snapshot_seq:
            with contextlib.suppress(PyMongoError):
                await self.parts.log.save_snapshot(self.office_id, self.queue.seq, self.queue.snapshot())

    def _refuse_queued(self) -> None:
        while not self._commands.empty():
            command = self._commands.get_nowait()
            if command is not None and not command.future.done():
                command.future.set_exception(
                    OfficeUnavailable(f"office {self.office_id} is being handed over")
                )

    async def _run(self) -> None:
        while True:
            first = await self._commands.get()
            if first is None:
                return
            batch = [first]
            while not self._commands.empty() and len(batch) < self.parts.batch_max:
                command = self._commands.get_nowait()
                if command is None:
                    self._commands.put_nowait(None)  # stop after this batch
                    break
                batch.append(command)
            if not await self._apply_and_commit(batch):
                return
            await self._maybe_snapshot()

    async def _apply_and_commit(self, batch: list[_Command[Any]]) -> bool:
        """False when the office must be dropped (lost, or the store failed mid-commit)."""
        now = self.parts.clock.now()
        outcomes: list[tuple[_Command[Any], Any, BaseException | None]] = []
        envelopes: list[Envelope] = []
        for command in batch:
            before = len(self.queue.pending.events)
            try:
                result = command.apply(self.queue, now)
            except DomainError as error:  # a rule said no: nothing was changed
                outcomes.append((command, None, error))
                continue
            except Exception as error:  # a bug: the state may be half-changed, reload it
                log.exception("command failed; the office is reloaded", office_id=self.office_id)
                command.future.set_exception(error)
                self._fail(batch, OfficeUnavailable("office state is being reloaded"))
                self._drop()
                return False
            envelopes.extend(
                self._envelope(data, aggregate_id, version, now, command.cause)
                for data, aggregate_id, version in self.queue.pending.events[before:]
            )
            outcomes.append((command, result, None))
        change = self.queue.take_pending()
        if not change:
            self._resolve(outcomes)
            return True
        if change:
            seq = self.queue.seq + 1
            try:
                await self.parts.log.append(self._entry(seq, change, envelopes, now))
            except LogConflict:
                log.warning("another replica owns the office now; dropping it", office_id=self.office_id)
                self._fail(batch, OfficeUnavailable(f"office {self.office_id} moved to another replica"))
                self._drop(lost=True)
                return False
            except Exception as error:
                log.warning(
                    "log append failed; the office is reloaded", office_id=self.office_id, error=repr(error)
                )
                self._fail(batch, OfficeUnavailable("the store did not take the change; retry"))
                self._drop()
                return False
            self.queue.seq = seq
            if envelopes:
                self.parts.publisher.enqueue(self.office_id, seq, envelopes)
            # Answered once the read models have it too (a citizen opens the link at once); the
            # projector writes them while the next batch is applied and appended.
            self._projector.submit(change, outcomes)
            return True
        self._resolve(outcomes)
        return True

    def _entry(self, seq: int, change: Change, envelopes: list[Envelope], now: datetime) -> dict[str, Any]:
        return {
            "_id": log_id(self.office_id, seq),
            "office_id": self.office_id,
            "seq": seq,
            "at": now,
            "owner": self.parts.instance,
            "tickets": list(change.docs.values()),
            "windows": [window_document(w) for w in change.windows.values()],
            "numbers": change.numbers,
            "means": {s: {"mean": m, "samples": n} for s, (m, n) in change.means.items()},
            "tokens": [{"digest": d, "ticket_id": t} for d, t in change.tokens],
            "events": [e.model_dump(mode="json") for e in envelopes],
        }

    def _envelope(
        self, data: Any, aggregate_id: str, version: int, now: datetime, cause: Envelope | None
    ) -> Envelope:
        return EMITTER.event(
            data,
            office_id=self.office_id,
            aggregate_id=aggregate_id,
            aggregate_version=version,
            cause=cause,
            occurred_at=now,
        )

    @staticmethod
    def _resolve(outcomes: list[tuple[_Command[Any], Any, BaseException | None]]) -> None:
        for command, result, error in outcomes:
            if command.future.done():
                continue
            if error is not None:
                command.future.set_exception(error)
            else:
                command.future.set_result(result)

    @staticmethod
    def _fail(batch: Sequence[_Command[Any]], error: BaseException) -> None:
        for command in batch:
            if not command.future.done():
                command.future.set_exception(error)

    def _drop(self, *, lost: bool = False) -> None:
        self._accepting = False
        self._refuse_queued()
        self.parts.on_lost(self.office_id, lost)

    async def _maybe_snapshot(self) -> None:
        """Every `snapshot_every` entries (or seconds with changes): the state is taken here, between
        batches, and written in the background so the writer does not wait for a large document."""
        due = self.queue.seq - self._snapshot_seq >= self.parts.snapshot_every or (
            self.queue.seq > self._snapshot_seq
            and time.monotonic() - self._snapshot_at >= self.parts.snapshot_seconds
        )
        if not due or (self._snapshot_task is not None and not self._snapshot_task.done()):
            return
        seq, state, previous = self.queue.seq, self.queue.snapshot(), self._snapshot_seq
        self._snapshot_seq = seq
        self._snapshot_at = time.monotonic()
        self._snapshot_task = asyncio.create_task(self._write_snapshot(seq, state, previous))

    async def _write_snapshot(self, seq: int, state: dict[str, Any], previous: int) -> None:
        try:
            await self.parts.log.save_snapshot(self.office_id, seq, state)
        except PyMongoError as error:
            log.warning("snapshot not written", office_id=self.office_id, error=repr(error))
            return
        # The log before the previous snapshot is needed neither for a takeover nor for publishing
        # (once published): the read models and the event stream keep the history.
        keep_from = min(previous, self.parts.publisher.published.get(self.office_id, 0))
        if keep_from > self._pruned_to:
            start = max(self._pruned_to + 1, keep_from - 4 * self.parts.snapshot_every)
            with contextlib.suppress(PyMongoError):
                await self.parts.log.prune(self.office_id, start, keep_from)
                self._pruned_to = keep_from


class _Projector:
    """Writes an office's read models in log order, merging whatever batches queued up meanwhile."""

    def __init__(self, host: OfficeHost) -> None:
        self.host = host
        self._pending: list[tuple[Change, list[tuple[_Command[Any], Any, BaseException | None]]]] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def submit(self, change: Change, outcomes: list[tuple[_Command[Any], Any, BaseException | None]]) -> None:
        self._pending.append((change, outcomes))
        self._idle.clear()
        self._wake.set()

    async def stop(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), 10)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            if not self._pending:
                self._idle.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            merged, self._pending = self._pending, []
            docs: dict[str, dict[str, Any]] = {}
            windows: dict[int, Any] = {}
            tokens: list[tuple[str, str, str]] = []
            new: set[str] = set()
            for change, _ in merged:
                for ticket_id, doc in change.docs.items():
                    if ticket_id not in change.quiet or ticket_id in docs:
                        docs[ticket_id] = doc
                windows.update(change.windows)
                tokens.extend((d, t, self.host.office_id) for d, t in change.tokens)
                new |= change.new_tickets
            try:
                await self.host.parts.models.project(
                    list(docs.values()), [window_document(w) for w in windows.values()], tokens, new
                )
            except Exception as error:  # committed: answer, and let a reload write the read models again
                log.warning("read models not written; the office is reloaded", error=repr(error))
                self.host._drop()
            for _, outcomes in merged:
                OfficeHost._resolve(outcomes)


# --------------------------------------------------------------------------- the offices of a replica


class Offices:
    """The offices this replica owns, loaded on first use or right after a partition is assigned."""

    def __init__(
        self,
        settings: Settings,
        office_log: OfficeLog,
        models: ReadModels,
        producer: EventProducer,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.log = office_log
        self.models = models
        self.rules = QueueRules(
            max_calls=settings.max_calls,
            ageing_share=settings.ageing_share,
            appointment_early_minutes=settings.appointment_early_minutes,
        )
        self.instance = f"{settings.advertised_url}#{uuid.uuid4().hex[:8]}"
        self.publisher = Publisher(producer, office_log)
        self.parts = HostParts(
            office_log,
            models,
            self.publisher,
            self.instance,
            snapshot_every=settings.snapshot_every,
            snapshot_seconds=settings.snapshot_seconds,
            on_lost=self._forget,
            clock=clock,
        )
        self.hosts: dict[str, OfficeHost] = {}
        self._loading: dict[str, asyncio.Lock] = {}
        self.partitions = 0
        self.owned: set[int] = set()
        self.releasing: set[int] = set()
        self._owner_cache: dict[int, tuple[float, str | None]] = {}
        self._lost: set[str] = set()

    # ------------------------------------------------------------------ who owns what

    def partition(self, office_id: str) -> int:
        if self.partitions <= 0:
            raise OfficeUnavailable("ownership is not assigned yet")
        return partition_of(office_id, self.partitions)

    def owns(self, office_id: str) -> bool:
        if self.partitions <= 0:
            return False
        partition = self.partition(office_id)
        return partition in self.owned and partition not in self.releasing

    async def owner_url(self, office_id: str) -> str | None:
        partition = self.partition(office_id)
        cached = self._owner_cache.get(partition)
        if cached is not None and time.monotonic() - cached[0] < 1.0:
            return cached[1]
        doc = await self.log.owner_of(partition)
        url = str(doc["url"]) if doc else None
        self._owner_cache[partition] = (time.monotonic(), url)
        return url

    def forget_owner(self, office_id: str) -> None:
        self._owner_cache.pop(self.partition(office_id), None)

    async def assigned(self, partitions: set[int]) -> None:
        self.owned |= partitions
        self.releasing -= partitions
        self._lost = {o for o in self._lost if self.partition(o) not in partitions}
        await asyncio.gather(
            *(self.log.claim_partition(p, self.settings.advertised_url, self.instance) for p in partitions)
        )
        log.info("partitions assigned", partitions=sorted(partitions))

    async def revoked(self, partitions: set[int]) -> None:
        """Stop taking commands for these offices, finish what is queued, publish it, let go."""
        self.releasing |= partitions
        leaving = [h for o, h in self.hosts.items() if self.partition(o) in partitions]
        await asyncio.gather(*(h.stop(snapshot=True) for h in leaving))
        for host in leaving:
            self.hosts.pop(host.office_id, None)
        await self.publisher.flush()
        self.owned -= partitions
        self.releasing -= partitions
        log.info("partitions revoked", partitions=sorted(partitions), offices=len(leaving))

    def _forget(self, office_id: str, lost: bool) -> None:
        """An office dropped from memory; `lost`: another replica fenced it, so this one is a zombie
        and leaves it alone until Kafka assigns its partition again."""
        self.hosts.pop(office_id, None)
        if lost:
            self._lost.add(office_id)

    # ------------------------------------------------------------------ hosts

    async def host(self, office: OfficeConfigured) -> OfficeHost:
        """The writer of an owned office (loaded now if needed); NotOwner when another replica has it."""
        office_id = office.office_id
        if not self.owns(office_id):
            raise NotOwner(office_id, self.partition(office_id))
        if office_id in self._lost:
            raise OfficeUnavailable(f"office {office_id} was taken over; waiting for the group to settle")
        host = self.hosts.get(office_id)
        if host is None:
            async with self._loading.setdefault(office_id, asyncio.Lock()):
                host = self.hosts.get(office_id)
                if host is None:
                    host = await self._load(office)
        host.queue.office = office  # catalog changes (SLA targets, categories) apply at once
        return host

    async def _load(self, office: OfficeConfigured) -> OfficeHost:
        """Snapshot + log after it, then a fence entry: a zombie owner's next append collides."""
        office_id = office.office_id
        queue = OfficeQueue(office, self.rules)
        try:
            snapshot = await self.log.snapshot(office_id)
            snapshot_seq = int(snapshot["seq"]) if snapshot else 0
            if snapshot is not None:
                queue.restore(snapshot)
            entries = await self.log.entries_after(office_id, snapshot_seq)
            for entry in entries:
                queue.restore(entry)
            queue.seq = entries[-1]["seq"] if entries else snapshot_seq
            published = await self.log.published_to(office_id)
            fence_seq = queue.seq + 1
            await self.log.append(
                {
                    "_id": log_id(office_id, fence_seq),
                    "office_id": office_id,
                    "seq": fence_seq,
                    "at": self.clock.now(),
                    "owner": self.instance,
                    "fence": True,
                }
            )
            queue.seq = fence_seq
        except LogConflict as error:
            raise OfficeUnavailable(f"office {office_id} is being taken over; retry") from error
        except PyMongoError as error:
            raise OfficeUnavailable(f"office {office_id} cannot be loaded: {type(error).__name__}") from error
        # What a crashed owner committed but did not finish: read models, then events in log order.
        replayed_tickets = {d["_id"]: d for e in entries for d in e.get("tickets", ())}
        replayed_windows = {d["_id"]: d for e in entries for d in e.get("windows", ())}
        tokens = [(t["digest"], t["ticket_id"], office_id) for e in entries for t in e.get("tokens", ())]
        with contextlib.suppress(PyMongoError):
            await self.models.project(
                list(replayed_tickets.values()), list(replayed_windows.values()), tokens
            )
        for entry in entries:
            if entry["seq"] > published and entry.get("events"):
                events = [Envelope.model_validate(e) for e in entry["events"]]
                self.publisher.enqueue(office_id, entry["seq"], events)
        host = OfficeHost(queue, self.parts, snapshot_seq)
        host.start()
        self.hosts[office_id] = host
        log.info(
            "office taken over",
            office_id=office_id,
            seq=queue.seq,
            replayed=len(entries),
            waiting=queue.waiting_count(),
        )
        return host

    async def publisher_start(self) -> None:
        self.publisher.start()

    async def stop(self) -> None:
        await asyncio.gather(*(h.stop(snapshot=True) for h in list(self.hosts.values())))
        self.hosts.clear()
        await self.publisher.stop()


# --------------------------------------------------------------------------- ownership from Kafka


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(
        self,
        offices: Offices,
        topic: str,
        loaded: Callable[[set[int]], Coroutine[Any, Any, None]],
        consumer: AIOKafkaConsumer | None = None,
    ) -> None:
        self.offices = offices
        self.topic = topic
        self.loaded = loaded
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        mine = {tp.partition for tp in revoked if tp.topic == self.topic}
        if mine:
            await self.offices.revoked(mine)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        mine = {tp.partition for tp in assigned if tp.topic == self.topic}
        if mine and self.offices.partitions <= 0 and self.consumer is not None:
            self.offices.partitions = len(self.consumer.partitions_for_topic(self.topic) or ())
        if mine:
            await self.offices.assigned(mine)
            asyncio.get_running_loop().create_task(self.loaded(mine))


class Ownership:
    """Membership of the ticketing replicas' group on the ownership topic; Kafka picks the owners."""

    def __init__(
        self,
        settings: Settings,
        offices: Offices,
        known_offices: Callable[[], Awaitable[list[OfficeConfigured]]],
        security: dict[str, Any],
    ) -> None:
        self.settings = settings
        self.offices = offices
        self.known_offices = known_offices
        self.security = security
        self.topic = settings.topic(OWNERSHIP_TOPIC)
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def ensure_topic(self) -> int:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap, **self.security)
        await admin.start()
        try:
            cluster = await admin.describe_cluster()
            brokers = len(cluster.get("brokers", [])) or 1
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [
                        NewTopic(
                            self.topic,
                            num_partitions=self.settings.ownership_partitions,
                            replication_factor=min(3, brokers),
                        )
                    ]
                )
            # A topic created a moment ago can be described without its partitions yet.
            deadline = time.monotonic() + 15
            while True:
                described = await admin.describe_topics([self.topic])
                partitions = len(described[0].get("partitions") or [])
                if partitions or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.25)
        finally:
            await close_within(admin.close(), "admin client")
        return partitions

    async def start(self) -> None:
        self.offices.partitions = await self.ensure_topic()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=f"{self.settings.topic_prefix}ticketing-owners",
            client_id=f"onewindow-ticketing-owner-{self.offices.instance}",
            enable_auto_commit=False,
            partition_assignment_strategy=(RangePartitionAssignor,),
            session_timeout_ms=self.settings.ownership_session_timeout_ms,
            heartbeat_interval_ms=max(100, self.settings.ownership_session_timeout_ms // 10),
            rebalance_timeout_ms=30000,
            # A leader that assigned before its metadata had the just-created topic assigned nothing;
            # the next refresh sees the partitions and rebalances: keep that wait short.
            metadata_max_age_ms=3000,
            **self.security,
        )
        await consumer.start()
        consumer.subscribe(
            [self.topic], listener=_Listener(self.offices, self.topic, self._load_assigned, consumer)
        )
        self._consumer = consumer
        self._task = asyncio.create_task(self._poll(consumer))

    async def _poll(self, consumer: AIOKafkaConsumer) -> None:
        # The topic carries no records: polling keeps this member in the group and runs rebalances.
        while True:
            try:
                await consumer.getmany(timeout_ms=1000)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("ownership consumer error", error=repr(error))
                await asyncio.sleep(1)

    async def _load_assigned(self, partitions: set[int]) -> None:
        """Load the offices of newly assigned partitions now, so their jobs run without a first request."""
        try:
            offices = await self.known_offices()
        except Exception as error:
            log.warning("known offices not read", error=repr(error))
            return
        for office in offices:
            if office.retired or self.offices.partition(office.office_id) not in partitions:
                continue
            with contextlib.suppress(NotOwner, OfficeUnavailable):
                await self.offices.host(office)

    @property
    def assignment(self) -> list[int]:
        return sorted(self.offices.owned)

    async def stop(self) -> None:
        # Let the offices go first (flushed, snapshotted), then leave the group. Bounded: a stop
        # has a grace period (Kubernetes: 30 s) and a release cut short is a crash, which the next
        # owner recovers from the log; once a secured broker's CI run waited 30 s here.
        try:
            await asyncio.wait_for(self.offices.revoked(set(self.offices.owned)), RELEASE_SECONDS)
        except TimeoutError:
            log.warning(
                "offices not released in time: the next owner replays their log",
                offices=sorted(self.offices.hosts),
                seconds=RELEASE_SECONDS,
            )
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            with contextlib.suppress(Exception):
                await close_within(self._consumer.stop(), "ownership consumer")


class OwnershipCollector(Collector):
    """/metrics: which partitions and offices this replica owns, their queues, the publish backlog."""

    def __init__(self, offices: Offices) -> None:
        self.offices = offices

    def collect(self) -> Iterator[Metric]:
        partitions = GaugeMetricFamily(
            "onewindow_ticketing_owned_partition", "Ownership partitions assigned here", labels=["partition"]
        )
        for partition in sorted(self.offices.owned):
            partitions.add_metric([str(partition)], 1)
        yield partitions
        waiting = GaugeMetricFamily(
            "onewindow_ticketing_waiting", "Waiting tickets of each office owned here", labels=["office_id"]
        )
        longest = GaugeMetricFamily(
            "onewindow_ticketing_longest_wait_seconds",
            "Longest wait in each office owned here",
            labels=["office_id"],
        )
        windows = GaugeMetricFamily(
            "onewindow_ticketing_open_windows", "Open windows of each office owned here", labels=["office_id"]
        )
        now = self.offices.clock.now()
        for office_id, host in list(self.offices.hosts.items()):
            status = host.queue.queue_status(now)
            waiting.add_metric([office_id], status.waiting)
            longest.add_metric([office_id], status.longest_wait_seconds)
            windows.add_metric([office_id], status.open_windows)
        yield waiting
        yield longest
        yield windows
        yield GaugeMetricFamily(
            "onewindow_ticketing_offices_owned",
            "Offices loaded on this replica",
            value=len(self.offices.hosts),
        )
        yield GaugeMetricFamily(
            "onewindow_ticketing_publish_backlog",
            "Committed events not yet confirmed by Kafka",
            value=self.offices.publisher.backlog,
        )
