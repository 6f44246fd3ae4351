"""Kafka broker factory and the event router every service consumes through.

Commit after the handler (never FastStream's ACK_FIRST), an idempotent producer with acks=all,
bounded retries with backoff, then the original bytes plus error headers go to `<topic>.dlt`
and the partition keeps moving. Unknown event types are skipped (forward compatibility).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import traceback
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from contracts import Envelope, EventData
from contracts.registry import MalformedEvent, UnknownEvent, decode, encode, partition_key, topic_for
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from servicekit.kafka_security import aiokafka_security, faststream_security
from servicekit.settings import ServiceSettings

V = TypeVar("V")

log = structlog.get_logger("servicekit.kafka")

Handler = Callable[[Envelope, Any], Awaitable[None]]


def create_broker(settings: ServiceSettings, registry: CollectorRegistry) -> KafkaBroker:
    security = faststream_security(settings)
    return KafkaBroker(
        # A list: FastStream takes one string for one host ("a:1,b:2" would be a single host name).
        [host.strip() for host in settings.kafka_bootstrap.split(",") if host.strip()],
        client_id=f"onewindow-{settings.service_name}",
        acks="all",
        enable_idempotence=True,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        graceful_timeout=15.0,
        middlewares=[KafkaPrometheusMiddleware(registry=registry, app_name=settings.service_name)],
        logger=None,
        security=security,
    )


# How long a stop waits for a Kafka client to close its connections. Closing a TLS connection
# waits for the broker's close_notify, for up to 30 s (asyncio's and uvloop's SSL shutdown
# timeout): on the secured broker a stop overran Kubernetes' 30 s grace period that way, after
# its commits and LeaveGroup were done. What is left then is only sockets, which the exit closes.
KAFKA_CLOSE_SECONDS = 10.0


async def close_within(close: Awaitable[Any], client: str, seconds: float = KAFKA_CLOSE_SECONDS) -> None:
    """Await a Kafka client's stop or close for at most `seconds` (its error, if it fails in time,
    is raised); past that it goes on in the background and the stop moves on."""
    closing = asyncio.ensure_future(close)
    done, _ = await asyncio.wait([closing], timeout=seconds)
    if not done:
        log.warning(
            "kafka client not closed in time, left to finish on its own", client=client, seconds=seconds
        )
        return
    closing.result()


# The most bytes of one partition's events sent in one produce request (aiokafka's default 16 KiB:
# a `publish_all` of a slice's 64 feedback requests, ~45 KB, went out as three requests one after
# another: aiokafka has one request in flight per broker, one batch per partition in it). Nothing
# waits to fill it (no linger): a single event still goes at once. Below the broker's 1 MB limit.
PRODUCER_BATCH_BYTES = 256 * 1024


class EventProducer:
    """The producer the outbox relay publishes through: idempotent, acks=all, and rebuilt when it
    breaks.

    After a broker crash an idempotent producer can fail every send to a partition with
    OutOfOrderSequenceNumber until it is replaced (seen in the fault tests): a fresh producer gets
    a new producer id and goes on. Outbox entries keep their event_id, so a resend is harmless.
    """

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self.rebuilds = 0
        self.consecutive_failures = 0

    def _new(self) -> AIOKafkaProducer:
        extra = aiokafka_security(self.settings)
        return AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            client_id=f"onewindow-{self.settings.service_name}-outbox",
            enable_idempotence=True,
            acks="all",
            request_timeout_ms=15000,
            max_batch_size=PRODUCER_BATCH_BYTES,
            **extra,
        )

    async def start(self) -> None:
        self._producer = self._new()
        await self._producer.start()

    async def stop(self) -> None:
        """Send what is pending (each send bounded by the request timeout), then close."""
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.flush()
            with contextlib.suppress(Exception):
                await close_within(producer.stop(), "outbox producer")

    async def _rebuild(self, broken: Any) -> None:
        async with self._lock:
            if self._producer is not broken:
                return  # another task rebuilt it already
            log.warning("rebuilding the outbox producer", failures=self.consecutive_failures)
            stop = getattr(broken, "stop", None)
            if stop is not None:
                with contextlib.suppress(Exception):
                    await close_within(stop(), "broken outbox producer")
            fresh = self._new()
            await fresh.start()
            self._producer = fresh
            self.rebuilds += 1

    async def publish(self, envelope: Envelope) -> None:
        """Publish one event to its topic, keyed as the registry says, envelope fields as headers."""
        producer = self._producer
        if producer is None:
            raise RuntimeError("the event producer is not started")
        try:
            await producer.send_and_wait(
                self.settings.topic(topic_for(envelope.event_type).name),
                encode(envelope),
                key=partition_key(envelope),
                headers=[(key, value.encode()) for key, value in envelope.headers().items()],
            )
        except (KafkaError, AssertionError):
            self.consecutive_failures += 1
            if self.consecutive_failures % 3 == 0:  # counted on until a send succeeds (readiness)
                await self._rebuild(producer)
            raise
        self.consecutive_failures = 0

    async def publish_all(self, envelopes: Sequence[Envelope]) -> None:
        """Publish events in the order given (one partition keeps it), then wait for all acks.

        Sends are queued one after another without waiting, so a burst costs one round of acks, not
        one per event; any failure fails the whole call (the caller resends: same event ids).
        """
        producer = self._producer
        if producer is None:
            raise RuntimeError("the event producer is not started")
        try:
            pending = [
                await producer.send(
                    self.settings.topic(topic_for(envelope.event_type).name),
                    encode(envelope),
                    key=partition_key(envelope),
                    headers=[(key, value.encode()) for key, value in envelope.headers().items()],
                )
                for envelope in envelopes
            ]
            await asyncio.gather(*pending)
        except (KafkaError, AssertionError):
            self.consecutive_failures += 1
            if self.consecutive_failures % 3 == 0:
                await self._rebuild(producer)
            raise
        self.consecutive_failures = 0


@dataclass
class ConsumerHealth:
    """What readiness needs to know of the consumers: assigned and still receiving."""

    started_at: float = field(default_factory=time.monotonic)
    last_message_at: float | None = None
    handled: int = 0

    def touch(self, count: int = 1) -> None:
        self.last_message_at = time.monotonic()
        self.handled += count


class ConsumerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.handled = Counter(
            "onewindow_events_handled_total", "Events handled", ["event_type", "outcome"], registry=registry
        )
        self.dead_letters = Counter(
            "onewindow_dead_letters_total",
            "Messages sent to a dead-letter topic",
            ["topic"],
            registry=registry,
        )
        self.seconds = Histogram(
            "onewindow_event_handler_seconds", "Event handler latency", ["event_type"], registry=registry
        )
        self.batch_sizes = Histogram(
            "onewindow_consumer_batch_records",
            "Records per partition per poll",
            buckets=(1, 5, 20, 50, 100, 200, 500),
            registry=registry,
        )
        self.consumers: list[BatchConsumer] = []
        registry.register(_LagCollector(self.consumers))


class _LagCollector(Collector):
    """`onewindow_consumer_lag{group,topic,partition}`: end offset minus committed offset, per
    assigned partition, read at scrape time from what the consumer already knows (no broker call)."""

    def __init__(self, consumers: list[BatchConsumer]) -> None:
        self.consumers = consumers

    def collect(self) -> Iterable[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "onewindow_consumer_lag",
            "Records not yet committed by the consumer group, per assigned partition",
            labels=["group", "topic", "partition"],
        )
        for consumer in self.consumers:
            for (topic, partition), lag in consumer.lag().items():
                gauge.add_metric([consumer.group_id, topic, str(partition)], lag)
        yield gauge


@dataclass(frozen=True)
class Received:
    """One decoded record as a batch handler sees it."""

    envelope: Envelope
    data: Any
    record: ConsumerRecord[Any, Any]


BatchHandler = Callable[[Sequence[Received]], Awaitable[None]]


class PartitionMemory(Generic[V]):
    """What a batch handler keeps between polls of the partitions it owns, by key, at most
    `capacity` entries (the least recently used go first). A partition's entries are dropped when
    it is revoked or assigned (`router.on_partitions_moved(memory.forget)`), so they only ever hold
    what this consumer itself wrote while it owned the partition; a miss reads the store again."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, tuple[tuple[str, int], V]] = OrderedDict()
        self._horizons: dict[tuple[str, int], int] = {}

    def get(self, key: str) -> V | None:
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries.move_to_end(key)
        return found[1]

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def keep(self, partition: tuple[str, int], key: str, value: V) -> None:
        self._entries[key] = (partition, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def drop(self, key: str) -> None:
        self._entries.pop(key, None)

    def forget(self, partitions: set[tuple[str, int]]) -> None:
        for key in [k for k, (p, _) in self._entries.items() if p in partitions]:
            del self._entries[key]
        for partition in partitions:
            self._horizons.pop(partition, None)

    def assigned_at(self, ends: dict[tuple[str, int], int]) -> None:
        """The end offsets of partitions just assigned (`router.on_partitions_assigned_at`)."""
        self._horizons.update(ends)

    def first_read_here(self, item: Received) -> bool:
        """True when no earlier owner of the partition can have read this record: it came after
        the end offset at the assignment (a crash replay or a rebalance hand-over lies before)."""
        record = item.record
        if record is None:
            return False
        horizon = self._horizons.get((str(record.topic), int(record.partition)))
        return horizon is not None and int(record.offset) >= horizon

    def clear(self) -> None:
        self._entries.clear()


NO_PARTITION = ("", -1)


def position_of(item: Received) -> str | None:
    """ "topic:partition:offset" of a received record; None for one handed over without a record."""
    record = item.record
    return None if record is None else f"{record.topic}:{record.partition}:{record.offset}"


def partition_of(item: Received) -> tuple[str, int]:
    """(topic, partition) of a received record; NO_PARTITION for one handed over without a record."""
    record = item.record
    return NO_PARTITION if record is None else (str(record.topic), int(record.partition))


@dataclass(frozen=True)
class _Route:
    model: type[EventData]
    handler: Handler | None = None
    batch: BatchHandler | None = None


class EventRouter:
    """Typed handlers by event type: `on(Model)` for one record at a time, `on_batch(*Models)` for
    the consecutive records of one partition's poll in one call. `attach` makes one consumer per
    router for the service.
    """

    def __init__(self, *, max_records: int = 500) -> None:
        """`max_records`: the most records one poll hands over. aiokafka drains its fetched
        partitions one after another, so a partition fetched later waits until the ones before it
        are worked off, poll by poll: a router that skips most of what it reads (another group on
        a busy topic, for a few event types) should take all that is fetched at once."""
        self._routes: dict[str, _Route] = {}
        self.max_records = max_records
        self.consumer: BatchConsumer | None = None
        self._moved: list[Callable[[set[tuple[str, int]]], None]] = []
        self._assigned_at: list[Callable[[dict[tuple[str, int], int]], None]] = []

    def on_partitions_moved(self, listener: Callable[[set[tuple[str, int]]], None]) -> None:
        """`listener({(topic, partition), ...})` when partitions are revoked from or assigned to
        this consumer: state a handler keeps in memory for a partition between polls must be
        dropped then (another replica may have written meanwhile, or will)."""
        self._moved.append(listener)

    def on_partitions_assigned_at(self, listener: Callable[[dict[tuple[str, int], int]], None]) -> None:
        """`listener({(topic, partition): end offset})` when partitions are assigned: records from
        that offset on were never read by an earlier owner (no state of theirs can be in the store)."""
        self._assigned_at.append(listener)

    def partitions_moved(self, partitions: Iterable[Any]) -> None:
        moved = {(tp.topic, tp.partition) for tp in partitions}
        if moved:
            for listener in self._moved:
                listener(moved)

    def partitions_assigned_at(self, ends: dict[tuple[str, int], int]) -> None:
        for listener in self._assigned_at:
            listener(ends)

    def on(self, model: type[EventData]) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self._routes[model.EVENT_TYPE] = _Route(model, handler=handler)
            return handler

        return register

    def on_batch(self, *models: type[EventData]) -> Callable[[BatchHandler], BatchHandler]:
        """`handler(received)` gets the consecutive records of these types from one partition's poll,
        in partition order. It must be idempotent: a batch that fails is replayed one record at a
        time (the failing one retried alone, then dead-lettered), and a crash before the commit
        replays the whole batch.
        """

        def register(handler: BatchHandler) -> BatchHandler:
            for model in models:
                self._routes[model.EVENT_TYPE] = _Route(model, batch=handler)
            return handler

        return register

    @property
    def event_types(self) -> list[str]:
        return sorted(self._routes)

    @property
    def topics(self) -> list[str]:
        return sorted({route.model.TOPIC for route in self._routes.values()})

    def route(self, event_type: str) -> _Route | None:
        return self._routes.get(event_type)

    async def dispatch(self, envelope: Envelope, data: EventData) -> bool:
        """Run the handler for this event; False if the service does not consume this type."""
        route = self._routes.get(envelope.event_type)
        if route is None:
            return False
        if route.handler is not None:
            await route.handler(envelope, data)
        elif route.batch is not None:
            await route.batch([Received(envelope, data, _NO_RECORD)])
        return True

    def attach(
        self,
        settings: ServiceSettings,
        metrics: ConsumerMetrics,
        health: ConsumerHealth,
        dead_letters: DeadLetterPublish,
        *,
        auto_offset_reset: str = "earliest",
        group_id: str | None = None,
        start_from_group: str | None = None,
    ) -> BatchConsumer | None:
        topics = [settings.topic(name) for name in self.topics]
        if not topics:
            return None
        self.consumer = BatchConsumer(
            self,
            topics,
            settings,
            metrics,
            health,
            dead_letters,
            group_id=group_id or settings.group_id,
            auto_offset_reset=auto_offset_reset,
            start_from_group=start_from_group,
            max_records=self.max_records,
        )
        metrics.consumers.append(self.consumer)
        return self.consumer


# (body, topic, key, headers): how the consumer sends a dead letter (the runtime's broker).
DeadLetterPublish = Callable[[bytes, str, bytes | None, dict[str, str]], Awaitable[None]]
_NO_RECORD: Any = None


class _Stopping(Exception):
    """The service is stopping while a handler keeps failing: leave the record uncommitted."""


# How long the broker may hold a fetch that finds no new records (aiokafka's default: 500 ms).
# aiokafka sends no fetch to a broker while one is in flight there, and it fetches the idle
# partitions as soon as a busy partition's records have waited 0.1 s in its buffer: when a poll
# takes longer than that, the busy partition's next records wait for the idle partitions' held
# fetch, up to this long (a stall of ~0.45 s per backlog of a poll or two, seen in
# bench/consumer_bench.py). Idle, a consumer sends one fetch per this interval: an idle feedback or
# notifier process used 1.3-1.6% of a core with it, 0.9-1.1% with 500 ms (docs/performance.md).
FETCH_MAX_WAIT_MS = 100
# How long a consumer with `start_from_group` keeps asking for the other group's offsets while Kafka
# answers with a retriable error (a coordinator not elected yet) before the start fails.
START_OFFSETS_PATIENCE_SECONDS = 90.0


def _consumer_security(settings: ServiceSettings) -> dict[str, Any]:
    return aiokafka_security(settings)


class BatchConsumer:
    """One aiokafka consumer per router: poll, apply each partition's records in order, commit once.

    Per poll and partition, consecutive records for one batch handler go to it in one call; a
    single-record handler gets its records one by one. Offsets are committed after the whole poll
    was applied (or dead-lettered). A batch that raises is replayed record by record: the failing
    record is retried alone with backoff and then dead-lettered, the others are applied in order.
    If even the dead-lettering fails (Kafka down), the partition is rewound to that record.

    `start_from_group`: a partition this group never committed starts where that other group had
    committed when the consumer started (read once, before any consumer of the process polls), or
    where `auto_offset_reset` says if it had not either; the starting offset is committed at once,
    so this happens only on the group's very first assignment of the partition. It lets a new group
    take over part of an existing group's work (the notifier's board calls) without reading the
    retained records again.
    """

    def __init__(
        self,
        router: EventRouter,
        topics: list[str],
        settings: ServiceSettings,
        metrics: ConsumerMetrics,
        health: ConsumerHealth,
        dead_letters: DeadLetterPublish,
        *,
        group_id: str,
        auto_offset_reset: str,
        max_records: int = 500,
        start_from_group: str | None = None,
    ) -> None:
        self.router = router
        self.topics = topics
        self.settings = settings
        self.metrics = metrics
        self.health = health
        self.dead_letters = dead_letters
        self.group_id = group_id
        self.auto_offset_reset = auto_offset_reset
        self.max_records = max_records
        self.start_from_group = start_from_group
        self.start_offsets: dict[TopicPartition, int] | None = None
        self.consumer: AIOKafkaConsumer | None = None
        self.committed: dict[TopicPartition, int] = {}
        self.polls = 0
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def read_start_offsets(self) -> None:
        """What `start_from_group` has committed on this consumer's topics, read now (the runtime
        calls it before starting any consumer: the process's own consumers must not have moved the
        other group yet). Raises when Kafka does not answer: better not start than read it all again."""
        if self.start_from_group is None:
            return
        # A broker starting, or the group coordinator moving (a fresh cluster's offsets topic not
        # ready yet): retriable, for a while, before the start gives up.
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(lambda error: getattr(error, "retriable", False)),
            wait=wait_exponential(multiplier=0.2, max=3),
            stop=stop_after_delay(START_OFFSETS_PATIENCE_SECONDS),
            before_sleep=lambda state: log.warning(
                "reading the other group's offsets failed, retrying",
                group=self.start_from_group,
                attempt=state.attempt_number,
                error=repr(state.outcome.exception() if state.outcome else None),
            ),
            reraise=True,
        ):
            with attempt:
                offsets = await self._committed_by(self.start_from_group)
        self.start_offsets = {
            tp: meta.offset for tp, meta in offsets.items() if tp.topic in self.topics and meta.offset >= 0
        }

    async def _committed_by(self, group: str) -> dict[TopicPartition, Any]:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.settings.kafka_bootstrap, **_consumer_security(self.settings)
        )
        await admin.start()
        try:
            offsets: dict[TopicPartition, Any] = await admin.list_consumer_group_offsets(group)
        finally:
            await close_within(admin.close(), "admin client")
        return offsets

    async def start(self) -> None:
        if self.start_from_group is not None and self.start_offsets is None:
            await self.read_start_offsets()
        self._stopping = False
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            client_id=f"onewindow-{self.settings.service_name}",
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset=self.auto_offset_reset,
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
            **_consumer_security(self.settings),
        )
        self.consumer.subscribe(self.topics, listener=_Rebalance(self))
        await self.consumer.start()
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.group_id}")

    async def stop(self, timeout: float = 15.0) -> None:
        """Let the batch in hand finish and commit, then leave the group."""
        self._stopping = True
        if self._task is not None:
            done, _ = await asyncio.wait([self._task], timeout=timeout)
            if not done:
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.consumer is not None:
            with contextlib.suppress(Exception):
                await close_within(self.consumer.stop(), f"consumer {self.group_id}")

    def assignment(self) -> set[TopicPartition]:
        return set(self.consumer.assignment()) if self.consumer is not None else set()

    def lag(self) -> dict[tuple[str, int], int]:
        """End offset minus committed offset per assigned partition (as of the last fetch)."""
        out: dict[tuple[str, int], int] = {}
        if self.consumer is None:
            return out
        for tp in self.assignment():
            high = self.consumer.highwater(tp)
            if high is None:
                continue
            out[(tp.topic, tp.partition)] = max(0, high - self.committed.get(tp, 0))
        return out

    async def _run(self) -> None:
        assert self.consumer is not None
        while not self._stopping:
            try:
                batches = await self.consumer.getmany(timeout_ms=500, max_records=self.max_records)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a broker hiccup: aiokafka reconnects by itself
                log.warning("poll failed", error=repr(error))
                await asyncio.sleep(1.0)
                continue
            if not batches:
                continue
            self.polls += 1
            async with self._lock:
                await self._apply_poll(batches)

    async def _apply_poll(self, batches: dict[TopicPartition, list[ConsumerRecord[Any, Any]]]) -> None:
        assert self.consumer is not None
        offsets: dict[TopicPartition, int] = {}
        try:
            for tp, records in batches.items():
                if tp not in self.consumer.assignment():
                    continue  # revoked while we polled: the new owner reads it
                self.metrics.batch_sizes.observe(len(records))
                self.health.touch(len(records))
                done = await self._apply_partition(tp, records)
                if done is not None:
                    offsets[tp] = done
        finally:
            if offsets:
                await self._commit(offsets)

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        assert self.consumer is not None
        try:
            await self.consumer.commit(offsets)
        except Exception as error:  # rebalanced away: the new owner replays, handlers are idempotent
            log.warning("offset commit failed", error=repr(error))
            return
        self.committed.update(offsets)

    async def _apply_partition(
        self, tp: TopicPartition, records: list[ConsumerRecord[Any, Any]]
    ) -> int | None:
        """Apply one partition's records in order; the offset to commit (None: nothing applied)."""
        assert self.consumer is not None
        done: int | None = None
        for segment in self._segments(records):
            try:
                await self._apply_segment(segment)
            except _Stopping:
                self.consumer.seek(tp, segment.first_offset)
                return done
            except Exception as error:
                log.error("partition rewound", topic=tp.topic, partition=tp.partition, error=repr(error))
                self.consumer.seek(tp, segment.first_offset)
                return done
            done = segment.last_offset + 1
        return done

    def _segments(self, records: list[ConsumerRecord[Any, Any]]) -> list[_Segment]:
        segments: list[_Segment] = []
        for record in records:
            segment = _Segment(record.offset, record.offset)
            declared = _event_type_header(record)
            try:
                if declared is not None and self.router.route(declared) is None:
                    # Not ours (a topic shared with events this service does not handle, such as
                    # its own): the header says so, no need to decode the body.
                    raise _NotRouted(declared)
                envelope, data = decode(record.value)
            except _NotRouted as skipped:
                self.metrics.handled.labels(skipped.event_type, "ignored").inc()
            except UnknownEvent as unknown:
                self.metrics.handled.labels(unknown.envelope.event_type, "skipped").inc()
            except MalformedEvent as error:
                segment.malformed = (record, error)
            else:
                route = self.router.route(envelope.event_type)
                if route is None:
                    self.metrics.handled.labels(envelope.event_type, "ignored").inc()
                else:
                    segment.route = route
                    segment.items.append(Received(envelope, data, record))
            last = segments[-1] if segments else None
            if (
                last is not None
                and segment.route is not None
                and segment.route.batch is not None
                and last.route is not None
                and last.route.batch is segment.route.batch
            ):
                last.items += segment.items
                last.last_offset = record.offset
            elif last is not None and segment.route is None and segment.malformed is None:
                last.last_offset = record.offset  # a skipped record rides along with the one before
            else:
                segments.append(segment)
        return segments

    async def _apply_segment(self, segment: _Segment) -> None:
        if segment.malformed is not None:
            record, error = segment.malformed
            await self.dead_letter(record, error, attempts=0)
            return
        route = segment.route
        if route is None or not segment.items:
            return
        if route.batch is not None:
            started = time.perf_counter()
            try:
                await route.batch(segment.items)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning(
                    "batch failed, replaying it record by record", size=len(segment.items), error=repr(error)
                )
            else:
                self._handled(segment.items, time.perf_counter() - started)
                return
            batch = route.batch
            for item in segment.items:
                await self._with_retries(item, lambda item=item: batch([item]))  # type: ignore[misc]
            return
        handler = route.handler
        assert handler is not None
        for item in segment.items:
            await self._with_retries(item, lambda item=item: handler(item.envelope, item.data))  # type: ignore[misc]

    def _handled(self, items: Sequence[Received], seconds: float) -> None:
        each = seconds / max(1, len(items))
        for item in items:
            envelope = item.envelope
            self.metrics.handled.labels(envelope.event_type, "handled").inc()
            self.metrics.seconds.labels(envelope.event_type).observe(each)
            log.info(
                "event handled",
                correlation_id=envelope.correlation_id,
                office_id=envelope.office_id,
                event_type=envelope.event_type,
                event_id=str(envelope.event_id),
            )

    async def _with_retries(self, item: Received, run: Callable[[], Awaitable[None]]) -> None:
        envelope = item.envelope
        bound = structlog.contextvars.bound_contextvars(
            correlation_id=envelope.correlation_id,
            office_id=envelope.office_id,
            event_type=envelope.event_type,
            event_id=str(envelope.event_id),
        )
        with bound:
            attempts = 0
            started = time.perf_counter()
            while True:
                attempts += 1
                try:
                    await run()
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    if attempts <= self.settings.handler_retries:
                        if self._stopping:
                            raise _Stopping() from error
                        log.warning("event handler failed, retrying", attempt=attempts, error=repr(error))
                        await asyncio.sleep(self.settings.handler_backoff_seconds * 2 ** (attempts - 1))
                        continue
                    log.error("event handler failed, dead-lettered", attempts=attempts, error=repr(error))
                    self.metrics.handled.labels(envelope.event_type, "dead_lettered").inc()
                    await self.dead_letter(item.record, error, attempts=attempts)
                    return
                self._handled([item], time.perf_counter() - started)
                return

    async def dead_letter(
        self, record: ConsumerRecord[Any, Any], error: BaseException, attempts: int
    ) -> None:
        """Original bytes and headers plus error headers; raising here (Kafka down) rewinds the partition."""
        headers = {key: value.decode(errors="replace") for key, value in (record.headers or ())}
        headers.update(
            {
                "dlt.error": str(error)[:1000],
                "dlt.error_type": type(error).__name__,
                "dlt.stack": "".join(traceback.format_exception(error))[-2000:],
                "dlt.topic": record.topic,
                "dlt.partition": str(record.partition),
                "dlt.offset": str(record.offset),
                "dlt.group": self.group_id,
                "dlt.attempts": str(attempts),
            }
        )
        await self.dead_letters(record.value, f"{record.topic}.dlt", record.key, headers)
        self.metrics.dead_letters.labels(record.topic).inc()
        log.error("message dead-lettered", topic=record.topic, offset=record.offset, error=str(error)[:300])


