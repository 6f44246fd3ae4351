"""A Kafka cluster of its own for fault tests, and acks=all traffic that keeps the books on it.

`KafkaCluster` runs `deploy/local/infra.sh up --brokers N --kafka-only` with its own ports and its
own ONEWINDOW_VAR (under var/), so it never touches the shared single broker on 9092; it can kill -9
one node, bring it back, and wait until every partition is fully replicated again.

`AckedTraffic` produces with acks=all (idempotent) from several producers and consumes in one
consumer group, and records what was acknowledged, what the group saw, and how long a producer
waited: after a fault, `lost()` must be empty and `group_lag()` must reach zero.

Reusable by any test that needs several brokers (e.g. the whole system on three brokers: point
`System(kafka=cluster.bootstrap)` at it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError
from contracts.topics import replication_for

from testbed import ROOT

INFRA = ROOT / "deploy" / "local" / "infra.sh"


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_block(brokers: int, start: int = 19092, controller_offset: int = 100) -> int:
    """First port P from `start` on with P..P+n-1 and P+offset..P+offset+n-1 all free."""
    for base in range(start, start + 2000, 10):
        ports = [base + i for i in range(brokers)] + [base + controller_offset + i for i in range(brokers)]
        if all(_port_free(p) for p in ports):
            return base
    raise RuntimeError(f"no free block of {brokers} Kafka ports from {start}")


@dataclass
class KafkaCluster:
    """N KRaft nodes (combined broker+controller) from deploy/local/infra.sh, ports and data private."""

    brokers: int = 3
    base_port: int = 0
    var: Path = field(default_factory=lambda: ROOT / "var" / f"kafka-cluster-test-{uuid.uuid4().hex[:8]}")
    ready_timeout: int = 180

    def __post_init__(self) -> None:
        if not self.base_port:
            self.base_port = free_port_block(
                self.brokers, int(os.environ.get("ONEWINDOW_TEST_CLUSTER_PORT", "19092"))
            )

    @property
    def ports(self) -> list[int]:
        return [self.base_port + i for i in range(self.brokers)]

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "ONEWINDOW_VAR": str(self.var),
            "ONEWINDOW_KAFKA_PORT": str(self.base_port),
            "ONEWINDOW_KAFKA_CONTROLLER_PORT": str(self.base_port + 100),
            "ONEWINDOW_KAFKA_BROKERS": str(self.brokers),
            "ONEWINDOW_SKIP_TOPICS": "1",
            "ONEWINDOW_READY_TIMEOUT": str(self.ready_timeout),
        }

    async def _run(self, *command: str) -> tuple[int, str]:
        """(exit code, stdout and stderr) of a command run in the repository with this cluster's env."""
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=ROOT,
            env=self.env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        return int(process.returncode or 0), output.decode(errors="replace")

    async def _infra(self, *args: str) -> str:
        returncode, text = await self._run(str(INFRA), *args, "--kafka-only")
        if returncode != 0:
            raise RuntimeError(f"infra.sh {' '.join(args)} failed ({returncode}): {text[-3000:]}")
        return text

    async def start(self) -> float:
        """Start (or restart the nodes that are down); seconds until the cluster answered."""
        started = time.monotonic()
        await self._infra("up")
        return time.monotonic() - started

    restart = start

    def pid(self, node: int) -> int:
        name = "kafka.pid" if self.brokers == 1 else f"kafka-{node}.pid"  # as infra.sh names them
        return int((self.var / "run" / name).read_text().strip())

    async def kill(self, node: int, timeout: float = 10) -> None:
        """kill -9 node `node` (1-based) and wait until it is gone: no shutdown, no flush."""
        pid = self.pid(node)
        pidfd = os.pidfd_open(pid)
        try:
            os.kill(pid, signal.SIGKILL)
            exited = asyncio.Event()
            loop = asyncio.get_running_loop()
            loop.add_reader(pidfd, exited.set)  # a pidfd turns readable when the process exits
            try:
                await asyncio.wait_for(exited.wait(), timeout)
            finally:
                loop.remove_reader(pidfd)
        finally:
            os.close(pidfd)

    def alive(self, node: int) -> bool:
        """The node's process exists and has not exited (a zombie counts as dead)."""
        try:
            stat = Path(f"/proc/{self.pid(node)}/stat").read_text()
        except (OSError, ValueError):
            return False
        return stat.rsplit(")", 1)[1].split()[0] != "Z"

    def stop(self) -> None:
        subprocess.run(
            [str(INFRA), "down", "--kafka-only"],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            check=False,
            timeout=120,
        )

    def destroy(self) -> None:
        """Stop and delete the cluster's data (its logs too: copy them first if a test failed)."""
        self.stop()
        shutil.rmtree(self.var, ignore_errors=True)

    def logs(self) -> list[Path]:
        log = self.var / "log"
        return sorted([*log.glob("kafka-*/kafka.log"), *log.glob("kafka.out")])

    # ---- the cluster's view

    async def admin(self) -> AIOKafkaAdminClient:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=10_000)
        await admin.start()
        return admin

    async def create_topic(self, name: str, partitions: int) -> tuple[int, int]:
        """A topic with the replication the cluster size calls for; (replication, min.insync)."""
        factor, insync = replication_for(self.brokers)
        admin = await self.admin()
        try:
            await admin.create_topics(
                [
                    NewTopic(
                        name,
                        num_partitions=partitions,
                        replication_factor=factor,
                        topic_configs={"min.insync.replicas": str(insync)},
                    )
                ]
            )
        finally:
            await admin.close()
        return factor, insync

    async def partitions(self, topics: Iterable[str]) -> list[dict[str, Any]]:
        """Per partition: topic, partition, leader, replicas, isr (as the controller reports them)."""
        admin = await self.admin()
        try:
            described = await admin.describe_topics(list(topics))
        finally:
            await admin.close()
        rows: list[dict[str, Any]] = []
        for topic in described:
            for part in topic["partitions"]:
                rows.append(
                    {
                        "topic": topic["topic"],
                        "partition": part["partition"],
                        "leader": part["leader"],
                        "replicas": list(part["replicas"]),
                        "isr": list(part["isr"]),
                    }
                )
        return rows

    async def leader_of(self, topic: str, partition: int = 0) -> int:
        for row in await self.partitions([topic]):
            if row["partition"] == partition:
                return int(row["leader"])
        raise KeyError(f"{topic}/{partition}")

    async def quorum_leader(self) -> int:
        """Node id of the active KRaft controller (kafka-metadata-quorum describe --status)."""
        _, text = await self._run(
            str(ROOT / "deploy" / "local" / "kafka-cli.sh"),
            "class",
            "org.apache.kafka.tools.MetadataQuorumCommand",
            "--bootstrap-server",
            self.bootstrap,
            "describe",
            "--status",
        )
        for line in text.splitlines():
            if line.startswith("LeaderId:"):
                return int(line.split(":", 1)[1])
        raise RuntimeError(f"no LeaderId in: {text[-1000:]}")

    async def wait_fully_replicated(self, topics: Iterable[str], timeout: float = 120) -> float:
        """Wait until every partition has all its replicas in sync again; seconds it took."""
        topics = list(topics)
        started = time.monotonic()
        behind: list[dict[str, Any]] = []
        while time.monotonic() - started < timeout:
            with contextlib.suppress(KafkaError, OSError):
                rows = await self.partitions(topics)
                behind = [r for r in rows if sorted(r["isr"]) != sorted(r["replicas"])]
                if rows and not behind:
                    return time.monotonic() - started
            await asyncio.sleep(0.5)
        raise TimeoutError(f"partitions still under-replicated after {timeout:.0f}s: {behind[:5]}")


