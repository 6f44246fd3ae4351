"""The head of a service's queue, as the 'you are third' message asks for it once per ticket that
leaves: kept in a heap per batch, checked against a plain sort over random moves."""

from __future__ import annotations

import random
from typing import Any

import pytest
from notifier.store import NotifierStore
from servicekit.fakes import memory_db

OFFICE = "kzn-kirov-moskov"
SERVICES = ("housing-certificate", "passport")


def entry(n: int, service: str, issued: int) -> dict[str, object]:
    return {
        "office_id": OFFICE,
        "service_id": service,
        "order": f"2026-11-30T09:{issued // 60:02d}:{issued % 60:02d}|А{n:03d}",
        "initial_position": 5,
        "has_contact": True,
        "notified": False,
    }


async def test_the_head_of_each_queue_follows_every_ticket_that_comes_goes_or_moves() -> None:
    store = NotifierStore(memory_db())
    await store.ensure_indexes()
    rng = random.Random(13)
    stored = {f"s{n}": entry(n, SERVICES[n % 2], rng.randrange(3600)) for n in range(40)}
    for ticket_id, doc in stored.items():  # waiting since an earlier poll
        await store.add_waiting(ticket_id, doc)
    waiting = dict(stored)
    ids = [f"t{n}" for n in range(200)]
    async with store.batch(ids, []):
        for step in range(600):
            ticket_id = rng.choice(ids + list(stored))
            move = rng.random()
            if move < 0.45:  # issued (again: a redelivery within the poll)
                doc = waiting.get(ticket_id) or entry(step, rng.choice(SERVICES), rng.randrange(3600))
                await store.add_waiting(ticket_id, doc)
                waiting[ticket_id] = doc
            elif move < 0.8:  # called, served or gone
                await store.remove_waiting(ticket_id)
                waiting.pop(ticket_id, None)
            elif ticket_id in waiting:  # transferred: to the other service, behind the others there
                service = SERVICES[1 - SERVICES.index(str(waiting[ticket_id]["service_id"]))]
                doc = entry(step, service, 3600 + step)
                await store.remove_waiting(ticket_id)
                await store.add_waiting(ticket_id, doc)
                waiting[ticket_id] = doc
            for service in SERVICES:
                expected = sorted(
                    (str(doc["order"]), ticket_id)
                    for ticket_id, doc in waiting.items()
                    if doc["service_id"] == service
                )
                head = await store.first_waiting(OFFICE, service, 3)
                assert [(t.order, t.ticket_id) for t in head] == expected[:3], step
        everyone = await store.waiting_for(OFFICE, SERVICES[0])
        assert [t.ticket_id for t in everyone] == [
            ticket_id
            for _, ticket_id in sorted(
                (str(doc["order"]), ticket_id)
                for ticket_id, doc in waiting.items()
                if doc["service_id"] == SERVICES[0]
            )
        ]


async def test_a_queue_read_whole_is_kept_for_the_next_polls_until_its_partition_moves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Polls after the first ask for the head of a queue without reading it from the store, and
    see every change of the polls in between (also of polls that did not ask); once the office's
    partition moves, or a poll fails, the queue is read again."""
    store = NotifierStore(memory_db())
    await store.ensure_indexes()
    rng = random.Random(7)
    waiting = {f"s{n}": entry(n, SERVICES[0], rng.randrange(3600)) for n in range(30)}
    for ticket_id, doc in waiting.items():
        await store.add_waiting(ticket_id, doc)
    partition = ("ticketing.ticket", 0)
    offices = {OFFICE: partition}
    reads = []
    find = store.waiting.find

    def counted_find(*args: Any, **kwargs: Any) -> Any:
        reads.append(args)
        return find(*args, **kwargs)

    monkeypatch.setattr(store.waiting, "find", counted_find)

    def expected_head() -> list[str]:
        return [t for _, t in sorted((str(d["order"]), t) for t, d in waiting.items())][:3]

    for poll in range(12):
        ids = [f"t{poll}-{n}" for n in range(5)]
        async with store.batch(ids, [], offices=offices):
            for ticket_id in ids[:3]:  # issued in this poll
                doc = entry(poll, SERVICES[0], rng.randrange(3600))
                await store.add_waiting(ticket_id, doc)
                waiting[ticket_id] = doc
            if poll % 3 != 1:  # some polls only issue, and ask nothing
                for ticket_id in rng.sample(sorted(waiting), 2):  # served
                    await store.remove_waiting(ticket_id)
                    del waiting[ticket_id]
                head = await store.first_waiting(OFFICE, SERVICES[0], 3)
                assert [t.ticket_id for t in head] == expected_head(), poll
        if poll == 5:
            store.queues.forget({partition})  # a rebalance: read again at the next question
    assert len(reads) == 2  # the first poll, and the first question after the move

    with pytest.raises(RuntimeError):
        async with store.batch([], [], offices=offices):
            await store.first_waiting(OFFICE, SERVICES[0], 3)
            raise RuntimeError("the poll failed")
    async with store.batch([], [], offices=offices):
        head = await store.first_waiting(OFFICE, SERVICES[0], 3)
    assert [t.ticket_id for t in head] == expected_head() and len(reads) == 3
    stored = {str(doc["_id"]) async for doc in find({})}
    assert stored == set(waiting)
