"""Ticket progress is only ever inserted (FerretDB replaces by scanning the collection): a ticket's
first progress, then one fact per later version; the newest (or the finished) one is the progress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from notifier.domain import TicketProgress
from notifier.store import NotifierStore
from servicekit.fakes import memory_db

OFFICE = "kzn-kirov-moskov"
AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


async def progress_docs(store: NotifierStore) -> dict[str, tuple[int, bool]]:
    return {
        str(doc["_id"]): (int(doc["version"]), bool(doc["finished"]))
        async for doc in store.ticket_progress.find({})
    }


async def test_progress_is_inserted_as_facts_read_as_the_newest_and_forgotten_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = NotifierStore(memory_db())
    await store.ensure_indexes()

    def no_replace(*args: object, **kwargs: object) -> None:
        raise AssertionError("ticket progress is never replaced")

    for name in ("bulk_write", "replace_one", "update_one"):
        monkeypatch.setattr(store.ticket_progress, name, no_replace)

    # Each poll alone (nothing kept between them): the ticket is read from the store each time.
    for version, finished in ((1, False), (2, False), (5, True), (5, True)):  # the last: a replay
        async with store.batch(["t1"], []):
            await store.record_progress("t1", OFFICE, version, finished=finished, at=AT)
    async with store.batch(["t2"], []):
        await store.record_progress("t2", OFFICE, 1, finished=False, at=AT)

    assert await progress_docs(store) == {
        "t1": (1, False),
        "t1:2": (2, False),
        "t1:5": (5, True),
        "t2": (1, False),
    }
    assert await store.progress("t1") == TicketProgress(5, True)
    async with store.batch(["t1", "t2"], []):
        assert await store.progress("t1") == TicketProgress(5, True)
        assert await store.progress("t2") == TicketProgress(1, False)

    # Outside a batch (an event handed over alone) too: the first document, then a fact.
    await store.record_progress("t3", OFFICE, 1, finished=False, at=AT)
    await store.record_progress("t3", OFFICE, 2, finished=True, at=AT)
    assert await store.progress("t3") == TicketProgress(2, True)

    # Finished tickets go with every document of theirs; the open one stays.
    assert await store.forget_finished_tickets(AT + timedelta(days=1)) == 2
    assert await progress_docs(store) == {"t2": (1, False)}


async def test_a_ticket_taken_for_new_that_was_finished_gets_no_waiting_entry_back() -> None:
    store = NotifierStore(memory_db())
    await store.ensure_indexes()
    async with store.batch(["t1"], []):
        await store.record_progress("t1", OFFICE, 1, finished=False, at=AT)
    async with store.batch(["t1"], []):
        await store.record_progress("t1", OFFICE, 4, finished=True, at=AT)
    # Its TicketIssued sent again long after, taken for new (unread): the stored progress wins.
    entry = {"office_id": OFFICE, "service_id": "s", "order": "a", "initial_position": 1}
    async with store.batch(["t1"], [], presumed_new={"t1"}):
        await store.add_waiting("t1", entry)
        await store.record_progress("t1", OFFICE, 1, finished=False, at=AT)
    assert await store.waiting.find_one({"_id": "t1"}) is None
    assert await store.progress("t1") == TicketProgress(4, True)
    assert await progress_docs(store) == {"t1": (1, False), "t1:4": (4, True)}