# ---------------------------------------------------------------- traffic with a ledger


@dataclass
class ProducerStats:
    name: str
    acked: int = 0
    failed: int = 0
    longest_wait: float = 0.0  # one send: from send() to its acknowledgement (or failure)
    longest_gap: float = 0.0  # between two acknowledgements while the producer kept sending
    errors: list[str] = field(default_factory=list)


class AckedTraffic:
    """Producers with acks=all on `topic` and one consumer group reading it, with a ledger.

    Each producer sends keyed messages one at a time (so a stall shows whole in `longest_wait`),
    with `pause` seconds between sends. A message counts as acknowledged only when its send
    returned a record offset; only those must survive.
    """

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        producers: int = 3,
        consumers: int = 2,
        pause: float = 0.01,
        group: str | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.group = group or f"acked-{uuid.uuid4().hex[:8]}"
        self.pause = pause
        self.stats = [ProducerStats(f"p{i}") for i in range(producers)]
        self.acked: dict[str, tuple[int, int]] = {}  # message id -> (partition, offset)
        self.seen: set[str] = set()  # ids the consumer group processed
        self.duplicates = 0  # ids the group saw more than once (redelivery after a rebalance)
        self._consumers = consumers
        self._stopping = asyncio.Event()
        self._done_consuming = asyncio.Event()
        self._progress = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._consumer_tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._consumer_tasks = [asyncio.create_task(self._consume(i)) for i in range(self._consumers)]
        self._tasks = [asyncio.create_task(self._produce(stats)) for stats in self.stats]

    @property
    def acked_count(self) -> int:
        return len(self.acked)

    async def acked_at_least(self, more: int, timeout: float = 60) -> None:
        """Wait until `more` further messages were acknowledged."""
        target = len(self.acked) + more
        deadline = time.monotonic() + timeout
        while len(self.acked) < target:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"production stalled: {len(self.acked)} < {target}; {self.errors()[-5:]}"
                )
            self._progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), remaining)

    async def stop_producing(self) -> None:
        self._stopping.set()
        await asyncio.gather(*self._tasks)

    async def wait_consumed(self, timeout: float = 90) -> None:
        """Wait until the consumer group processed every acknowledged message."""
        deadline = time.monotonic() + timeout
        while set(self.acked) - self.seen:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                missing = len(set(self.acked) - self.seen)
                raise AssertionError(f"consumer group still misses {missing} acknowledged messages")
            self._progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), min(remaining, 1.0))

    async def stop_consuming(self) -> None:
        self._done_consuming.set()
        await asyncio.gather(*self._consumer_tasks)

    async def stop(self) -> None:
        await self.stop_producing()
        await self.stop_consuming()

    def errors(self) -> list[str]:
        return [error for stats in self.stats for error in stats.errors]

    @property
    def longest_wait(self) -> float:
        return max(s.longest_wait for s in self.stats)

    @property
    def longest_gap(self) -> float:
        return max(s.longest_gap for s in self.stats)

    @property
    def failed(self) -> int:
        return sum(s.failed for s in self.stats)

    async def _new_producer(self) -> AIOKafkaProducer:
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            acks="all",
            enable_idempotence=True,
            request_timeout_ms=30_000,
            retry_backoff_ms=100,
            linger_ms=0,
        )
        await producer.start()
        return producer

    async def _produce(self, stats: ProducerStats) -> None:
        producer = await self._new_producer()
        last_ack = time.monotonic()
        n = 0
        try:
            while not self._stopping.is_set():
                n += 1
                message_id = f"{self.group}-{stats.name}-{n}"  # unique across runs on one topic
                sent = time.monotonic()
                try:
                    record = await producer.send_and_wait(
                        self.topic, value=message_id.encode(), key=f"{stats.name}-{n % 50}".encode()
                    )
                except KafkaError as error:
                    # Not acknowledged: may or may not be in the log; only acknowledged ones count.
                    stats.failed += 1
                    stats.errors.append(f"{time.strftime('%H:%M:%S')} {type(error).__name__}: {error}")
                    stats.longest_wait = max(stats.longest_wait, time.monotonic() - sent)
                    # An idempotent producer can stay broken after a leader crash
                    # (OutOfOrderSequenceNumber): a new one starts a new producer id.
                    with contextlib.suppress(Exception):
                        await producer.stop()
                    producer = await self._new_producer()
                    continue
                now = time.monotonic()
                stats.acked += 1
                stats.longest_wait = max(stats.longest_wait, now - sent)
                stats.longest_gap = max(stats.longest_gap, now - last_ack)
                last_ack = now
                self.acked[message_id] = (record.partition, record.offset)
                self._progress.set()
                if self.pause:
                    await asyncio.sleep(self.pause)
        finally:
            with contextlib.suppress(Exception):
                await producer.stop()

    async def _consume(self, index: int) -> None:
        consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=self.bootstrap,
            group_id=self.group,
            client_id=f"{self.group}-c{index}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
            request_timeout_ms=30_000,
        )
        await consumer.start()
        uncommitted = False
        try:
            while not self._done_consuming.is_set():
                batches = await consumer.getmany(timeout_ms=200, max_records=500)
                for records in batches.values():
                    for record in records:
                        message_id = (record.value or b"").decode()
                        if message_id in self.seen:
                            self.duplicates += 1
                        self.seen.add(message_id)
                if batches or uncommitted:
                    # commit after processing (at least once); a failed commit is tried again
                    try:
                        await consumer.commit()
                        uncommitted = False
                    except KafkaError:
                        uncommitted = True
                    self._progress.set()
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()

    # ---- the books after the fault

    async def _partitions(self) -> list[TopicPartition]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            (described,) = await admin.describe_topics([self.topic])
        finally:
            await admin.close()
        return [
            TopicPartition(self.topic, p["partition"])
            for p in sorted(described["partitions"], key=lambda p: p["partition"])
        ]

    async def log_contents(self) -> dict[str, tuple[int, int]]:
        """Every message now in the topic, read from the start by a consumer of no group."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
        )
        await consumer.start()
        found: dict[str, tuple[int, int]] = {}
        try:
            parts = await self._partitions()
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            ends = await consumer.end_offsets(parts)
            while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
                batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
                for records in batches.values():
                    for record in records:
                        found[(record.value or b"").decode()] = (record.partition, record.offset)
        finally:
            await consumer.stop()
        return found

    async def lost(self) -> list[str]:
        """Acknowledged messages that are not in the topic (must be none)."""
        present = await self.log_contents()
        return sorted(set(self.acked) - set(present))

    async def group_lag(self) -> dict[int, int]:
        """Per partition: end offset minus the group's committed offset (all 0 when caught up)."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap)
        await admin.start()
        await consumer.start()
        try:
            committed = await admin.list_consumer_group_offsets(self.group)
            parts = await self._partitions()
            ends = await consumer.end_offsets(parts)
            return {tp.partition: ends[tp] - (committed[tp].offset if tp in committed else 0) for tp in parts}
        finally:
            await consumer.stop()
            await admin.close()

    async def wait_caught_up(self, timeout: float = 60) -> dict[int, int]:
        """Wait (consumers running) until the group's committed offsets reach the end of every partition."""
        deadline = time.monotonic() + timeout
        lag: dict[int, int] = {}
        while time.monotonic() < deadline:
            with contextlib.suppress(KafkaError):
                lag = await self.group_lag()
                if lag and not any(lag.values()):
                    return lag
            self._progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), 1.0)
        raise AssertionError(f"consumer group {self.group} not caught up after {timeout:.0f}s: lag {lag}")
