"""Batch handlers against the real broker: order, poison in the middle, commits, lag on /metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    GroupCoordinatorNotAvailableError,
    KafkaConnectionError,
)
from contracts import Envelope, new_event
from contracts.ticketing import WindowClosed, WindowOpened
from servicekit.kafka import EventRouter, Received
from servicekit.runtime import ServiceRuntime
from servicekit.settings import ServiceSettings
from servicekit.testing import Infra, eventually, probe, running


def opened(office: str, window: int) -> Envelope:
    return new_event(
        WindowOpened(window_no=window, zone_id="z1", operator_ref="op", service_ids=["s1"]),
        producer="test",
        office_id=office,
        aggregate_id=f"{office}:{window}",
        aggregate_version=1,
    )


async def produce(infra: Infra, topic: str, payloads: list[bytes], partition: int = 0) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka)
    await producer.start()
    try:
        batch = [
            await producer.send(topic, payload, key=b"o1", partition=partition, headers=[("source", b"test")])
            for payload in payloads
        ]
        await asyncio.gather(*batch)
    finally:
        await producer.stop()


async def committed(infra: Infra, group: str, topic: str, partition: int = 0) -> int | None:
    checker = AIOKafkaConsumer(bootstrap_servers=infra.kafka, group_id=group, enable_auto_commit=False)
    await checker.start()
    try:
        offset: int | None = await checker.committed(TopicPartition(topic, partition))
        return offset
    finally:
        await checker.stop()


async def test_a_poison_record_in_a_batch_is_dead_lettered_alone_and_the_rest_applied_in_order(
    infra: Infra, make_settings: Any
) -> None:
    settings = make_settings(ServiceSettings, service_name="kit", ONEWINDOW_HANDLER_RETRIES=2)
    runtime = ServiceRuntime(settings)
    router = EventRouter()
    applied: list[int] = []
    batch_sizes: list[int] = []
    closed: list[int] = []
    done = asyncio.Event()

    @router.on_batch(WindowOpened)
    async def on_opened(received: Sequence[Received]) -> None:
        batch_sizes.append(len(received))
        windows = [item.data.window_no for item in received]
        if 13 in windows:
            raise RuntimeError("window 13 breaks the handler")
        # Idempotent as batch handlers must be: a replayed record is applied once.
        applied.extend(w for w in windows if w not in applied)
        if len(applied) == 19:
            done.set()

    @router.on(WindowClosed)  # a single-record handler on the same topic keeps its place in the order
    async def on_closed(_: Envelope, data: WindowClosed) -> None:
        closed.append(len(applied))

    runtime.consume(router)
    topic = settings.topic("ticketing.window")
    closing = new_event(
        WindowClosed(window_no=99, zone_id="z1", operator_ref="op"),
        producer="test",
        office_id="o1",
        aggregate_id="o1:99",
        aggregate_version=2,
    )
    payloads = [opened("o1", n).model_dump_json().encode() for n in range(1, 11)]
    payloads.append(closing.model_dump_json().encode())
    payloads += [opened("o1", n).model_dump_json().encode() for n in range(11, 21)]
    await produce(infra, topic, payloads)  # all present before the consumer's first poll
    await runtime.start()
    try:
        await asyncio.wait_for(done.wait(), timeout=60)
        assert applied == [n for n in range(1, 21) if n != 13]
        assert closed == [10]  # after windows 1-10, before 11-20
        assert batch_sizes[0] == 10  # one call for the whole run of records before the closing
        async with probe(infra, f"{topic}.dlt") as watcher:
            while not watcher.raw:
                await watcher._poll(1.0)
            [dead] = watcher.raw
            headers = {k: v.decode() for k, v in dead.headers}
            assert dead.value == payloads[13]  # the original bytes of window 13
            assert headers["dlt.error_type"] == "RuntimeError" and headers["dlt.attempts"] == "3"
            assert (headers["dlt.topic"], headers["dlt.offset"]) == (topic, "13")
            assert headers["source"] == "test"  # the record's own headers are kept
    finally:
        await runtime.stop()
    assert await committed(infra, settings.group_id, topic) == len(payloads)


async def test_a_batch_that_was_applied_but_not_committed_is_replayed_after_a_crash(
    infra: Infra, make_settings: Any
) -> None:
    settings = make_settings(ServiceSettings, service_name="kit")
    topic = settings.topic("ticketing.window")
    await produce(infra, topic, [opened("o1", n).model_dump_json().encode() for n in range(1, 6)])
    seen: list[list[int]] = []

    def build() -> tuple[ServiceRuntime, asyncio.Event]:
        runtime = ServiceRuntime(settings)
        router = EventRouter()
        all_seen = asyncio.Event()

        @router.on_batch(WindowOpened)
        async def on_opened(received: Sequence[Received]) -> None:
            seen.append([item.data.window_no for item in received])
            if sum(map(len, seen)) % 5 == 0:
                all_seen.set()

        runtime.consume(router)
        return runtime, all_seen

    crashing, first_seen = build()

    async def crash_before_commit(offsets: Any) -> None:
        raise asyncio.CancelledError()  # the process dies between applying and committing

    assert crashing.routers[0].consumer is not None
    crashing.routers[0].consumer._commit = crash_before_commit  # type: ignore[method-assign]
    await crashing.start()
    try:
        await asyncio.wait_for(first_seen.wait(), timeout=60)
    finally:
        await crashing.stop()
    assert await committed(infra, settings.group_id, topic) is None

    restarted, second_seen = build()
    await restarted.start()
    try:
        await asyncio.wait_for(second_seen.wait(), timeout=60)
    finally:
        await restarted.stop()
    assert [w for batch in seen for w in batch] == [1, 2, 3, 4, 5] * 2  # replayed whole, in order
    assert await committed(infra, settings.group_id, topic) == 5


async def test_consumer_lag_per_group_and_partition_is_on_metrics(infra: Infra, make_settings: Any) -> None:
    settings = make_settings(ServiceSettings, service_name="kit")
    runtime = ServiceRuntime(settings)
    router = EventRouter()
    release = asyncio.Event()
    first = asyncio.Event()

    @router.on_batch(WindowOpened)
    async def on_opened(received: Sequence[Received]) -> None:
        first.set()
        await release.wait()

    runtime.consume(router)
    topic = settings.topic("ticketing.window")
    await produce(infra, topic, [opened("o1", n).model_dump_json().encode() for n in range(1, 8)])
    app = runtime.create_app(title="kit")
    consumer = runtime.routers[0].consumer
    assert consumer is not None
    all_committed = asyncio.Event()
    commit = consumer._commit

    async def commit_and_tell(offsets: Any) -> None:
        await commit(offsets)
        if consumer.committed.get(TopicPartition(topic, 0)) == 7:
            all_committed.set()

    consumer._commit = commit_and_tell  # type: ignore[method-assign]

    def lag_lines(text: str) -> dict[str, float]:
        return {
            line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("onewindow_consumer_lag{")
        }

    async with running(app) as client:
        await asyncio.wait_for(first.wait(), timeout=60)
        held = lag_lines((await client.get("/metrics")).text)
        key = f'onewindow_consumer_lag{{group="{settings.group_id}",partition="0",topic="{topic}"}}'
        assert held[key] == 7.0  # handed to the handler, not committed yet
        release.set()
        await asyncio.wait_for(all_committed.wait(), timeout=30)
        assert lag_lines((await client.get("/metrics")).text)[key] == 0.0


async def test_a_new_group_starts_where_the_group_it_takes_over_from_had_committed(
    infra: Infra, make_settings: Any
) -> None:
    settings = make_settings(ServiceSettings, service_name="kit")
    topic = settings.topic("ticketing.window")
    await produce(infra, topic, [opened("o1", n).model_dump_json().encode() for n in range(1, 6)])

    def build(*, with_new_group: bool) -> tuple[ServiceRuntime, dict[str, list[int]], asyncio.Event]:
        runtime = ServiceRuntime(settings)
        seen: dict[str, list[int]] = {"main": [], "new": []}
        both_at_8 = asyncio.Event()

        def router_for(name: str) -> EventRouter:
            router = EventRouter()

            @router.on_batch(WindowOpened)
            async def on_opened(received: Sequence[Received]) -> None:
                seen[name] += [item.data.window_no for item in received]
                if 8 in seen["main"] and (not with_new_group or 8 in seen["new"]):
                    both_at_8.set()

            return router

        runtime.consume(router_for("main"))
        if with_new_group:
            runtime.consume(
                router_for("new"), group_id=f"{settings.group_id}-new", start_from_group=settings.group_id
            )
        return runtime, seen, both_at_8

    # The service as it was: one group, which read and committed 1-5.
    old, old_seen, _ = build(with_new_group=False)
    await old.start()
    try:
        await eventually(
            lambda: committed(infra, settings.group_id, topic), lambda offset: offset == 5, what="5 committed"
        )
    finally:
        await old.stop()
    assert old_seen["main"] == [1, 2, 3, 4, 5]
    await produce(infra, topic, [opened("o1", n).model_dump_json().encode() for n in range(6, 9)])

    # The new version adds a group: it reads only what its predecessor had not (6-8), not 1-5 again.
    new, seen, both_at_8 = build(with_new_group=True)
    await new.start()
    try:
        await asyncio.wait_for(both_at_8.wait(), timeout=60)
    finally:
        await new.stop()
    assert seen == {"main": [6, 7, 8], "new": [6, 7, 8]}
    assert await committed(infra, f"{settings.group_id}-new", topic) == 8
    # Its other partition, never committed by either group, started at the beginning and is committed.
    assert await committed(infra, f"{settings.group_id}-new", topic, partition=1) == 0


async def test_a_new_group_whose_source_never_committed_reads_from_the_beginning(
    infra: Infra, make_settings: Any
) -> None:
    settings = make_settings(ServiceSettings, service_name="kit")
    topic = settings.topic("ticketing.window")
    await produce(infra, topic, [opened("o1", n).model_dump_json().encode() for n in range(1, 4)])
    runtime = ServiceRuntime(settings)
    seen: list[int] = []
    all_seen = asyncio.Event()
    router = EventRouter()

    @router.on_batch(WindowOpened)
    async def on_opened(received: Sequence[Received]) -> None:
        seen.extend(item.data.window_no for item in received)
        if len(seen) >= 3:
            all_seen.set()

    runtime.consume(router, group_id=f"{settings.group_id}-new", start_from_group=settings.group_id)
    await runtime.start()
    try:
        await asyncio.wait_for(all_seen.wait(), timeout=60)
    finally:
        await runtime.stop()
    assert seen == [1, 2, 3]


async def test_a_coordinator_not_there_yet_delays_the_start_of_a_new_group_instead_of_failing_it(
    infra: Infra, make_settings: Any
) -> None:
    """A fresh cluster elects the group coordinators after the brokers answer: reading the other
    group's offsets is asked again on a retriable error, and given up at once on any other."""
    settings = make_settings(ServiceSettings, service_name="kit")
    runtime = ServiceRuntime(settings)
    router = EventRouter()

    @router.on_batch(WindowOpened)
    async def on_opened(received: Sequence[Received]) -> None:
        pass

    runtime.consume(router, group_id=f"{settings.group_id}-new", start_from_group=settings.group_id)
    consumer = router.consumer
    assert consumer is not None
    ask_kafka = consumer._committed_by
    answers: list[BaseException | None] = [GroupCoordinatorNotAvailableError(), KafkaConnectionError(), None]

    async def coordinator_elected_on_the_third_ask(group: str) -> dict[TopicPartition, Any]:
        error = answers.pop(0)
        if error is not None:
            raise error
        return await ask_kafka(group)

    consumer._committed_by = coordinator_elected_on_the_third_ask  # type: ignore[method-assign]
    await consumer.read_start_offsets()
    assert answers == [] and consumer.start_offsets == {}

    consumer.start_offsets = None
    answers[:] = [GroupAuthorizationFailedError()]  # not retriable (an ACL missing): fails at once
    with pytest.raises(GroupAuthorizationFailedError):
        await consumer.read_start_offsets()
