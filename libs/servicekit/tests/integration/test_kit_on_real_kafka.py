"""The kit against the real broker and store: outbox relay, crash recovery, dead letters, commits."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import structlog.testing
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaTimeoutError
from contracts import Envelope, new_event
from contracts.ticketing import WindowOpened, WindowPaused
from prometheus_client import CollectorRegistry
from servicekit.fakes import RecordingProducer
from servicekit.kafka import EventRouter
from servicekit.outbox import OutboxRelay
from servicekit.runtime import ServiceRuntime
from servicekit.settings import ServiceSettings
from servicekit.store import CREATED_FROM, AggregateStore, ConcurrentChange
from servicekit.testing import Infra, probe


def window_event(office: str, window: int, kind: type = WindowOpened) -> Envelope:
    extra: dict[str, Any] = {"service_ids": ["s1"]} if kind is WindowOpened else {}
    return new_event(
        kind(window_no=window, zone_id="z1", operator_ref="op", **extra),
        producer="test",
        office_id=office,
        aggregate_id=f"{office}:{window}",
        aggregate_version=1,
    )


async def test_a_sweep_leaves_fresh_entries_to_the_relay_of_the_writer(make_settings: Any) -> None:
    settings = make_settings(ServiceSettings, service_name="kit")
    runtime = ServiceRuntime(settings)
    windows = AggregateStore(runtime.db, "windows")
    await windows.create({"_id": "o6:1"}, [window_event("o6", 1)])
    sent: list[Envelope] = []

    async def publish(envelope: Envelope) -> None:
        sent.append(envelope)

    relay = OutboxRelay([windows], publish, CollectorRegistry())
    assert await relay.sweep() == 0 and sent == []  # a fresh event is the writer's to send
    assert await relay.sweep(min_age_seconds=0) == 1
    await runtime.mongo.close()


async def test_relay_publishes_exactly_the_pending_events_and_removes_them(
    infra: Infra, make_settings: Any
) -> None:
    settings = make_settings(ServiceSettings, service_name="kit")
    runtime = ServiceRuntime(settings)
    windows = AggregateStore(runtime.db, "windows")
    runtime.add_aggregates(windows)
    events = [window_event("o1", n) for n in range(1, 6)]
    for n, event in enumerate(events, start=1):
        await windows.create({"_id": f"o1:{n}", "state": "open"}, [event])
    await runtime.start()
    try:
        async with probe(infra, settings.topic("ticketing.window")) as watcher:
            await runtime.relay.sweep(min_age_seconds=0)  # type: ignore[union-attr]
            seen = await watcher.wait_for(lambda e: e.event_type == "ticketing.WindowOpened", count=5)
            assert sorted(str(e.event_id) for e in seen) == sorted(str(e.event_id) for e in events)
            assert all(record.key == b"o1" for record in watcher.raw)
        await runtime.relay.clear_published(everything=True)  # type: ignore[union-attr]
        assert await windows.backlog() == 0
        assert [doc["outbox"] async for doc in windows.collection.find({})] == [[]] * 5
    finally:
        await runtime.stop()


async def test_a_relay_killed_midway_loses_nothing_after_restart(infra: Infra, make_settings: Any) -> None:
    settings = make_settings(ServiceSettings, service_name="kit")
    runtime = ServiceRuntime(settings)
    windows = AggregateStore(runtime.db, "windows")
    events = [window_event("o2", n) for n in range(1, 11)]
    for n, event in enumerate(events, start=1):
        await windows.create({"_id": f"o2:{n}"}, [event])
    await runtime.broker.start()
    await runtime.producer.start()
    published: list[str] = []

    async def publish_then_crash(envelope: Envelope) -> None:
        if len(published) == 4:
            raise ConnectionError("relay killed")
        await runtime.publish(envelope)
        published.append(str(envelope.event_id))

    first = OutboxRelay([windows], publish_then_crash, CollectorRegistry())
    await first.sweep(min_age_seconds=0)  # publishes 4, then every send fails: the sweep goes on
    assert len(published) == 4
    # A new process: fresh store object (no memory of what was published), fresh relay.
    restarted = AggregateStore(runtime.db, "windows")
    second = OutboxRelay([restarted], runtime.publish, CollectorRegistry())
    await second.sweep(min_age_seconds=0)
    await second.clear_published(everything=True)
    async with probe(infra, settings.topic("ticketing.window")) as watcher:
        seen = await watcher.wait_for(lambda e: True, count=10)
        assert {str(e.event_id) for e in seen} == {str(e.event_id) for e in events}
    assert await restarted.backlog() == 0
    await runtime.producer.stop()
    await runtime.broker.stop()
    await runtime.mongo.close()


async def test_two_writers_never_both_win_the_same_revision(make_settings: Any) -> None:
    settings = make_settings(ServiceSettings, service_name="kit")
    runtime = ServiceRuntime(settings)
    store = AggregateStore(runtime.db, "counters")
    await store.create({"_id": "c", "n": 0})
    current = await store.load("c")

    async def bump(i: int) -> bool:
        try:
            await store.commit(current, {"n": current["n"] + 1, "by": i})
            return True
        except ConcurrentChange:
            return False

    wins = await asyncio.gather(*(bump(i) for i in range(30)))
    assert sum(wins) == 1
    assert (await store.load("c"))["rev"] == 2

    async def increment(_: int) -> None:
        await store.change("c", lambda doc: ({"n": doc["n"] + 1}, []), attempts=200)

    await asyncio.gather(*(increment(i) for i in range(20)))
    assert (await store.load("c"))["n"] == 21
    await runtime.mongo.close()


async def test_poison_goes_to_the_dead_letters_and_later_messages_are_handled(
    infra: Infra, make_settings: Any
) -> None:
    settings = make_settings(ServiceSettings, service_name="kit", ONEWINDOW_HANDLER_RETRIES=1)
    runtime = ServiceRuntime(settings)
    router = EventRouter()
    handled: list[int] = []
    all_handled = asyncio.Event()

    @router.on(WindowOpened)
    async def on_opened(_: Envelope, data: WindowOpened) -> None:
        if data.window_no == 2:
            raise RuntimeError("window 2 breaks the handler")
        handled.append(data.window_no)
        if len(handled) == 2:
            all_handled.set()

    runtime.consume(router)
    topic = settings.topic("ticketing.window")
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka)
    await producer.start()
    try:
        for payload in (
            window_event("o3", 1).model_dump_json().encode(),
            b"{not json at all",
            window_event("o3", 2).model_dump_json().encode(),
            window_event("o3", 9)
            .model_dump_json()
            .encode()
            .replace(b"ticketing.WindowOpened", b"ticketing.Future"),
            window_event("o3", 3).model_dump_json().encode(),
        ):
            await producer.send_and_wait(topic, payload, key=b"o3", partition=0)
    finally:
        await producer.stop()
    await runtime.start()
    try:
        await asyncio.wait_for(all_handled.wait(), timeout=60)
        assert handled == [1, 3]
        async with probe(infra, f"{topic}.dlt") as watcher:
            while len(watcher.raw) < 2:
                await watcher._poll(1.0)
            headers = [{k: v.decode() for k, v in record.headers} for record in watcher.raw]
            assert {h["dlt.error_type"] for h in headers} == {"MalformedEvent", "RuntimeError"}
            assert all(h["dlt.topic"] == topic for h in headers)
            assert b"{not json at all" in [record.value for record in watcher.raw]
    finally:
        await runtime.stop()


async def test_a_failing_handler_does_not_commit_its_offset(infra: Infra, make_settings: Any) -> None:
    settings = make_settings(
        ServiceSettings, service_name="kit", ONEWINDOW_HANDLER_RETRIES=1000, ONEWINDOW_HANDLER_BACKOFF=0.01
    )
    runtime = ServiceRuntime(settings)
    router = EventRouter()
    attempts = asyncio.Event()
    calls = 0

    @router.on(WindowPaused)
    async def on_paused(_: Envelope, __: WindowPaused) -> None:
        nonlocal calls
        calls += 1
        if calls >= 3:
            attempts.set()
        raise RuntimeError("store down")

    runtime.consume(router)
    topic = settings.topic("ticketing.window")
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka)
    await producer.start()
    await producer.send_and_wait(
        topic, window_event("o4", 1, WindowPaused).model_dump_json().encode(), partition=0
    )
    await producer.stop()
    await runtime.start()
    try:
        await asyncio.wait_for(attempts.wait(), timeout=60)
    finally:
        await runtime.stop()
    checker = AIOKafkaConsumer(
        bootstrap_servers=infra.kafka, group_id=settings.group_id, enable_auto_commit=False
    )
    await checker.start()
    try:
        committed = await checker.committed(TopicPartition(topic, 0))
        assert committed in (None, 0), f"offset {committed} committed although the handler never succeeded"
    finally:
        await checker.stop()


def test_event_ids_are_stable_in_the_outbox() -> None:
    event = window_event("o5", 1)
    again = Envelope.model_validate(event.model_dump(mode="json"))
    assert again.event_id == event.event_id and isinstance(again.event_id, uuid.UUID)


async def test_an_old_copy_meeting_an_old_claim_never_rolls_the_aggregate_back(make_settings: Any) -> None:
    settings = make_settings(ServiceSettings, service_name="kit")
    runtime = ServiceRuntime(settings)
    store = AggregateStore(runtime.db, "tickets")
    await store.create({"_id": "t", "state": "waiting"})
    stale_copy = await store.load("t")
    await store.commit(stale_copy, {"state": "called"})
    latest = await store.commit(await store.load("t"), {"state": "serving"})
    # Age every claim past the staleness limit, as if the old copy had been held for minutes.
    await store.claims.update_many({}, {"$set": {"at": datetime.now(UTC) - timedelta(minutes=1)}})
    with pytest.raises(ConcurrentChange):
        await store.commit(stale_copy, {"state": "cancelled"})
    assert (await store.load("t"))["state"] == "serving"
    assert (await store.load("t"))["rev"] == latest["rev"]
    await runtime.mongo.close()


async def test_a_batch_of_changes_is_one_write_several_revisions_on_and_competes_like_one(
    make_settings: Any,
) -> None:
    settings = make_settings(ServiceSettings, service_name="kit")
    runtime = ServiceRuntime(settings)
    store = AggregateStore(runtime.db, "boards")
    await store.create({"_id": "b", "calls": []})
    current = await store.load("b")
    batched = await store.commit(current, {"calls": [1, 2, 3]}, revisions=3)
    assert batched["rev"] == 4 and (await store.load("b"))["rev"] == 4
    # A writer that read revision 1 competes for revision 2, taken by the batch: it loses.
    with pytest.raises(ConcurrentChange):
        await store.commit(current, {"calls": [9]})
    # A batch writer that died between its claim and its write is rolled forward (all three revisions).
    died = {**batched, "calls": [1, 2, 3, 4, 5], "rev": 6}
    await store.claims.insert_one(
        {"_id": "boards:b:5", "at": datetime.now(UTC) - timedelta(minutes=1), "m": 0, "doc": died}
    )
    with pytest.raises(ConcurrentChange):
        await store.commit(batched, {"calls": [0]})
    assert (await store.load("b"))["calls"] == [1, 2, 3, 4, 5]
    assert (await store.commit(await store.load("b"), {"calls": []}))["rev"] == 7
    await runtime.mongo.close()


async def test_claim_sweeps_begin_at_the_store_s_first_start_and_roll_forward_what_a_writer_left(
    make_settings: Any,
) -> None:
    """The first start records where the store's claim sweeps begin (no claim of it is older), so
    a first sweep reads a few minutes, not a day of them; a restart keeps that point. A claim a
    writer left behind since is rolled forward; another store's claim is left to it."""
    runtime = ServiceRuntime(make_settings(ServiceSettings, service_name="kit"))
    store = AggregateStore(runtime.db, "boards")
    await store.ensure_indexes()
    started = await store.sweeps.find_one({"_id": "swept:boards"})
    now = int(datetime.now(UTC).timestamp() // 60)
    assert started is not None and now - 2 <= started["m"] <= now
    # Pretend that first start was two hours ago, and a writer died an hour ago.
    await store.sweeps.replace_one({"_id": "swept:boards"}, {"_id": "swept:boards", "m": now - 120})
    await store.ensure_indexes()  # a restart does not move it
    assert (await store.sweeps.find_one({"_id": "swept:boards"}))["m"] == now - 120  # type: ignore[index]
    await store.create({"_id": "b", "calls": []})
    died = {**(await store.load("b")), "calls": [7], "rev": 2}
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    await store.claims.insert_one({"_id": "boards:b:2", "at": an_hour_ago, "m": now - 60, "doc": died})
    await store.claims.insert_one({"_id": "other:x:2", "at": an_hour_ago, "m": now - 60, "doc": {"_id": "x"}})
    assert await store.sweep_claims() == 1
    assert (await store.load("b"))["calls"] == [7]
    assert await store.claims.find_one({"_id": "boards:b:2"}) is None
    assert await store.claims.find_one({"_id": "other:x:2"}) is not None
    assert await store.sweep_claims() == 0  # from where the last sweep stopped
    await runtime.mongo.close()


async def test_readiness_fails_while_publishing_keeps_failing(make_settings: Any) -> None:
    from servicekit.testing import running

    runtime = ServiceRuntime(make_settings(ServiceSettings, service_name="kit"))
    app = runtime.create_app(title="kit")
    async with running(app) as client:
        assert (await client.get("/health/ready")).status_code == 200
        runtime.producer.consecutive_failures = 3
        answer = await client.get("/health/ready")
        assert answer.status_code == 503 and answer.json()["publishing"] == "failing"


async def test_created_by_a_consumer_its_events_go_out_with_the_poll_and_again_only_on_its_replay(
    make_settings: Any,
) -> None:
    settings = make_settings(ServiceSettings, service_name="kit")
    runtime = ServiceRuntime(settings)
    windows = AggregateStore(runtime.db, "windows")
    producer = RecordingProducer()
    events = [window_event("o8", n) for n in range(3)]
    items = [({"_id": f"o8:{n}", CREATED_FROM: f"t:0:{n}"}, [events[n]]) for n in range(3)]

    created = await windows.create_many(items[:2], publish_all=producer.publish_all)
    assert [doc["_id"] for doc in created] == ["o8:0", "o8:1"] and producer.sent == events[:2]
    assert await windows.backlog() == 0 and all(not doc["outbox"] for doc in created)  # no relay, no marker

    # The same records replayed (a crash before the commit) with a new one: theirs go out again.
    producer.sent.clear()
    created = await windows.create_many(items, publish_all=producer.publish_all)
    assert [doc["_id"] for doc in created] == ["o8:2"]
    assert sorted(str(e.event_id) for e in producer.sent) == sorted(str(e.event_id) for e in events)

    # An upstream duplicate (another record) makes nothing: the first one published already.
    producer.sent.clear()
    duplicate = ({"_id": "o8:0", CREATED_FROM: "t:0:99"}, [window_event("o8", 0)])
    assert await windows.create_many([duplicate], publish_all=producer.publish_all) == []
    assert producer.sent == []
    await runtime.mongo.close()


async def test_created_by_a_consumer_its_events_go_to_the_outbox_when_the_publish_fails(
    make_settings: Any,
) -> None:
    settings = make_settings(ServiceSettings, service_name="kit")
    runtime = ServiceRuntime(settings)
    windows = AggregateStore(runtime.db, "windows")
    events = [window_event("o9", n) for n in range(2)]
    items = [({"_id": f"o9:{n}", CREATED_FROM: f"t:0:{n}"}, [events[n]]) for n in range(2)]
    attempts: list[int] = []

    async def refuse(envelopes: Any) -> None:
        attempts.append(len(envelopes))
        raise KafkaTimeoutError()

    created = await windows.create_many(items, publish_all=refuse)  # no exception: nothing to retry
    assert [doc["_id"] for doc in created] == ["o9:0", "o9:1"] and attempts == [2]
    assert await windows.backlog() == 2  # marked for the relay's sweeper
    # The same input replayed while publishing still fails: each event is in its outbox once.
    await windows.create_many(items, publish_all=refuse)
    stored = [await windows.load(f"o9:{n}") for n in range(2)]
    assert [[entry["event_id"] for entry in doc["outbox"]] for doc in stored] == [
        [str(events[0].event_id)],
        [str(events[1].event_id)],
    ]
    producer = RecordingProducer()
    relay = OutboxRelay([windows], producer.publish, CollectorRegistry())
    assert await relay.sweep(min_age_seconds=0) == 2
    assert sorted(str(e.event_id) for e in producer.sent) == sorted(str(e.event_id) for e in events)
    await runtime.mongo.close()


async def test_a_slow_stop_step_is_logged_by_name(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop that overruns its grace period must say which step took the time."""
    import servicekit.runtime

    monkeypatch.setattr(servicekit.runtime, "SLOW_STOP_STEP_SECONDS", 0.05)
    monkeypatch.setattr(servicekit.runtime, "STUCK_STOP_STEP_SECONDS", 0.1)
    runtime = ServiceRuntime(make_settings(ServiceSettings, service_name="kit"))

    async def release_the_offices() -> None:
        await asyncio.sleep(0.2)

    async def close_quickly() -> None:
        return None

    runtime.on_stop += [release_the_offices, close_quickly]
    await runtime.start()
    with structlog.testing.capture_logs() as logs:
        await runtime.stop()
    slow = [entry for entry in logs if entry["event"] == "slow stop step"]
    assert [entry["step"] for entry in slow if "quickly" in entry["step"] or "offices" in entry["step"]] == [
        "test_a_slow_stop_step_is_logged_by_name.<locals>.release_the_offices"
    ]
    # still running at 0.1 s: named, with the await it hangs in (a kill at 30 s leaves only this)
    [stuck] = [entry for entry in logs if entry["event"] == "stop step still running"]
    assert stuck["step"].endswith("release_the_offices")
    assert any("release_the_offices:" in chain and "sleep:" in chain for chain in stuck["waiting_in"])
    assert any(entry["event"] == "service stopped" for entry in logs)


async def test_a_relay_stops_even_when_a_periodic_call_swallows_the_cancel(make_settings: Any) -> None:
    """A cancel that lands inside a store or Kafka call can be swallowed there; the loop then went
    back to sleep and the stop waited for it past the grace period (a catalog stop overran 30 s)."""
    runtime = ServiceRuntime(make_settings(ServiceSettings, service_name="kit"))
    windows = AggregateStore(runtime.db, "windows")
    relay = OutboxRelay([windows], RecordingProducer().publish, CollectorRegistry(), sweep_seconds=0.01)
    sweeping = asyncio.Event()

    async def sweep_that_swallows_a_cancel(min_age_seconds: float | None = None) -> int:
        sweeping.set()
        try:
            await asyncio.sleep(0.3)
        except asyncio.CancelledError:
            pass  # as a library call may
        return 0

    relay.sweep = sweep_that_swallows_a_cancel  # type: ignore[method-assign]
    await relay.start()
    await asyncio.wait_for(sweeping.wait(), 10)
    stopping = asyncio.create_task(relay.stop())
    done, _ = await asyncio.wait([stopping], timeout=10)
    assert done, "the relay's stop still waits for a loop that swallowed its cancel"
    await runtime.mongo.close()
