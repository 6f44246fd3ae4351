"""pytest fixtures: real Kafka and a real Mongo-wire store, fresh topics and database per test.

A Docker engine that answers -> testcontainers (Kafka, MongoDB); otherwise the project's own local
infrastructure (deploy/local/infra.sh up), found through ONEWINDOW_KAFKA / ONEWINDOW_MONGO_URL.
Enabled by `pytest_plugins = ["servicekit.testing"]` in the root conftest.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from contracts import Envelope
from contracts.registry import MalformedEvent, UnknownEvent, decode, encode, partition_key, topic_for
from contracts.topics import create_topics, delete_topics
from fastapi import FastAPI

from servicekit.auth import Role, issue_token
from servicekit.sealing import generate_keypair
from servicekit.settings import ServiceSettings
from servicekit.store import connect

S = TypeVar("S", bound=ServiceSettings)
T = TypeVar("T")


@dataclass(frozen=True)
class Infra:
    kafka: str
    mongo_url: str
    source: str


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


def _reachable(address: str) -> bool:
    host, _, port = address.rpartition(":")
    with contextlib.suppress(OSError), socket.create_connection((host or "127.0.0.1", int(port)), timeout=2):
        return True
    return False


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    if os.environ.get("ONEWINDOW_TEST_INFRA", "auto") != "local" and _docker_answers():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.mongodb import MongoDbContainer

        with KafkaContainer().with_kraft() as container, MongoDbContainer("mongo:7") as mongo:
            yield Infra(container.get_bootstrap_server(), mongo.get_connection_url(), "testcontainers")
        return
    kafka = os.environ.get("ONEWINDOW_KAFKA", "127.0.0.1:9092")
    mongo_url = os.environ.get("ONEWINDOW_MONGO_URL", "mongodb://127.0.0.1:27017")
    mongo_address = mongo_url.split("//", 1)[-1].split("/", 1)[0].split("@")[-1]
    for name, address in (("Kafka", kafka), ("the Mongo-wire store", mongo_address)):
        if not _reachable(address):
            pytest.fail(
                f"{name} is not reachable at {address}: run `make up-infra` (deploy/local/infra.sh up)"
            )
    yield Infra(kafka, mongo_url, "local")


@pytest.fixture
async def topic_prefix(infra: Infra) -> AsyncIterator[str]:
    """Fresh topics for one test, deleted afterwards (thousands of partitions slow a broker down)."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    await create_topics(
        infra.kafka, partitions=int(os.environ.get("ONEWINDOW_TEST_PARTITIONS", "2")), prefix=prefix
    )
    yield prefix
    with contextlib.suppress(Exception):
        await delete_topics(infra.kafka, prefix)


@pytest.fixture(scope="session")
def keypair() -> tuple[str, str]:
    return generate_keypair()


@pytest.fixture
async def make_settings(
    infra: Infra, topic_prefix: str, keypair: tuple[str, str]
) -> AsyncIterator[Callable[..., Any]]:
    """`make_settings(Settings, **overrides)`: settings on the test's topics and databases."""
    databases: list[str] = []
    secret = uuid.uuid4().hex + uuid.uuid4().hex

    def make(kind: type[S], **overrides: Any) -> S:
        values: dict[str, Any] = {
            "ONEWINDOW_KAFKA": infra.kafka,
            "ONEWINDOW_MONGO_URL": infra.mongo_url,
            "ONEWINDOW_TOPIC_PREFIX": topic_prefix,
            "ONEWINDOW_JWT_SECRET": secret,
            "ONEWINDOW_NOTIFIER_PUBLIC_KEY": keypair[0],
            "ONEWINDOW_OUTBOX_SWEEP_SECONDS": 0.5,
            "ONEWINDOW_HANDLER_BACKOFF": 0.05,
        }
        values.update(overrides)
        settings = kind.model_validate(values)
        if "mongo_db" not in overrides:
            settings = settings.model_copy(
                update={"mongo_db": f"{topic_prefix.strip('.')}_{settings.service_name}"}
            )
        databases.append(settings.database_name)
        return settings

    yield make
    client = connect(infra.mongo_url, app_name="tests")
    for name in set(databases):
        with contextlib.suppress(Exception):
            await client.drop_database(name)
    await client.close()


@pytest.fixture
async def mongo_db(infra: Infra) -> AsyncIterator[Any]:
    client = connect(infra.mongo_url, app_name="tests")
    name = f"t{uuid.uuid4().hex[:12]}"
    try:
        yield client[name]
    finally:
        with contextlib.suppress(Exception):
            await client.drop_database(name)
        await client.close()