class _NotRouted(Exception):
    def __init__(self, event_type: str) -> None:
        self.event_type = event_type


def _event_type_header(record: ConsumerRecord[Any, Any]) -> str | None:
    for key, value in record.headers or ():
        if key == "event_type":
            return bytes(value).decode(errors="replace")
    return None


@dataclass
class _Segment:
    """Consecutive records of one partition that are applied together (or one record alone)."""

    first_offset: int
    last_offset: int
    route: _Route | None = None
    items: list[Received] = field(default_factory=list)
    malformed: tuple[ConsumerRecord[Any, Any], MalformedEvent] | None = None


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Revocation waits for the batch in hand (it commits first); assignment reads the committed
    offsets, so the lag is right from the start."""

    def __init__(self, owner: BatchConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: Any) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.owner._lock.acquire(), timeout=30)
            self.owner._lock.release()
        for tp in revoked:
            self.owner.committed.pop(tp, None)
        self.owner.router.partitions_moved(revoked)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self.owner.router.partitions_moved(assigned)
        consumer = self.owner.consumer
        if consumer is None:
            return
        # Nothing of these partitions is fetched or handed over until each has its start: while
        # this awaits the broker for one partition, the consumer's own loop would otherwise poll
        # another from where the reset policy puts a group without offsets (its beginning).
        consumer.pause(*assigned)
        try:
            for tp in assigned:
                try:
                    committed = await consumer.committed(tp)
                    if committed is None and self.owner.start_from_group is not None:
                        committed = await self._first_start(consumer, tp)
                    self.owner.committed[tp] = committed or 0
                except Exception as error:  # the consumer resolves its position itself, said here
                    log.warning(
                        "start of an assigned partition not settled",
                        group=self.owner.group_id,
                        topic=tp.topic,
                        partition=tp.partition,
                        error=repr(error),
                    )
        finally:
            for tp in assigned:
                with contextlib.suppress(Exception):  # no longer assigned: nothing to resume
                    consumer.resume(tp)
        with contextlib.suppress(Exception):  # unknown: every record counts as possibly read before
            ends = await consumer.end_offsets(list(assigned))
            self.owner.router.partitions_assigned_at(
                {(tp.topic, tp.partition): end for tp, end in ends.items()}
            )

    async def _first_start(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> int:
        """The group never committed this partition: start where the other group was, else where the
        reset policy says, and commit that at once (a restart before the first batch must not look
        at the other group again: it has moved on meanwhile)."""
        owner = self.owner
        offset = (owner.start_offsets or {}).get(tp)
        if offset is None:
            ends = await (
                consumer.end_offsets([tp])
                if owner.auto_offset_reset == "latest"
                else consumer.beginning_offsets([tp])
            )
            offset = ends[tp]
        consumer.seek(tp, offset)
        await consumer.commit({tp: offset})
        log.info(
            "new consumer group starts a partition",
            group=owner.group_id,
            topic=tp.topic,
            partition=tp.partition,
            offset=offset,
            start_from_group=owner.start_from_group if tp in (owner.start_offsets or {}) else None,
        )
        return offset
