"""One writer per office across ticketing processes: ownership, forwarding, takeover, fencing."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from servicekit.store import connect
from servicekit.testing import Infra, probe
from ticketing.settings import Settings

from .conftest import OFFICE, auth
from .replicas import owner_url, processes_at, replica_set

TICKET = {"office_id": OFFICE, "service_id": "housing-certificate"}
# The smallest session timeout the broker accepts: a dead owner's offices move after ~6 s.
FAST_TAKEOVER = {"TICKETING_OWNERSHIP_SESSION_TIMEOUT_MS": "6000"}


@pytest.fixture
def settings(make_settings: Any) -> Settings:
    result: Settings = make_settings(Settings)
    return result


@pytest.fixture
async def ticketing_db(settings: Settings) -> AsyncIterator[Any]:
    """Ticketing's own database, read directly: owner records and the office log."""
    mongo = connect(settings.mongo_url, app_name="tests")
    try:
        yield mongo[settings.database_name]
    finally:
        await mongo.close()


async def retrying(send: Any, within: float = 45.0) -> httpx.Response:
    """What a kiosk does: retry on 503 (handover) or a dropped connection until it gets an answer."""
    deadline = time.monotonic() + within
    while True:
        try:
            response: httpx.Response = await send()
            if response.status_code != 503 or time.monotonic() > deadline:
                return response
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.2)


async def test_the_same_windows_call_next_sent_to_both_replicas_calls_one_ticket_and_no_event_twice(
    infra: Infra, make_settings: Any, tmp_path: Path
) -> None:
    settings: Settings = make_settings(Settings)
    topics = [settings.topic("ticketing.ticket"), settings.topic("ticketing.window")]
    async with probe(infra, *topics) as watcher, replica_set(infra, settings, tmp_path) as (_, clients):
        operator = auth(settings, "operator-1")
        kiosk = auth(settings, "kiosk-1", "kiosk")
        opened = await clients[0].post(
            "/windows/open",
            json={"office_id": OFFICE, "window_no": 1, "service_ids": ["housing-certificate"]},
            headers=operator,
        )
        assert opened.status_code == 200, opened.text
        for n in range(3):
            assert (await clients[n % 2].post("/tickets", json=TICKET, headers=kiosk)).status_code == 201

        double_click = await asyncio.gather(
            *(client.post(f"/windows/{OFFICE}/1/call-next", headers=operator) for client in clients)
        )
        assert sorted(r.status_code for r in double_click) == [200, 409], [r.text for r in double_click]
        refused = next(r for r in double_click if r.status_code == 409)
        assert "still has a ticket" in refused.json()["reason"]
        called = next(r for r in double_click if r.status_code == 200).json()

        for step, body in (("start", {}), ("complete", {"outcome": "served"})):
            answer = await clients[1].post(f"/windows/{OFFICE}/1/{step}", json=body, headers=operator)
            assert answer.status_code == 200, answer.text
        # One office's events are in log order on one partition: once the completion is there,
        # every call committed before it is there too.
        await watcher.wait_for(lambda e: e.event_type == "ticketing.ServiceCompleted")
        calls = watcher.of_type("ticketing.TicketCalled")
        assert [e.data["ticket_id"] for e in calls] == [called["ticket_id"]]
        ids = [str(envelope.event_id) for envelope, *_ in watcher.seen]
        duplicates = [i for i, n in Counter(ids).items() if n > 1]
        assert not duplicates, f"{len(duplicates)} events published twice in normal operation"
        assert len(ids) >= 6  # window opened, 3 issued, called, started, completed


async def test_issues_spread_ninety_to_ten_over_two_replicas_get_contiguous_numbers(
    infra: Infra, make_settings: Any, tmp_path: Path
) -> None:
    settings: Settings = make_settings(Settings)
    async with replica_set(infra, settings, tmp_path) as (_, clients):
        kiosk = auth(settings, "kiosk-1", "kiosk")
        in_flight = asyncio.Semaphore(32)

        async def take(n: int) -> httpx.Response:
            async with in_flight:
                return await clients[1 if n % 10 == 0 else 0].post("/tickets", json=TICKET, headers=kiosk)

        responses = await asyncio.gather(*(take(n) for n in range(200)))
        assert all(r.status_code == 201 for r in responses), [
            r.text for r in responses if r.status_code != 201
        ][:3]
        numbers = sorted(r.json()["number"] for r in responses)
        assert numbers == [f"А{n:03d}" for n in range(1, 201)]


