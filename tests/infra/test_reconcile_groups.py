"""ops/reconcile.py counts the lag of every group a service runs, not only `<prefix><service>`."""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from servicekit.testing import Infra
from testbed import ops_command


async def commit(infra: Infra, group: str, offsets: dict[TopicPartition, int]) -> None:
    consumer = AIOKafkaConsumer(bootstrap_servers=infra.kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit(offsets)
    finally:
        await consumer.stop()


async def test_the_lag_of_the_notifiers_board_group_is_reconciled_too(
    infra: Infra, topic_prefix: str
) -> None:
    reconcile: Any = ops_command("reconcile")
    topic = f"{topic_prefix}ticketing.ticket"
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka)
    await producer.start()
    try:
        for _ in range(5):
            await producer.send_and_wait(topic, b"{}", key=b"o1", partition=0)
    finally:
        await producer.stop()
    first = TopicPartition(topic, 0)
    await commit(infra, f"{topic_prefix}notifier", {first: 5})  # up to date
    await commit(infra, f"{topic_prefix}notifier-board", {first: 2})  # 3 behind
    await commit(infra, f"{topic_prefix}probe-1", {first: 0})  # not a service's group
    async with reconcile.Kafka(infra.kafka) as kafka:
        groups = await kafka.service_groups(topic_prefix)
        lag = await kafka.lag(await kafka.committed(groups))
    assert groups == [f"{topic_prefix}notifier", f"{topic_prefix}notifier-board"]
    assert lag == {f"{topic_prefix}notifier": {topic: 0}, f"{topic_prefix}notifier-board": {topic: 3}}
    assert not reconcile.is_service_group(f"{topic_prefix}notifierx", topic_prefix)
    assert not reconcile.is_service_group("other.notifier-board", topic_prefix)
