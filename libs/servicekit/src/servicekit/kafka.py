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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import KafkaError
from contracts import Envelope, EventData
from contracts.registry import MalformedEvent, UnknownEvent, decode, encode, partition_key, topic_for
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.security import SASLScram512
from prometheus_client import CollectorRegistry, Counter, Histogram

from servicekit.settings import ServiceSettings

log = structlog.get_logger("servicekit.kafka")

Handler = Callable[[Envelope, Any], Awaitable[None]]


def create_broker(settings: ServiceSettings, registry: CollectorRegistry) -> KafkaBroker:
    security = None
    if settings.kafka_sasl_username:
        security = SASLScram512(
            username=settings.kafka_sasl_username,
            password=settings.kafka_sasl_password.get_secret_value(),
            use_ssl=settings.kafka_use_ssl,
        )
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=f"onewindow-{settings.service_name}",
        acks="all",
        enable_idempotence=True,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        graceful_timeout=15.0,
        middlewares=[KafkaPrometheusMiddleware(registry=registry, app_name=settings.service_name)],
        logger=None,
        security=security,
    )


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
        extra: dict[str, Any] = {}
        if self.settings.kafka_sasl_username:
            extra = {
                "security_protocol": "SASL_SSL" if self.settings.kafka_use_ssl else "SASL_PLAINTEXT",
                "sasl_mechanism": "SCRAM-SHA-512",
                "sasl_plain_username": self.settings.kafka_sasl_username,
                "sasl_plain_password": self.settings.kafka_sasl_password.get_secret_value(),
            }
        return AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            client_id=f"onewindow-{self.settings.service_name}-outbox",
            enable_idempotence=True,
            acks="all",
            request_timeout_ms=15000,
            **extra,
        )

    async def start(self) -> None:
        self._producer = self._new()
        await self._producer.start()

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()

    async def _rebuild(self, broken: Any) -> None:
        async with self._lock:
            if self._producer is not broken:
                return  # another task rebuilt it already
            log.warning("rebuilding the outbox producer", failures=self.consecutive_failures)
            stop = getattr(broken, "stop", None)
            if stop is not None:
                with contextlib.suppress(Exception):
                    await stop()
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


@dataclass
class ConsumerHealth:
    """What readiness needs to know of the consumers: assigned and still receiving."""

    started_at: float = field(default_factory=time.monotonic)
    last_message_at: float | None = None
    handled: int = 0

    def touch(self) -> None:
        self.last_message_at = time.monotonic()
        self.handled += 1


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


class EventRouter:
    """Typed handlers by event type; `attach` subscribes one consumer per topic for the service."""

    def __init__(self) -> None:
        self._handlers: dict[str, tuple[type[EventData], Handler]] = {}
        self.subscriber: Any = None

    def on(self, model: type[EventData]) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self._handlers[model.EVENT_TYPE] = (model, handler)
            return handler

        return register

    @property
    def event_types(self) -> list[str]:
        return sorted(self._handlers)

    @property
    def topics(self) -> list[str]:
        return sorted({model.TOPIC for model, _ in self._handlers.values()})

    async def dispatch(self, envelope: Envelope, data: EventData) -> bool:
        """Run the handler for this event; False if the service does not consume this type."""
        entry = self._handlers.get(envelope.event_type)
        if entry is None:
            return False
        await entry[1](envelope, data)
        return True

    def attach(
        self,
        broker: KafkaBroker,
        settings: ServiceSettings,
        metrics: ConsumerMetrics,
        health: ConsumerHealth,
        *,
        auto_offset_reset: str = "earliest",
        group_id: str | None = None,
    ) -> None:
        topics = [settings.topic(name) for name in self.topics]
        if not topics:
            return
        consumer = _Consumer(self, broker, settings, metrics, health)

        self.subscriber = broker.subscriber(  # type: ignore[call-overload]
            *topics,
            group_id=group_id or settings.group_id,
            auto_offset_reset=auto_offset_reset,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            max_poll_records=100,
        )

        @self.subscriber  # type: ignore[untyped-decorator]
        async def consume(message: KafkaMessage) -> None:
            # The raw bytes: a malformed message must reach the dead letters exactly as it came.
            await consumer.handle(message.body, message.raw_message)


class _Consumer:
    def __init__(
        self,
        router: EventRouter,
        broker: KafkaBroker,
        settings: ServiceSettings,
        metrics: ConsumerMetrics,
        health: ConsumerHealth,
    ) -> None:
        self.router = router
        self.broker = broker
        self.settings = settings
        self.metrics = metrics
        self.health = health

    async def handle(self, body: bytes, record: ConsumerRecord[Any, Any]) -> None:
        self.health.touch()
        try:
            envelope, data = decode(body)
        except UnknownEvent as unknown:
            self.metrics.handled.labels(unknown.envelope.event_type, "skipped").inc()
            return
        except MalformedEvent as error:
            await self.dead_letter(body, record, error, attempts=0)
            return
        bound = structlog.contextvars.bound_contextvars(
            correlation_id=envelope.correlation_id,
            office_id=envelope.office_id,
            event_type=envelope.event_type,
            event_id=str(envelope.event_id),
        )
        with bound:
            await self._handle_with_retries(body, record, envelope, data)

    async def _handle_with_retries(
        self, body: bytes, record: ConsumerRecord[Any, Any], envelope: Envelope, data: EventData
    ) -> None:
        attempts = 0
        started = time.perf_counter()
        while True:
            attempts += 1
            try:
                handled = await self.router.dispatch(envelope, data)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if attempts <= self.settings.handler_retries:
                    log.warning("event handler failed, retrying", attempt=attempts, error=repr(error))
                    await asyncio.sleep(self.settings.handler_backoff_seconds * 2 ** (attempts - 1))
                    continue
                log.error("event handler failed, dead-lettered", attempts=attempts, error=repr(error))
                self.metrics.handled.labels(envelope.event_type, "dead_lettered").inc()
                await self.dead_letter(body, record, error, attempts=attempts)
                return
            outcome = "handled" if handled else "ignored"
            self.metrics.handled.labels(envelope.event_type, outcome).inc()
            self.metrics.seconds.labels(envelope.event_type).observe(time.perf_counter() - started)
            if handled:
                log.info("event handled", attempts=attempts)
            return

    async def dead_letter(
        self, body: bytes, record: ConsumerRecord[Any, Any], error: BaseException, attempts: int
    ) -> None:
        """Original bytes and headers plus error headers; raising here (Kafka down) nacks the message."""
        headers = {key: value.decode(errors="replace") for key, value in (record.headers or ())}
        headers.update(
            {
                "dlt.error": str(error)[:1000],
                "dlt.error_type": type(error).__name__,
                "dlt.stack": "".join(traceback.format_exception(error))[-2000:],
                "dlt.topic": record.topic,
                "dlt.partition": str(record.partition),
                "dlt.offset": str(record.offset),
                "dlt.group": self.settings.group_id,
                "dlt.attempts": str(attempts),
            }
        )
        await self.broker.publish(body, f"{record.topic}.dlt", key=record.key, headers=headers)
        self.metrics.dead_letters.labels(record.topic).inc()
        log.error("message dead-lettered", topic=record.topic, offset=record.offset, error=str(error)[:300])