async def test_killing_the_owner_mid_burst_moves_the_office_and_loses_no_acknowledged_ticket_or_call(
    infra: Infra, settings: Settings, ticketing_db: Any, tmp_path: Path
) -> None:
    db = ticketing_db
    topic = settings.topic("ticketing.ticket")
    async with (
        probe(infra, topic) as watcher,
        replica_set(infra, settings, tmp_path, **FAST_TAKEOVER) as (started, clients),
    ):
        owner = await owner_url(db)
        doomed = next(i for i, r in enumerate(started) if r.url == owner)
        survivor = clients[1 - doomed]
        kiosk = auth(settings, "kiosk-1", "kiosk")
        operators = {w: auth(settings, f"operator-{w}") for w in range(1, 5)}
        for w, headers in operators.items():
            body = {"office_id": OFFICE, "window_no": w, "service_ids": ["housing-certificate"]}
            assert (await survivor.post("/windows/open", json=body, headers=headers)).status_code == 200

        acknowledged: list[str] = []
        called: list[str] = []
        killed = asyncio.Event()

        async def issue(n: int) -> None:
            def pick() -> httpx.AsyncClient:  # a kiosk sent to a dead replica ends up on the other
                return survivor if killed.is_set() else clients[n % 2]

            answer = await retrying(lambda: pick().post("/tickets", json=TICKET, headers=kiosk))
            if answer.status_code == 201:
                acknowledged.append(answer.json()["ticket_id"])
            if len(acknowledged) == 40 and not killed.is_set():
                killed.set()
                started[doomed].kill()

        async def window(w: int) -> None:
            for _ in range(6):
                path = f"/windows/{OFFICE}/{w}"
                call = await retrying(lambda p=path: survivor.post(f"{p}/call-next", headers=operators[w]))
                if call.status_code != 200:
                    await asyncio.sleep(0.1)
                    continue
                called.append(call.json()["ticket_id"])
                for step, body in (("start", {}), ("complete", {"outcome": "served"})):
                    done = await retrying(
                        lambda p=path, s=step, b=body: survivor.post(f"{p}/{s}", json=b, headers=operators[w])
                    )
                    # A step whose answer was lost with the killed owner and then sent again finds it
                    # already done: the operator sees the ticket's state, not a change.
                    already = {"start": ("serving",), "complete": ("done", "waiting")}[step]
                    assert done.status_code == 200 or (
                        done.status_code == 409 and done.json().get("ticket_state") in already
                    ), done.text

        in_flight = asyncio.Semaphore(8)

        async def paced(n: int) -> None:
            async with in_flight:
                await issue(n)

        await asyncio.gather(*(paced(n) for n in range(120)), *(window(w) for w in operators))
        assert killed.is_set()
        assert await owner_url(db) == started[1 - doomed].url, "the survivor did not take the office"

        stored = {d["_id"]: d async for d in db["tickets"].find({"office_id": OFFICE})}
        missing = [t for t in acknowledged if t not in stored]
        assert not missing, f"{len(missing)} acknowledged tickets lost"
        numbers = [d["number"] for d in stored.values()]
        assert len(numbers) == len(set(numbers)), "a number was issued twice"

        # Every acknowledged call is on the topic, and no ticket was called twice (a resend of
        # the same event around the takeover carries the same event id).
        async def all_calls_published() -> bool:
            await watcher._poll(0.5)
            seen = {e.data["ticket_id"] for e in watcher.of_type("ticketing.TicketCalled")}
            return set(called) <= seen

        deadline = time.monotonic() + 30
        while not await all_calls_published():
            assert time.monotonic() < deadline, "an acknowledged call never reached the topic"
        first_calls: dict[str, set[str]] = {}
        for envelope in watcher.of_type("ticketing.TicketCalled"):
            if envelope.data["call_no"] == 1:
                first_calls.setdefault(envelope.data["ticket_id"], set()).add(str(envelope.event_id))
        twice = [t for t, events in first_calls.items() if len(events) > 1]
        assert not twice, f"tickets called twice: {twice}"


