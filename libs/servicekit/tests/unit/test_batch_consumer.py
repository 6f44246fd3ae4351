"""How a poll's records of one partition are split, applied, dead-lettered and committed (no broker)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord
from contracts import Envelope, new_event
from contracts.ticketing import WindowClosed, WindowOpened, WindowPaused
from prometheus_client import CollectorRegistry
from servicekit.kafka import (
    BatchConsumer,
    ConsumerHealth,
    ConsumerMetrics,
    EventRouter,
    PartitionMemory,
    Received,
    _Rebalance,
    partition_of,
    position_of,
)
from servicekit.settings import ServiceSettings

TOPIC = "ticketing.window"
TP = TopicPartition(TOPIC, 0)


def event(kind: type, window: int) -> bytes:
    extra: dict[str, Any] = {"service_ids": ["s1"]} if kind is WindowOpened else {}
    envelope = new_event(
        kind(window_no=window, zone_id="z1", operator_ref="op", **extra),
        producer="test",
        office_id="o1",
        aggregate_id=f"o1:{window}",
        aggregate_version=1,
    )
    return envelope.model_dump_json().encode()


def records(*values: bytes) -> list[ConsumerRecord[Any, Any]]:
    return [
        ConsumerRecord(TOPIC, 0, offset, 0, 0, b"o1", value, None, 2, len(value), [("h", b"v")])
        for offset, value in enumerate(values, start=100)
    ]


class FakeKafka:
    def __init__(self) -> None:
        self.seeks: list[tuple[TopicPartition, int]] = []
        self.paused: set[TopicPartition] = set()

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset))

    def assignment(self) -> set[TopicPartition]:
        return {TP}

    def pause(self, *partitions: TopicPartition) -> None:
        self.paused.update(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self.paused.difference_update(partitions)


class Setup:
    def __init__(self, router: EventRouter, *, dead_letters_fail: bool = False) -> None:
        self.dead: list[tuple[bytes, str, dict[str, str]]] = []
        self.kafka = FakeKafka()

        async def dead_letter(body: bytes, topic: str, key: bytes | None, headers: dict[str, str]) -> None:
            if dead_letters_fail:
                raise ConnectionError("Kafka is down")
            self.dead.append((body, topic, headers))

        settings = ServiceSettings.model_validate(
            {"ONEWINDOW_HANDLER_RETRIES": 2, "ONEWINDOW_HANDLER_BACKOFF": 0.0}
        )
        self.consumer = BatchConsumer(
            router,
            [TOPIC],
            settings,
            ConsumerMetrics(CollectorRegistry()),
            ConsumerHealth(),
            dead_letter,
            group_id="g",
            auto_offset_reset="earliest",
        )
        self.consumer.consumer = self.kafka  # type: ignore[assignment]

    async def apply(self, batch: list[ConsumerRecord[Any, Any]]) -> int | None:
        return await self.consumer._apply_partition(TP, batch)


def windows(received: Sequence[Received]) -> list[int]:
    return [item.data.window_no for item in received]


async def test_a_run_of_records_for_one_batch_handler_is_one_call_and_single_handlers_keep_their_place() -> (
    None
):
    router = EventRouter()
    calls: list[Any] = []

    @router.on_batch(WindowOpened, WindowPaused)
    async def on_many(received: Sequence[Received]) -> None:
        calls.append(windows(received))

    @router.on(WindowClosed)
    async def on_closed(_: Envelope, data: WindowClosed) -> None:
        calls.append(("closed", data.window_no))

    future = event(WindowOpened, 9).replace(b"ticketing.WindowOpened", b"ticketing.Future")
    setup = Setup(router)
    done = await setup.apply(
        records(
            event(WindowOpened, 1),
            event(WindowPaused, 2),
            future,  # unknown: skipped, does not split the run
            event(WindowOpened, 3),
            event(WindowClosed, 4),
            event(WindowOpened, 5),
        )
    )
    assert calls == [[1, 2, 3], ("closed", 4), [5]]
    assert done == 106 and setup.kafka.seeks == [] and setup.dead == []


async def test_a_failing_batch_is_replayed_record_by_record_and_only_the_failing_one_is_dead_lettered() -> (
    None
):
    router = EventRouter()
    applied: list[int] = []
    attempts: dict[int, int] = {}

    @router.on_batch(WindowOpened)
    async def on_opened(received: Sequence[Received]) -> None:
        for window in windows(received):
            if window == 3:
                attempts[3] = attempts.get(3, 0) + 1
                raise RuntimeError("window 3 breaks")
        applied.extend(w for w in windows(received) if w not in applied)

    setup = Setup(router)
    batch = records(*(event(WindowOpened, n) for n in range(1, 6)))
    done = await setup.apply(batch)
    assert applied == [1, 2, 4, 5]
    assert attempts[3] == 1 + 3  # the whole batch once, then alone: first try and two retries
    [(body, topic, headers)] = setup.dead
    assert body == batch[2].value and topic == f"{TOPIC}.dlt"
    assert (headers["dlt.offset"], headers["dlt.attempts"], headers["h"]) == ("102", "3", "v")
    assert done == 105


async def test_malformed_bytes_go_to_the_dead_letters_as_they_came_between_applied_records() -> None:
    router = EventRouter()
    applied: list[int] = []

    @router.on_batch(WindowOpened)
    async def on_opened(received: Sequence[Received]) -> None:
        applied.extend(windows(received))

    setup = Setup(router)
    done = await setup.apply(records(event(WindowOpened, 1), b"{not json", event(WindowOpened, 2)))
    assert applied == [1, 2]
    assert [(body, headers["dlt.error_type"]) for body, _, headers in setup.dead] == [
        (b"{not json", "MalformedEvent")
    ]
    assert done == 103


async def test_when_even_the_dead_letter_fails_the_partition_is_rewound_to_that_record() -> None:
    router = EventRouter()
    applied: list[int] = []

    @router.on(WindowOpened)
    async def on_opened(_: Envelope, data: WindowOpened) -> None:
        if data.window_no == 2:
            raise RuntimeError("window 2 breaks")
        applied.append(data.window_no)

    setup = Setup(router, dead_letters_fail=True)
    done = await setup.apply(records(*(event(WindowOpened, n) for n in range(1, 4))))
    assert applied == [1]  # window 3 waits behind window 2: nothing is skipped
    assert done == 101  # commit up to window 1 only
    assert setup.kafka.seeks == [(TP, 101)]


async def test_what_a_handler_keeps_of_a_partition_is_dropped_when_the_partition_moves() -> None:
    router = EventRouter()
    memory: PartitionMemory[int] = PartitionMemory(capacity=3)
    router.on_partitions_moved(memory.forget)
    setup = Setup(router)
    received = [
        Received(Envelope.model_validate_json(r.value), None, r) for r in records(event(WindowOpened, 1))
    ]
    assert partition_of(received[0]) == (TOPIC, 0) and position_of(received[0]) == f"{TOPIC}:0:100"
    memory.keep((TOPIC, 0), "a", 1)
    memory.keep((TOPIC, 1), "b", 2)
    for key, value in (("c", 3), ("d", 4)):  # over capacity: the least recently used goes
        memory.keep((TOPIC, 1), key, value)
    assert "a" not in memory and memory.get("b") == 2 and len(memory) == 3

    await _Rebalance(setup.consumer).on_partitions_revoked({TopicPartition(TOPIC, 1)})
    assert len(memory) == 0
    memory.keep((TOPIC, 0), "a", 1)
    await _Rebalance(setup.consumer).on_partitions_assigned(
        {TopicPartition(TOPIC, 0)}
    )  # written by another meanwhile
    assert memory.get("a") is None
