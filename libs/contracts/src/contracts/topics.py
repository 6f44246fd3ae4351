"""Create the topics of the registry (and their dead-letter topics) on a Kafka cluster.

python -m contracts.topics create [--bootstrap 127.0.0.1:9092] [--partitions 12] [--replication N]
                                  [--min-insync M] [--prefix ""]
python -m contracts.topics list

Partitions (ONEWINDOW_PARTITIONS, default 12) bound how many replicas of one service share the
work of a topic: a consumer group gives each partition to one member, so a 13th ticketing replica
would get no partition (it still serves HTTP). Topics are keyed by office, so more partitions also
spread offices more evenly. The replication factor (ONEWINDOW_REPLICATION) follows the cluster:
min(3, brokers) when not given; with three or more replicas a topic gets min.insync.replicas=2
(ONEWINDOW_MIN_INSYNC), so a write acknowledged by acks=all survives the loss of any one broker.
On a secured cluster the tool signs in like the services: ONEWINDOW_KAFKA_SASL_USERNAME / _PASSWORD
(SCRAM-SHA-512), ONEWINDOW_KAFKA_USE_SSL and ONEWINDOW_KAFKA_SSL_CAFILE.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import ssl
import sys
from typing import Any

from contracts.registry import TOPICS


def topic_configs(prefix: str = "") -> list[tuple[str, dict[str, str]]]:
    """(name, config) of every topic and its dead-letter topic."""
    configs: list[tuple[str, dict[str, str]]] = []
    for spec in TOPICS.values():
        config = {"cleanup.policy": "compact"} if spec.compacted else {}
        configs.append((prefix + spec.name, config))
        configs.append((prefix + spec.dead_letters, {}))
    return configs


DEFAULT_PARTITIONS = 12


def replication_for(
    brokers: int, replication: int | None = None, min_insync: int | None = None
) -> tuple[int, int]:
    """(replication factor, min.insync.replicas) for a cluster of `brokers` nodes.

    Given values (or ONEWINDOW_REPLICATION / ONEWINDOW_MIN_INSYNC) win; otherwise min(3, brokers)
    copies, of which 2 must be in sync from 3 copies on (1 below that: a 2-copy topic stays
    writable with one broker down, at the price of acknowledged writes resting on one copy).
    """
    if replication is None and os.environ.get("ONEWINDOW_REPLICATION"):
        replication = int(os.environ["ONEWINDOW_REPLICATION"])
    if min_insync is None and os.environ.get("ONEWINDOW_MIN_INSYNC"):
        min_insync = int(os.environ["ONEWINDOW_MIN_INSYNC"])
    factor = replication if replication is not None else min(3, max(1, brokers))
    if factor > brokers:
        raise ValueError(f"replication factor {factor} needs {factor} brokers, the cluster has {brokers}")
    insync = min_insync if min_insync is not None else (2 if factor >= 3 else 1)
    if not 1 <= insync <= factor:
        raise ValueError(f"min.insync.replicas {insync} not within 1..{factor} (the replication factor)")
    return factor, insync


def admin_security(
    username: str = "", password: str = "", use_ssl: bool = False, cafile: str = ""
) -> dict[str, Any]:
    """Client settings for a secured cluster (SASL/SCRAM-SHA-512, TLS with `cafile` as the CA)."""
    context = ssl.create_default_context(cafile=cafile or None) if use_ssl else None
    if not username:
        return {"security_protocol": "SSL", "ssl_context": context} if context else {}
    return {
        "security_protocol": "SASL_SSL" if context else "SASL_PLAINTEXT",
        "ssl_context": context,
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": username,
        "sasl_plain_password": password,
    }


def _environment_security() -> dict[str, Any]:
    """The same ONEWINDOW_KAFKA_* settings the services read (the password never on a command line)."""
    return admin_security(
        os.environ.get("ONEWINDOW_KAFKA_SASL_USERNAME", ""),
        os.environ.get("ONEWINDOW_KAFKA_SASL_PASSWORD", ""),
        os.environ.get("ONEWINDOW_KAFKA_USE_SSL", "").lower() in ("1", "true", "yes"),
        os.environ.get("ONEWINDOW_KAFKA_SSL_CAFILE", ""),
    )


async def create_topics(
    bootstrap: str,
    partitions: int = DEFAULT_PARTITIONS,
    prefix: str = "",
    replication: int | None = None,
    min_insync: int | None = None,
    security: dict[str, Any] | None = None,
) -> list[str]:
    """Create the missing topics; the replication factor follows the cluster size unless given."""
    # aiokafka is a dependency of the services, not of the contracts: imported only here.
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **(security or {}))
    await admin.start()
    try:
        brokers = len((await admin.describe_cluster())["brokers"])
        factor, insync = replication_for(brokers, replication, min_insync)
        durability = {"min.insync.replicas": str(insync)} if factor > 1 else {}
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                name,
                num_partitions=partitions,
                replication_factor=factor,
                topic_configs={**config, **durability},
            )
            for name, config in topic_configs(prefix)
            if name not in existing
        ]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass
        return [topic.name for topic in wanted]
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, prefix: str) -> int:
    """Delete every topic whose name starts with `prefix` (test and benchmark clean-up)."""
    if not prefix:
        raise ValueError("refusing to delete topics without a prefix")
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        doomed = [name for name in await admin.list_topics() if name.startswith(prefix)]
        if doomed:
            await admin.delete_topics(doomed)
        return len(doomed)
    finally:
        await admin.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contracts.topics")
    parser.add_argument("command", choices=["create", "list"])
    parser.add_argument("--bootstrap", default=os.environ.get("ONEWINDOW_KAFKA", "127.0.0.1:9092"))
    parser.add_argument(
        "--partitions", type=int, default=int(os.environ.get("ONEWINDOW_PARTITIONS", DEFAULT_PARTITIONS))
    )
    parser.add_argument("--replication", type=int, default=None, help="default: min(3, brokers)")
    parser.add_argument("--min-insync", type=int, default=None, help="default: 2 from 3 replicas on")
    parser.add_argument("--prefix", default=os.environ.get("ONEWINDOW_TOPIC_PREFIX", ""))
    args = parser.parse_args(argv)
    if args.command == "list":
        for name, config in topic_configs(args.prefix):
            print(name, config or "")
        return 0
    created = asyncio.run(
        create_topics(
            args.bootstrap,
            args.partitions,
            args.prefix,
            args.replication,
            args.min_insync,
            security=_environment_security(),
        )
    )
    print(f"topics: {len(created)} created, {len(topic_configs(args.prefix)) - len(created)} already there")
    return 0


if __name__ == "__main__":
    sys.exit(main())