@contextlib.asynccontextmanager
async def running(app: FastAPI, base_url: str = "http://test") -> AsyncIterator[httpx.AsyncClient]:
    """Run an app's lifespan (broker, relay, consumers) and talk to it over ASGI."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url, timeout=30) as client:
            yield client


class EventProbe:
    """Reads topics from the beginning (own group) and waits for the events a test expects."""

    def __init__(self, bootstrap: str, topics: list[str], security: Mapping[str, Any] | None = None) -> None:
        """`security`: client settings of a secured broker (`contracts.topics.admin_security`)."""
        self.consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap,
            group_id=f"probe-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            **(security or {}),
        )
        self.seen: list[tuple[Envelope, Any, str, bytes | None]] = []
        self.raw: list[Any] = []

    async def start(self) -> EventProbe:
        await self.consumer.start()
        return self

    async def stop(self) -> None:
        await self.consumer.stop()

    async def _poll(self, timeout: float) -> None:
        batches = await self.consumer.getmany(timeout_ms=int(timeout * 1000), max_records=500)
        for records in batches.values():
            for record in records:
                self.raw.append(record)
                with contextlib.suppress(MalformedEvent, UnknownEvent):
                    envelope, data = decode(record.value)
                    self.seen.append((envelope, data, record.topic, record.key))

    async def wait_for(
        self, predicate: Callable[[Envelope], bool], *, count: int = 1, timeout: float = 30.0
    ) -> list[Envelope]:
        deadline = time.monotonic() + timeout
        while True:
            found = [envelope for envelope, *_ in self.seen if predicate(envelope)]
            if len(found) >= count:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                types = [envelope.event_type for envelope, *_ in self.seen]
                raise AssertionError(f"expected {count} matching events within {timeout}s; saw {types}")
            await self._poll(min(left, 0.5))

    def of_type(self, event_type: str) -> list[Envelope]:
        return [envelope for envelope, *_ in self.seen if envelope.event_type == event_type]


@contextlib.asynccontextmanager
async def probe(infra: Infra, *topics: str) -> AsyncIterator[EventProbe]:
    watcher = await EventProbe(infra.kafka, list(topics)).start()
    try:
        yield watcher
    finally:
        await watcher.stop()


# ---------------------------------------------------------------- helpers for tests


async def eventually(
    check: Callable[[], Awaitable[T] | T],
    accept: Callable[[T], object] = bool,
    *,
    within: float = 30.0,
    what: str = "condition",
    interval: float = 0.1,
) -> T:
    """Poll `check()` (sync or async) until `accept(value)` holds; return that value, or fail with
    the last value seen once `within` seconds have passed (never a blind sleep)."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if accept(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {within}s; last value {value!r}")
        await asyncio.sleep(interval)


class Publisher:
    """Publishes as the producing services do: topic from the registry under the test's prefix,
    keyed by office, with the envelope headers; `raw` sends any bytes (poison, replays)."""

    def __init__(self, bootstrap: str, topic_prefix: str) -> None:
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
        self.prefix = topic_prefix

    async def event(self, envelope: Envelope) -> bytes:
        body = encode(envelope)
        headers = [(k, v.encode()) for k, v in envelope.headers().items()]
        await self.raw(topic_for(envelope.event_type).name, body, partition_key(envelope), headers)
        return body

    async def raw(
        self, topic: str, body: bytes, key: bytes | None, headers: list[tuple[str, bytes]] | None = None
    ) -> None:
        await self.producer.send_and_wait(self.prefix + topic, body, key=key, headers=headers)


@contextlib.asynccontextmanager
async def publishing(bootstrap: str, topic_prefix: str) -> AsyncIterator[Publisher]:
    publisher = Publisher(bootstrap, topic_prefix)
    await publisher.producer.start()
    try:
        yield publisher
    finally:
        await publisher.producer.stop()


async def publish(bootstrap: str, topic_prefix: str, envelopes: list[Envelope]) -> None:
    async with publishing(bootstrap, topic_prefix) as publisher:
        for envelope in envelopes:
            await publisher.event(envelope)


@pytest.fixture
async def publisher(infra: Infra, topic_prefix: str) -> AsyncIterator[Publisher]:
    async with publishing(infra.kafka, topic_prefix) as publisher:
        yield publisher


def staff_headers(
    settings: ServiceSettings, role: Role, office_id: str | None, subject: str | None = None
) -> dict[str, str]:
    """A bearer token of a staff member with `role`, bound to `office_id` (None: a city-wide one)."""
    token = issue_token(
        settings.jwt_secret.get_secret_value(), subject=subject or f"{role}-1", role=role, office_id=office_id
    )
    return {"Authorization": f"Bearer {token}"}
