"""The notifier against real Kafka and store, a real SMTP server and a stand-in SMS gateway."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from contracts import Envelope, new_event
from contracts.samples import sample_office, sample_service
from contracts.ticketing import TicketCalled, TicketIssued
from notifier.main import create_app
from notifier.settings import Settings
from servicekit.sealing import Sealer, new_citizen_token
from servicekit.testing import Infra, Publisher, eventually, probe

from .conftest import SmsGateway, SseReader, serving

OFFICE = "kzn-kirov-moskov"
PHONE = "+79991234567"


def settings_for(make_settings: Any, keypair: tuple[str, str], gateway: SmsGateway, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "private_key": keypair[1],
        "channel": "live",
        "sms_url": gateway.url,
        "sms_token": "gateway-secret",
        "send_backoff_seconds": 0.05,
        "reminder_sweep_seconds": 0.2,
        "delivery_sweep_seconds": 0.5,
        "board_poll_seconds": 0.05,
        "quiet_hours": "",
        "night_hours": "",
    }
    values.update(overrides)
    return make_settings(Settings, **values)


def event(data: Any, aggregate_id: str, *, version: int = 1) -> Envelope:
    return new_event(
        data, producer="test", office_id=OFFICE, aggregate_id=aggregate_id, aggregate_version=version
    )


async def publish_catalog(publisher: Publisher) -> None:
    await publisher.event(event(sample_office(OFFICE, all_day=True), OFFICE))
    await publisher.event(event(sample_service(office_id=OFFICE), "housing-certificate"))


def issued(
    ticket_id: str,
    number: str,
    sealer: Sealer,
    *,
    position: int = 1,
    contact: str | None = PHONE,
    token: str | None = None,
) -> Envelope:
    now = datetime.now(UTC)
    return event(
        TicketIssued(
            ticket_id=ticket_id,
            number=number,
            service_id="housing-certificate",
            service_ids=["housing-certificate"],
            zone_id="z1",
            channel="kiosk",
            local_day=now.date(),
            issued_at=now,
            position=position,
            estimated_wait_minutes=5 * position,
            contact_sealed=sealer.seal(contact) if contact else None,
            citizen_token_sealed=sealer.seal(token) if token else None,
        ),
        ticket_id,
    )


def called(ticket_id: str, number: str, window: int = 3, call_no: int = 1) -> Envelope:
    return event(
        TicketCalled(
            ticket_id=ticket_id,
            number=number,
            service_id="housing-certificate",
            window_no=window,
            zone_id="z1",
            call_no=call_no,
            operator_ref="op-1",
            waited_seconds=60,
        ),
        ticket_id,
        version=1 + call_no,
    )


async def test_a_call_reaches_the_board_stream_and_the_citizens_phone(
    infra: Infra, make_settings: Any, keypair: tuple[str, str], sms_gateway: SmsGateway, publisher: Publisher
) -> None:
    settings = settings_for(make_settings, keypair, sms_gateway)
    sealer = Sealer(keypair[0])
    token = new_citizen_token()
    await publish_catalog(publisher)
    async with serving(create_app(settings)) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        await eventually(lambda: _board_with_calls(client, 0))  # the catalog arrived: the office is known
        async with client.stream("GET", f"/boards/{OFFICE}/stream") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            stream = SseReader(response)
            first = await stream.next()
            assert first.event == "snapshot" and first.data["calls"] == []
            await publisher.event(issued("t1", "А017", sealer, token=token))
            await publisher.event(called("t1", "А017", window=3))
            call = await stream.until(lambda e: e.event == "call")
        assert call.data["number"] == "А-017" and call.data["window_no"] == 3
        assert call.data["texts"] == {
            "ru": "Талон А-017 — окно 3",
            "tt": "Талон А-017 — 3 нче тәрәзә",
            "en": "Ticket А-017, window 3",
        }
        assert call.data["zone_name"]["ru"] == "Зона 1"
        assert call.id == call.data["seq"] and call.data["announcement_no"] == 1
        texts = await eventually(
            lambda: len(sms_gateway.texts_to(PHONE)) >= 2 and sms_gateway.texts_to(PHONE)
        )
        assert f"http://127.0.0.1:8080/t/{token}" in texts[0]
        assert "окну 3" in texts[1] and "А-017" in texts[1]
        assert all(r["auth"] == "Bearer gateway-secret" for r in sms_gateway.requests)
        async with probe(infra, settings.topic("notifier.notification")) as watcher:
            sent = await watcher.wait_for(lambda e: e.event_type == "notifier.NotificationSent", count=2)
        assert {e.data["template"] for e in sent} == {"ticket_issued", "ticket_called"}
        assert all(PHONE not in e.model_dump_json() and len(e.data["recipient_ref"]) == 16 for e in sent)
        snapshot = (await client.get(f"/boards/{OFFICE}")).json()
        assert snapshot["seq"] == call.id and snapshot["calls"][0]["number"] == "А-017"


async def test_a_redelivered_call_is_neither_announced_nor_texted_twice_but_a_recall_is(
    make_settings: Any, keypair: tuple[str, str], sms_gateway: SmsGateway, publisher: Publisher
) -> None:
    settings = settings_for(make_settings, keypair, sms_gateway)
    sealer = Sealer(keypair[0])
    await publish_catalog(publisher)
    await publisher.event(issued("t2", "А018", sealer))
    same = called("t2", "А018", window=5)
    await publisher.event(same)
    await publisher.event(same)  # the same bytes again: a redelivery
    await publisher.event(called("t2", "А018", window=5, call_no=2))  # a recall is a new announcement
    await publisher.event(called("t3", "А019", window=6))  # a marker: same office, same partition, after them
    async with serving(create_app(settings)) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def board_shows_marker() -> Any:
            board = await _board_with_calls(client, 1)
            return board if board and any(c["number"] == "А-019" for c in board["calls"]) else None

        board = await eventually(board_shows_marker)
        numbers = [(c["number"], c["call_no"], c["announcement_no"]) for c in reversed(board["calls"])]
        assert numbers == [("А-018", 1, 1), ("А-018", 2, 2), ("А-019", 1, 3)]
        await eventually(lambda: len(sms_gateway.texts_to(PHONE)) >= 3)
        await asyncio.sleep(0.5)  # deliberately give a duplicate send time to show up
        calls = [t for t in sms_gateway.texts_to(PHONE) if "окну 5" in t]
        assert len(calls) == 2  # the call and the recall, not the redelivery


async def test_the_board_group_first_started_on_a_live_system_announces_no_retained_call_again(
    infra: Infra, make_settings: Any, keypair: tuple[str, str], sms_gateway: SmsGateway, publisher: Publisher
) -> None:
    settings = settings_for(make_settings, keypair, sms_gateway)
    await publish_catalog(publisher)
    await publisher.event(called("t30", "В001", window=1))
    await publisher.event(called("t31", "В002", window=2))
    # The version before the board group: its main group read (and announced) these calls.
    await commit_to_end(infra, settings.group_id, settings.topic("ticketing.ticket"))
    async with serving(create_app(settings)) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        await publisher.event(called("t32", "В003", window=4))

        async def board_shows_new_call() -> Any:
            board = await _board_with_calls(client, 1)
            return board if board and any(c["number"] == "В-003" for c in board["calls"]) else None

        board = await eventually(board_shows_new_call)
        assert [c["number"] for c in board["calls"]] == ["В-003"]  # not В-001 and В-002 again
        metrics = (await client.get("/metrics")).text  # both groups' lag, each under its own name
        assert f'onewindow_consumer_lag{{group="{settings.group_id}-board"' in metrics
        assert f'onewindow_consumer_lag{{group="{settings.group_id}"' in metrics


async def test_the_hall_s_calls_and_the_messages_run_in_two_processes_each_doing_its_part(
    infra: Infra, make_settings: Any, keypair: tuple[str, str], sms_gateway: SmsGateway, publisher: Publisher
) -> None:
    """As deployed: one process with the messages' group, one with the board's (NOTIFIER_CONSUMERS).
    The call is on the board (first on the stream of the process that wrote it), the citizen gets
    each message once, and each process runs only its own group."""
    messages = settings_for(make_settings, keypair, sms_gateway, consumers="messages")
    board = settings_for(make_settings, keypair, sms_gateway, consumers="board", board_poll_seconds=3600)
    sealer = Sealer(keypair[0])
    await publish_catalog(publisher)
    async with (
        serving(create_app(messages)) as messages_url,
        serving(create_app(board)) as board_url,
        httpx.AsyncClient(base_url=board_url, timeout=30) as client,
    ):
        await eventually(lambda: _board_with_calls(client, 0))  # the catalog arrived: the office is known
        async with client.stream("GET", f"/boards/{OFFICE}/stream") as response:
            stream = SseReader(response)
            assert (await stream.next()).event == "snapshot"
            await publisher.event(issued("t40", "Г001", sealer))
            await publisher.event(called("t40", "Г001", window=7))
            # The board process polls the store once an hour here: the call came with its write.
            call = await stream.until(lambda e: e.event == "call")
        assert call.data["number"] == "Г-001" and call.data["window_no"] == 7
        texts = await eventually(lambda: sms_gateway.texts_to(PHONE), lambda sent: len(sent) >= 2)
        assert len(texts) == 2 and "окну 7" in texts[1]  # the ticket and the call, once each
        async with httpx.AsyncClient(timeout=30) as plain:
            board_metrics = (await plain.get(f"{board_url}/metrics")).text
            messages_metrics = (await plain.get(f"{messages_url}/metrics")).text
        assert f'group="{board.group_id}-board"' in board_metrics
        assert f'group="{board.group_id}"' not in board_metrics
        assert f'group="{messages.group_id}"' in messages_metrics
        assert f'group="{messages.group_id}-board"' not in messages_metrics


async def commit_to_end(infra: Infra, group: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partitions = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=infra.kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def test_reconnecting_with_last_event_id_gets_only_newer_items(
    make_settings: Any, keypair: tuple[str, str], sms_gateway: SmsGateway, publisher: Publisher
) -> None:
    settings = settings_for(make_settings, keypair, sms_gateway)
    await publish_catalog(publisher)
    await publisher.event(called("t10", "Б001", window=1))
    app = create_app(settings)
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        first = await eventually(lambda: _board_with_calls(client, 1))
        seen = first["seq"]
        await publisher.event(called("t11", "Б002", window=2))
        await publisher.event(called("t12", "Б003", window=4))
        await eventually(lambda: _board_with_calls(client, 3))
        async with client.stream(
            "GET", f"/boards/{OFFICE}/stream", headers={"Last-Event-ID": str(seen)}
        ) as resp:
            stream = SseReader(resp)
            items = [await stream.next(), await stream.next()]
        assert [(i.event, i.data["number"]) for i in items] == [("call", "Б-002"), ("call", "Б-003")]
        assert all(i.id is not None and i.id > seen for i in items)
        assert items[0].id < items[1].id  # announced in order
        # A board that disconnected costs nothing: no watcher and no poller are left behind.
        await eventually(lambda: app.state.board_hub.watchers == 0 and not app.state.board_hub.feeds)


async def _board_with_calls(client: httpx.AsyncClient, count: int) -> Any:
    response = await client.get(f"/boards/{OFFICE}")
    if response.status_code != 200:
        return None
    board = response.json()
    return board if len(board["calls"]) >= count else None
