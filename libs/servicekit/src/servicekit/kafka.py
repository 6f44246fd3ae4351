"""Kafka broker factory and the event router every service consumes through.

Commit after the handler (never FastStream's ACK_FIRST), an idempotent producer with acks=all,
bounded retries with backoff, then the original bytes plus error headers go to `<topic>.dlt`
and the partition keeps moving. Unknown event types are skipped (forward compatibility).
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import ConsumerRecord
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


async def publish_event(broker: KafkaBroker, settings: ServiceSettings, envelope: Envelope) -> None:
    """Publish one event to its topic, keyed as the registry says, envelope fields as headers."""
    await broker.publish(
        encode(envelope),
        settings.topic(topic_for(envelope.event_type).name),
        key=partition_key(envelope),
        headers=envelope.headers(),
        correlation_id=envelope.correlation_id,
    )


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
