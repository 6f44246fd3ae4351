"""A crash after the batch's bulk writes but before the offset commit: the replay changes nothing.

The same events go through a clean notifier (its own group and database) and through one that
"dies" before every commit and is started again: the board, the waiting list and the messages
sent must be the same.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from notifier.main import create_app
from servicekit.sealing import Sealer
from servicekit.testing import Publisher, eventually, running

from .conftest import SmsGateway
from .test_notifier_on_real_kafka import OFFICE, PHONE, called, issued, publish_catalog, settings_for
from .test_stale_ticket_events_on_real_kafka import completed

TICKETS = 12


async def publish_morning(publisher: Publisher, sealer: Sealer) -> int:
    """Tickets issued, most called (two recalled), some served; returns the announcements expected."""
    announcements = 0
    for n in range(TICKETS):
        ticket_id, number = f"c{n}", f"А{n + 1:03d}"
        await publisher.event(issued(ticket_id, number, sealer, position=n + 1, contact=PHONE))
    for n in range(TICKETS - 3):
        ticket_id, number = f"c{n}", f"А{n + 1:03d}"
        await publisher.event(called(ticket_id, number, window=1 + n % 3))
        announcements += 1
        if n in (2, 5):
            await publisher.event(called(ticket_id, number, window=1 + n % 3, call_no=2))
            announcements += 1
        if n < 4:
            await publisher.event(completed(ticket_id, number, version=4 if n in (2, 5) else 3))
    return announcements


async def both_know_office(*apps: FastAPI) -> bool:
    return all([await app.state.catalog.office(OFFICE) is not None for app in apps])


def lag_zero(app: FastAPI) -> bool:
    consumers = [router.consumer for router in app.state.runtime.routers if router.consumer is not None]
    for consumer in consumers:
        lag = consumer.lag()
        if not lag or sum(lag.values()) or len(consumer.committed) != len(lag):
            return False
    return True


async def state_of(app: FastAPI) -> dict[str, Any]:
    store = app.state.store
    board = await store.boards.get(OFFICE) or {}  # not there yet: unlike the clean run's
    waiting = sorted([d["_id"] async for d in store.waiting.find({})])
    deliveries = [d async for d in store.deliveries.collection.find({})]
    return {
        "board": {k: board.get(k) for k in ("rev", "calls", "announcements", "dropped_through", "waiting")},
        "waiting": waiting,
        "deliveries": sorted(d["_id"] for d in deliveries),
        # past the contact's daily cap a message is recorded as withheld, not sent
        "to_send": sorted(d["_id"] for d in deliveries if d.get("status") != "withheld"),
    }


async def test_a_replayed_batch_after_a_crash_before_the_commit_leaves_board_and_messages_as_a_clean_run(
    make_settings: Any, keypair: tuple[str, str], sms_gateway: SmsGateway, publisher: Publisher
) -> None:
    await publish_catalog(publisher)
    # The clean run has a group and a database of its own; the crashing one "dies" before every commit.
    clean = create_app(settings_for(make_settings, keypair, sms_gateway, service_name="notifier-clean"))
    settings = settings_for(make_settings, keypair, sms_gateway)
    crashing = create_app(settings)
    commits = 0

    async def crash_before_commit(offsets: Any) -> None:
        nonlocal commits
        commits += 1  # nothing is ever committed

    async with running(clean), running(crashing):
        for router in crashing.state.runtime.routers:
            if router.consumer is not None:
                router.consumer._commit = crash_before_commit
        # Both know the office (zone names on the board) before the morning starts.
        await eventually(lambda: both_know_office(clean, crashing), within=60)
        announcements = await publish_morning(publisher, Sealer(keypair[0]))

        async def applied_everything(app: FastAPI) -> bool:
            board = await app.state.store.boards.get(OFFICE)
            return board is not None and board["announcements"] == announcements

        # Lag counts only what was fetched: first the whole morning on the board, then lag 0
        # (committed after the batch's writes).
        await eventually(lambda: applied_everything(clean), within=90)
        await eventually(lambda: lag_zero(clean), within=90)
        expected = await state_of(clean)

        async def same_as_clean() -> bool:
            return await state_of(crashing) == expected

        # Nothing committed, so no lag to wait for: the crashing run's writes must come to the same.
        await eventually(same_as_clean, within=90)
        await eventually(lambda: len(sms_gateway.requests) >= 2 * len(expected["to_send"]), within=60)
    sent_by_both = len(sms_gateway.requests)
    assert commits > 0 and sent_by_both == 2 * len(expected["to_send"])
    assert expected["board"]["announcements"] == announcements
    assert len(expected["waiting"]) == 3  # issued, never called

    restarted = create_app(settings)  # same group, same database: every event is read again
    async with running(restarted):
        await eventually(lambda: lag_zero(restarted), within=90)
        replayed = await state_of(restarted)
    assert replayed == expected
    assert len(sms_gateway.requests) == sent_by_both  # the replay sent nothing again
