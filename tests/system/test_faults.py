"""Faults with traffic flowing - each service killed, duplicates, poison - then reconcile.

One System for the module and one pass over each fault, sized for CI. After each fault the traffic
stops, the tickets at windows are finished, and `ops/reconcile.py` must come back clean: every
acknowledged ticket in every store once, poison in the dead letters, lag zero, nothing stuck.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from servicekit.testing import EventProbe
from testbed.chaos import Traffic, note, office, reconciled, traffic
from testbed.harness import Api, Office, System

__all__ = ["office", "traffic"]  # module-scoped fixtures, one System per module


async def test_each_service_killed_mid_stream_and_restarted_loses_nothing(
    system: System, api: Api, traffic: Traffic, tmp_path: Path
) -> None:
    traffic.start()
    for instance in list(system.instances):
        await traffic.issued_at_least(4, timeout=120)
        note(f"kill -9 {instance.service} on :{instance.port}")
        await system.restart(instance)  # kill -9, start again, wait until ready
    await traffic.issued_at_least(4, timeout=120)
    await traffic.stop()
    await reconciled(system, api, tmp_path)


async def republish(system: System, records: list[Any]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=system.kafka)
    await producer.start()
    try:
        for record in records:
            await producer.send_and_wait(
                record.topic, record.value, key=record.key, headers=list(record.headers)
            )
    finally:
        await producer.stop()


async def test_duplicate_events_change_no_store(
    system: System, api: Api, office: Office, traffic: Traffic, tmp_path: Path
) -> None:
    traffic.start()
    await traffic.issued_at_least(10)
    consumed = [
        system.prefix + t
        for t in (
            "ticketing.ticket",
            "ticketing.window",
            "appointments.appointment",
            "feedback.feedback",
            "ticketing.queue",
        )
    ]
    reader = await EventProbe(system.kafka, consumed).start()
    try:
        await reader.wait_for(lambda e: e.office_id == office.office_id, count=50)
    finally:
        await reader.stop()
    # The raw bytes again, as a producer retry or a replayed partition would deliver them.
    await republish(system, list(reader.raw))
    await traffic.issued_at_least(5)
    await traffic.stop()
    # Settled: every store holds each acknowledged ticket exactly once (the reconciliation checks
    # ticketing, feedback and the notifier's waiting view), and the KPIs count each visit once.
    await reconciled(system, api, tmp_path, timeout=90)
    kpis = await api.supervisor_get(office, "feedback", f"/offices/{office.office_id}/kpis")
    assert kpis.json()["visits"] == len(set(api.issued))


def poison_for(topic: str) -> list[tuple[str, bytes]]:
    """(kind, bytes) that must not stop a consumer: not JSON, not an envelope, a bad payload, a new type."""
    envelope = {
        "event_id": str(uuid.uuid4()),
        "event_version": 1,
        "occurred_at": "2025-03-10T09:00:00Z",
        "producer": "chaos",
        "correlation_id": "chaos",
        "office_id": "chaos-office",
        "aggregate_id": "x",
        "aggregate_version": 1,
    }
    known = {
        "ticketing.ticket": "ticketing.TicketIssued",
        "ticketing.window": "ticketing.WindowOpened",
        "ticketing.queue": "ticketing.QueueStatus",
        "appointments.appointment": "appointments.AppointmentCheckedIn",
        "feedback.feedback": "feedback.FeedbackGiven",
    }[topic]
    return [
        ("poison", b"\x00\xff not json at all"),
        ("poison", b'{"event_type": "ticketing.TicketIssued", "truncated'),
        ("poison", json.dumps({**envelope, "event_type": known, "data": {"ticket_id": 17}}).encode()),
        (
            "unknown",
            json.dumps({**envelope, "event_type": "ticketing.TicketTeleported", "data": {}}).encode(),
        ),
    ]


async def test_malformed_and_unknown_events_go_to_dead_letters_or_are_skipped(
    system: System, api: Api, traffic: Traffic, tmp_path: Path
) -> None:
    topics = [
        "ticketing.ticket",
        "ticketing.window",
        "ticketing.queue",
        "appointments.appointment",
        "feedback.feedback",
    ]
    traffic.start()
    await traffic.issued_at_least(5)
    producer = AIOKafkaProducer(bootstrap_servers=system.kafka)
    await producer.start()
    try:
        for topic in topics:
            for _, body in poison_for(topic):
                for partition in range(system.partitions):  # every consumer of every partition meets one
                    # A key: compacted topics (ticketing.queue) refuse records without one.
                    await producer.send_and_wait(
                        system.prefix + topic, body, key=b"chaos", partition=partition
                    )
    finally:
        await producer.stop()
    await traffic.issued_at_least(10)
    await traffic.stop()
    report = await reconciled(system, api, tmp_path)
    poison_each = sum(kind == "poison" for kind, _ in poison_for("ticketing.ticket")) * system.partitions
    for topic in topics:
        consumers = [g for g, lag in report["lag"].items() if system.prefix + topic in lag]
        dead = report["dead_letters"].get(f"{system.prefix}{topic}.dlt", {"total": 0, "poison": 0})
        assert dead["poison"] >= poison_each * len(consumers), (topic, consumers, dead)
        assert dead["total"] == dead["poison"], f"only poison is dead-lettered on {topic}: {dead}"
