"""An outside producer: the city portal reports applications filed online to OneWindow.

Reads a CSV of applications the portal accepted and publishes one `portal.OnlineApplicationFiled`
per row on the topic `portal.application`, keyed by office. Needs only `contracts` and `aiokafka`:

    python file_applications.py --bootstrap 127.0.0.1:9092 applications.csv

CSV columns: application_id, service_id, office_id, filed_at (ISO 8601 with a zone), and optionally
channel (regional_portal | federal_portal | mobile_app) and after_office_visit (true/false).
Sending the same file twice is harmless: the event id is derived from the application id, and
OneWindow counts an application once.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

from aiokafka import AIOKafkaProducer
from contracts import Envelope, encode
from contracts.portal import OnlineApplicationFiled
from contracts.registry import partition_key

PRODUCER = "portal"
# Stable event ids: the same application always travels under the same id.
ID_NAMESPACE = uuid.UUID("7c1c3f0e-8b1f-4a57-9a57-6f0d1e0a1a18")


def application_event(row: Mapping[str, str]) -> Envelope:
    """One CSV row as an envelope; a bad row raises ValueError with the reason."""
    data = OnlineApplicationFiled(
        application_id=row["application_id"],
        service_id=row["service_id"],
        filed_at=datetime.fromisoformat(row["filed_at"]),
        channel=row.get("channel") or "regional_portal",  # type: ignore[arg-type]
        after_office_visit=(row.get("after_office_visit") or "").strip().lower() in ("1", "true", "yes"),
    )
    event_id = uuid.uuid5(ID_NAMESPACE, data.application_id)
    return Envelope(
        event_id=event_id,
        event_type=data.EVENT_TYPE,
        event_version=data.EVENT_VERSION,
        occurred_at=data.filed_at,
        producer=PRODUCER,
        correlation_id=str(event_id),
        office_id=row["office_id"],
        aggregate_id=data.application_id,
        aggregate_version=1,
        data=data.model_dump(mode="json"),
    )


async def publish(bootstrap: str, events: Iterable[Envelope]) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    sent = 0
    try:
        for envelope in events:
            await producer.send_and_wait(
                OnlineApplicationFiled.TOPIC, encode(envelope), key=partition_key(envelope)
            )
            sent += 1
    finally:
        await producer.stop()
    return sent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path)
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    args = parser.parse_args(argv)
    with args.csv.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    try:
        events = [application_event(row) for row in rows]
    except (ValueError, KeyError) as error:
        print(f"bad row: {error}", file=sys.stderr)
        return 2
    sent = asyncio.run(publish(args.bootstrap, events))
    print(f"published {sent} applications to {OnlineApplicationFiled.TOPIC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
