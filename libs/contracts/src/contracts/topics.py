"""Create the topics of the registry (and their dead-letter topics) on a Kafka cluster.

python -m contracts.topics create [--bootstrap 127.0.0.1:9092] [--partitions 3] [--prefix ""]
python -m contracts.topics list
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from contracts.registry import TOPICS


def topic_configs(prefix: str = "") -> list[tuple[str, dict[str, str]]]:
    """(name, config) of every topic and its dead-letter topic."""
    configs: list[tuple[str, dict[str, str]]] = []
    for spec in TOPICS.values():
        config = {"cleanup.policy": "compact"} if spec.compacted else {}
        configs.append((prefix + spec.name, config))
        configs.append((prefix + spec.dead_letters, {}))
    return configs


async def create_topics(bootstrap: str, partitions: int, prefix: str = "") -> list[str]:
    # aiokafka is a dependency of the services, not of the contracts: imported only here.
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, num_partitions=partitions, replication_factor=1, topic_configs=config)
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
    parser.add_argument("--partitions", type=int, default=int(os.environ.get("ONEWINDOW_PARTITIONS", "3")))
    parser.add_argument("--prefix", default=os.environ.get("ONEWINDOW_TOPIC_PREFIX", ""))
    args = parser.parse_args(argv)
    if args.command == "list":
        for name, config in topic_configs(args.prefix):
            print(name, config or "")
        return 0
    created = asyncio.run(create_topics(args.bootstrap, args.partitions, args.prefix))
    print(f"topics: {len(created)} created, {len(topic_configs(args.prefix)) - len(created)} already there")
    return 0


if __name__ == "__main__":
    sys.exit(main())
