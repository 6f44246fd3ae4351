"""Three Kafka brokers of their own (RF 3, min.insync.replicas 2): kill -9 one of them (a partition
leader; then the active KRaft controller) under acks=all traffic, keep producing while it is down,
bring it back. No acknowledged message may be lost, the
consumer group must catch up, and every partition must be fully replicated again.

The cluster has its own ports and var/ directory: the shared single broker on 9092 is not touched.
"""

from __future__ import annotations

import time
import uuid

import pytest
from testbed.chaos import note
from testbed.kafka_cluster import AckedTraffic, KafkaCluster

pytestmark = pytest.mark.timeout(240)

DOWN_FOR = 8.0  # seconds the killed broker stays down after the producers got going again
PARTITIONS = 6


@pytest.mark.parametrize("victim_role", ["partition leader", "active controller"])
async def test_broker_killed_under_acks_all_loses_no_acknowledged_message(
    cluster: KafkaCluster, victim_role: str
) -> None:
    topic = f"t3b.{uuid.uuid4().hex[:8]}.events"
    factor, insync = await cluster.create_topic(topic, PARTITIONS)
    assert (factor, insync) == (3, 2)
    await cluster.wait_fully_replicated([topic], timeout=30)

    traffic = AckedTraffic(cluster.bootstrap, topic, producers=3, consumers=2)
    traffic.start()
    try:
        await traffic.acked_at_least(300, timeout=60)
        # a partition leader: its producers must fail over; the active KRaft controller (also a
        # broker leading partitions here): a controller election comes on top
        if victim_role == "partition leader":
            victim = await cluster.leader_of(topic, 0)
        else:
            victim = await cluster.quorum_leader()
        acked_before = traffic.acked_count
        note(f"kill -9 kafka-{victim} ({victim_role}) after {acked_before} acknowledged")
        await cluster.kill(victim)
        killed_at = time.monotonic()
        assert not cluster.alive(victim)

        # Writes go on with two in-sync copies: wait for the failover, then keep producing a while.
        await traffic.acked_at_least(200, timeout=60)
        resumed_at = time.monotonic()
        note(f"producing again {resumed_at - killed_at:.1f}s after the kill")
        while time.monotonic() - resumed_at < DOWN_FOR:
            await traffic.acked_at_least(1, timeout=30)
        acked_while_down = traffic.acked_count - acked_before
        assert acked_while_down >= 200
        rows = await cluster.partitions([topic])
        assert all(victim not in row["isr"] for row in rows)  # type: ignore[operator]
        assert all(row["leader"] != victim for row in rows)
        if victim_role == "active controller":
            assert await cluster.quorum_leader() != victim

        restart = await cluster.restart()
        note(f"kafka-{victim} back after {restart:.1f}s ({time.monotonic() - killed_at:.1f}s down)")
        healed = await cluster.wait_fully_replicated([topic], timeout=90)
        note(f"all {PARTITIONS} partitions fully replicated {healed:.1f}s after the restart")
        await traffic.acked_at_least(200, timeout=60)

        await traffic.stop_producing()
        await traffic.wait_consumed(timeout=90)
        lag = await traffic.wait_caught_up(timeout=60)
    finally:
        await traffic.stop()

    lost = await traffic.lost()
    note(
        f"acknowledged {traffic.acked_count} ({acked_while_down} while kafka-{victim} was down), "
        f"not acknowledged {traffic.failed}, lost {len(lost)}, redelivered to the group "
        f"{traffic.duplicates}; longest wait for one ack {traffic.longest_wait:.2f}s, "
        f"longest gap between acks {traffic.longest_gap:.2f}s"
    )
    for error in traffic.errors()[:10]:
        note(f"  send error: {error}")
    assert lost == [], f"{len(lost)} acknowledged messages lost, e.g. {lost[:5]}"
    assert set(traffic.acked) <= traffic.seen
    assert lag == dict.fromkeys(range(PARTITIONS), 0)
    # The outage a producer sees is bounded by failure detection (broker session 9 s) plus
    # leader (and controller) election, far below the producer's 30 s request timeout.
    assert traffic.longest_wait < 30, traffic.longest_wait