async def test_a_paused_owner_resumed_after_a_takeover_commits_nothing(
    infra: Infra, settings: Settings, ticketing_db: Any, tmp_path: Path
) -> None:
    db = ticketing_db
    async with replica_set(infra, settings, tmp_path, **FAST_TAKEOVER) as (started, clients):
        owner = await owner_url(db)
        zombie = next(i for i, r in enumerate(started) if r.url == owner)
        survivor = clients[1 - zombie]
        kiosk = auth(settings, "kiosk-1", "kiosk")
        for _ in range(3):
            assert (await survivor.post("/tickets", json=TICKET, headers=kiosk)).status_code == 201
        started[zombie].pause()
        # The survivor's next tickets wait for the takeover (the paused owner stops heartbeating).
        after = [
            await retrying(lambda: survivor.post("/tickets", json=TICKET, headers=kiosk)) for _ in range(3)
        ]
        assert [r.status_code for r in after] == [201] * 3
        assert await owner_url(db) == started[1 - zombie].url
        fence = await db["office_log"].find_one(
            {"office_id": OFFICE, "fence": True, "owner": {"$regex": "^" + started[1 - zombie].url}}
        )
        assert fence is not None

        started[zombie].resume()
        # Straight to the zombie: it forwards (it learned of the takeover) or it tries to
        # commit and its append collides with the new owner's fence. Never a second writer.
        answers = []
        for _ in range(3):
            with contextlib.suppress(httpx.TransportError):
                answers.append(await clients[zombie].post("/tickets", json=TICKET, headers=kiosk))
        assert all(a.status_code in (201, 503) for a in answers), [a.text for a in answers]

        entries = sorted(
            [d async for d in db["office_log"].find({"office_id": OFFICE})], key=lambda e: e["seq"]
        )
        later = [e for e in entries if e["seq"] > fence["seq"]]
        zombie_url = started[zombie].url
        # The zombie may own the office again after the group settles (a rebalance can hand its
        # partition back): then it fences first. What it must never do is write before that.
        comeback = next(
            (e["seq"] for e in later if e.get("fence") and e["owner"].startswith(zombie_url + "#")), None
        )
        stale = [
            e["seq"]
            for e in later
            if e["owner"].startswith(zombie_url + "#") and (comeback is None or e["seq"] < comeback)
        ]
        assert not stale, f"the zombie committed after the fence without taking over: {stale}"
        numbers = [d["number"] async for d in db["tickets"].find({"office_id": OFFICE})]
        assert len(numbers) == len(set(numbers)) == 6 + sum(a.status_code == 201 for a in answers)


async def test_one_of_three_replicas_killed_while_calling_hands_its_offices_over_and_takes_some_back(
    infra: Infra, settings: Settings, ticketing_db: Any, tmp_path: Path
) -> None:
    db = ticketing_db
    async with replica_set(infra, settings, tmp_path, count=3, **FAST_TAKEOVER) as (started, clients):
        owner = await owner_url(db)
        doomed = next(i for i, r in enumerate(started) if r.url == owner)
        survivors = [c for i, c in enumerate(clients) if i != doomed]
        kiosk = auth(settings, "kiosk-1", "kiosk")
        operator = auth(settings, "operator-1")
        body = {"office_id": OFFICE, "window_no": 1, "service_ids": ["housing-certificate"]}
        assert (await survivors[0].post("/windows/open", json=body, headers=operator)).status_code == 200
        issued = [await survivors[n % 2].post("/tickets", json=TICKET, headers=kiosk) for n in range(6)]
        assert all(r.status_code == 201 for r in issued)
        path = f"/windows/{OFFICE}/1"
        called = [(await survivors[0].post(f"{path}/call-next", headers=operator)).json()["ticket_id"]]
        killed_at = time.monotonic()
        started[doomed].kill()
        for n in range(5):  # the operator goes on; the first answers wait for the takeover
            client = survivors[n % 2]
            for step, payload in (("start", {}), ("complete", {"outcome": "served"})):
                done = await retrying(
                    lambda s=step, p=payload, c=client: c.post(f"{path}/{s}", json=p, headers=operator)
                )
                assert done.status_code == 200, done.text
            call = await retrying(lambda c=client: c.post(f"{path}/call-next", headers=operator))
            assert call.status_code == 200, call.text
            called.append(call.json()["ticket_id"])
        moved_after = time.monotonic() - killed_at
        assert await owner_url(db) in {r.url for i, r in enumerate(started) if i != doomed}
        assert moved_after < 45, f"the office moved after {moved_after:.0f}s"
        assert len(called) == len(set(called)) == 6, "a ticket was called twice or one was skipped"
        assert set(called) == {r.json()["ticket_id"] for r in issued}

        # The killed replica comes back on its address and gets a share of the partitions again.
        port = started[doomed].url.rsplit(":", 1)[1]
        with processes_at(settings, tmp_path, [port], **FAST_TAKEOVER):

            async def rejoined() -> bool:
                owners = [d["url"] async for d in db["office_owners"].find({})]
                return started[doomed].url in owners

            deadline = time.monotonic() + 60
            while not await rejoined():
                assert time.monotonic() < deadline, "the restarted replica never owned a partition again"
                await asyncio.sleep(0.5)
