"""The notifier's collections: contacts, waiting tickets, ticket progress, schedules, boards, deliveries.

Boards and deliveries are aggregates (AggregateStore: claimed revisions, outbox); the other
collections are projections written by the consumer of the office's partition, one writer each.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError
from servicekit.kafka import NO_PARTITION, PartitionMemory
from servicekit.logging import get_logger
from servicekit.store import AggregateStore, AlreadyExists, Document, bulk_write_chunked, gather_bounded

from notifier.domain import TicketProgress, WaitingTicket

log = get_logger("notifier.store")


@dataclass
class _View:
    """One collection as a batch sees it: documents read or written (None: deleted) and which of
    them must be written back."""

    docs: dict[str, Document | None] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)
    stored: set[str] = field(default_factory=set)  # found in the store when read

    def loaded(self, key: str, doc: Document | None) -> None:
        self.docs[key] = doc
        if doc is not None:
            self.stored.add(key)

    def set(self, key: str, doc: Document | None) -> None:
        self.docs[key] = doc
        self.dirty.add(key)

    def writes(self) -> tuple[list[Document], list[ReplaceOne[Document]], list[str]]:
        """(documents to insert, replaces, ids to delete): a document the store never had is
        inserted (FerretDB's insert is one write, an upsert a read and a write), and one that came
        and went within the batch costs nothing."""
        inserts: list[Document] = []
        replaces: list[ReplaceOne[Document]] = []
        deletes: list[str] = []
        for key in self.dirty:
            doc = self.docs[key]
            if key not in self.stored:
                if doc is not None:
                    inserts.append(doc)
            elif doc is None:
                deletes.append(key)
            else:
                replaces.append(ReplaceOne({"_id": key}, doc, upsert=True))
        return inserts, replaces, deletes

    def progress_writes(self) -> list[Document]:
        """Ticket progress is insert-only: a ticket's first progress is its document `_id` = the
        ticket id (its insert is what catches a ticket taken for new that was known); each later
        one a fact of its own, `_id` = "<ticket id>:<version>", never replaced (see
        `NotifierStore.progress`)."""
        inserts: list[Document] = []
        for key in self.dirty:
            doc = self.docs[key]
            if doc is None:
                continue
            if key in self.stored:
                doc = {**doc, "_id": f"{key}:{doc['version']}", "ticket_id": key}
                self.docs[key] = doc
            inserts.append(doc)
        return inserts


def _order(doc: Document) -> str:
    return str(doc["order"])


async def _insert(collection: Any, docs: list[Document]) -> list[Document]:
    """Insert in one statement; returns the documents whose `_id` was there already."""
    if not docs:
        return []
    try:
        await collection.insert_many(docs, ordered=False)
    except BulkWriteError as error:
        problems = error.details.get("writeErrors", [])
        if any(problem.get("code") != 11000 for problem in problems):
            raise
        return [docs[problem["index"]] for problem in problems]
    return []


@dataclass
class _Batch:
    waiting: _View = field(default_factory=_View)
    progress: _View = field(default_factory=_View)
    contacts: _View = field(default_factory=_View)
    queried: set[tuple[str, str]] = field(default_factory=set)
    presumed_new: set[str] = field(default_factory=set)  # ticket ids taken for new without a read
    # (office, service) -> heap of (order, ticket id) over its waiting tickets, built at the first
    # question for the queue's head in this batch; entries of tickets gone since are dropped when
    # they reach the top (a queue of thousands: the head in O(log n), not a sort per event).
    queues: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)

    def first_waiting(self, office_id: str, service_id: str, count: int) -> list[Document]:
        key = (office_id, service_id)
        heap = self.queues.get(key)
        if heap is None:
            heap = [
                (doc["order"], ticket_id)
                for ticket_id, doc in self.waiting.docs.items()
                if doc is not None and doc["office_id"] == office_id and doc["service_id"] == service_id
            ]
            heapq.heapify(heap)
            self.queues[key] = heap
        first: dict[str, str] = {}  # ticket id -> order (an entry pushed twice is taken once)
        while heap and len(first) < count:
            order, ticket_id = heapq.heappop(heap)
            doc = self.waiting.docs.get(ticket_id)
            if doc is None or doc["order"] != order or (doc["office_id"], doc["service_id"]) != key:
                continue  # gone from this queue since
            first.setdefault(ticket_id, order)
        for ticket_id, order in first.items():  # still waiting: back in line
            heapq.heappush(heap, (order, ticket_id))
        return [doc for ticket_id in first if (doc := self.waiting.docs[ticket_id]) is not None]

    def now_waiting(self, doc: Document) -> None:
        heap = self.queues.get((doc["office_id"], doc["service_id"]))
        if heap is not None:
            heapq.heappush(heap, (doc["order"], str(doc["_id"])))


# What the ticket consumer keeps of a ticket between polls, as it last wrote it (None: not in the
# store). Kept for the partitions it owns, dropped when they move (servicekit PartitionMemory).
@dataclass(frozen=True)
class KeptTicket:
    waiting: Document | None
    progress: Document | None
    contact: Document | None


# At most this many tickets kept in memory (a few hundred bytes each); the least recently used go.
TICKETS_KEPT = 5_000
# At most this many waiting entries kept as whole queues (a few hundred bytes each).
QUEUE_ENTRIES_KEPT = 20_000


class KeptQueues:
    """Whole queues, (office, service) -> every waiting entry in it, as the ticket consumer last
    wrote them, for the partitions it owns (an office's events are all on one partition): the
    first "who moved up" of a poll reads a kept queue from memory instead of the whole queue from
    the store. Dropped when the office's partition is revoked or assigned (`forget`), cleared when
    a batch fails; at most QUEUE_ENTRIES_KEPT entries (the least recently used queues go)."""

    def __init__(self, capacity: int = QUEUE_ENTRIES_KEPT) -> None:
        self.capacity = capacity
        self._queues: OrderedDict[tuple[str, str], tuple[tuple[str, int], dict[str, Document]]] = (
            OrderedDict()
        )
        self._queue_of: dict[str, tuple[str, str]] = {}  # ticket id -> the kept queue it is in
        self._size = 0

    def get(self, office_id: str, service_id: str) -> dict[str, Document] | None:
        found = self._queues.get((office_id, service_id))
        if found is None:
            return None
        self._queues.move_to_end((office_id, service_id))
        return found[1]

    def keep(
        self, partition: tuple[str, int], office_id: str, service_id: str, entries: dict[str, Document]
    ) -> None:
        self.drop(office_id, service_id)
        if len(entries) > self.capacity:
            return
        key = (office_id, service_id)
        self._queues[key] = (partition, dict(entries))
        self._size += len(entries)
        for ticket_id in entries:
            self._queue_of[ticket_id] = key
        while self._size > self.capacity:
            self.drop(*next(iter(self._queues)))

    def drop(self, office_id: str, service_id: str) -> None:
        found = self._queues.pop((office_id, service_id), None)
        if found is not None:
            self._size -= len(found[1])
            for ticket_id in found[1]:
                self._queue_of.pop(ticket_id, None)

    def changed(self, ticket_id: str, doc: Document | None) -> None:
        """A ticket's waiting entry as now written (None: gone), into the kept queues."""
        key = self._queue_of.pop(ticket_id, None)
        if key is not None:
            self._size -= 1
            del self._queues[key][1][ticket_id]
        if doc is None:
            return
        key = (str(doc["office_id"]), str(doc["service_id"]))
        found = self._queues.get(key)
        if found is not None:
            found[1][ticket_id] = doc
            self._queue_of[ticket_id] = key
            self._size += 1

    def notified(self, ticket_id: str) -> None:
        key = self._queue_of.get(ticket_id)
        if key is not None:
            entries = self._queues[key][1]
            entries[ticket_id] = {**entries[ticket_id], "notified": True}

    def forget(self, partitions: set[tuple[str, int]]) -> None:
        for key in [key for key, (partition, _) in self._queues.items() if partition in partitions]:
            self.drop(*key)

    def clear(self) -> None:
        self._queues.clear()
        self._queue_of.clear()
        self._size = 0


# The batch of the consumer task that is applying one (HTTP handlers and jobs never see it).
_batch: ContextVar[_Batch | None] = ContextVar("notifier_batch", default=None)


class NotifierStore:
    """Outside a batch every method is one store call. Inside `batch()` (the ticket consumer) the
    waiting list, ticket progress and contacts are read once, changed in memory, and written back
    with one bulk write per collection when the batch is done; a batch that fails writes nothing.
    """

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db
        self.contacts = db["contacts"]
        self.waiting = db["waiting"]
        self.ticket_progress = db["ticket_progress"]
        self.scheduled = db["scheduled"]
        self.boards = AggregateStore(db, "boards")
        self.deliveries = AggregateStore(db, "deliveries")
        # One document per citizen message to a recipient on a day (unique inserts: the daily cap).
        self.recipient_messages = db["recipient_messages"]
        self.kept: PartitionMemory[KeptTicket] = PartitionMemory(TICKETS_KEPT)
        self.queues = KeptQueues()
        # FeedbackRequested read before the ticket's TicketIssued, by ticket id (sent when it comes).
        self.parked_links = db["parked_links"]

    async def ensure_indexes(self) -> None:
        await self.waiting.create_index([("office_id", ASCENDING), ("service_id", ASCENDING)])
        await self.ticket_progress.create_index([("finished", ASCENDING)])
        await self.ticket_progress.create_index([("ticket_id", ASCENDING)])  # a ticket's later facts
        await self.scheduled.create_index([("status", ASCENDING)])
        await self.scheduled.create_index([("owner", ASCENDING)])
        await self.contacts.create_index([("ended", ASCENDING)])
        await self.deliveries.collection.create_index([("status", ASCENDING)])
        await self.recipient_messages.create_index([("day", ASCENDING)])
        await self.deliveries.collection.create_index([("recipient_ref", ASCENDING)])

    # --- batches ----------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def batch(
        self,
        ticket_ids: Iterable[str],
        contact_keys: Iterable[str],
        *,
        presumed_new: Iterable[str] = (),
        partitions: Mapping[str, tuple[str, int]] | None = None,
        offices: Mapping[str, tuple[str, int]] | None = None,
    ) -> AsyncIterator[None]:
        """Apply a poll's ticket events in memory, then write them back in one bulk write each.

        A ticket kept from an earlier poll (`kept`) is not read; one in `presumed_new` (first met
        by its TicketIssued in a record no earlier owner read) is taken for absent, unread; the
        others are read. `partitions` (ticket id -> partition) keeps the written state for the
        next polls, `offices` (office id -> partition) the whole queues the batch came to know."""
        unit = _Batch(presumed_new=set(presumed_new))
        ticket_ids = list(ticket_ids)
        token = _batch.set(unit)
        try:
            await self._prefetch(unit, ticket_ids, list(contact_keys))
            yield
            await self._write_back(unit)
        except BaseException:
            for ticket_id in ticket_ids:  # maybe written in part: read them again
                self.kept.drop(ticket_id)
            self.queues.clear()
            raise
        finally:
            _batch.reset(token)
        if partitions:
            self._keep(unit, partitions)
        self._keep_queues(unit, offices or {})

    async def _prefetch(self, unit: _Batch, ticket_ids: list[str], contact_keys: list[str]) -> None:
        # Parallel reads by _id: `$in` would be filtered after fetching the whole collection.
        async def read(view: _View, collection: Any, key: str) -> None:
            view.loaded(key, await self._find(collection, key))

        contact_of = {key.removeprefix("ticket:"): key for key in contact_keys}
        to_read: list[tuple[_View, Any, str]] = []
        for ticket_id in ticket_ids:
            known = self.kept.get(ticket_id)
            if known is None and ticket_id in unit.presumed_new:
                known = KeptTicket(None, None, None)
            if known is not None:
                unit.waiting.loaded(ticket_id, known.waiting)
                unit.progress.loaded(ticket_id, known.progress)
                if ticket_id in contact_of:
                    unit.contacts.loaded(contact_of.pop(ticket_id), known.contact)
                continue
            to_read += [
                (unit.waiting, self.waiting, ticket_id),
                (unit.progress, self.ticket_progress, ticket_id),
            ]
        to_read += [(unit.contacts, self.contacts, key) for key in contact_of.values()]
        await gather_bounded(read(view, collection, key) for view, collection, key in to_read)

    def _keep(self, unit: _Batch, partitions: Mapping[str, tuple[str, int]]) -> None:
        """What a batch wrote, for the next polls: only tickets whose three documents it knows."""
        for ticket_id, partition in partitions.items():
            contact_key = f"ticket:{ticket_id}"
            views = (unit.waiting, unit.progress)
            if any(ticket_id not in view.docs for view in views) or contact_key not in unit.contacts.docs:
                self.kept.drop(ticket_id)
                continue
            kept = KeptTicket(
                unit.waiting.docs[ticket_id], unit.progress.docs[ticket_id], unit.contacts.docs[contact_key]
            )
            self.kept.keep(partition, ticket_id, kept)

    def _keep_queues(self, unit: _Batch, offices: Mapping[str, tuple[str, int]]) -> None:
        """The batch's changes into the kept queues; a queue it read whole is now known whole."""
        for ticket_id in unit.waiting.dirty:
            self.queues.changed(ticket_id, unit.waiting.docs[ticket_id])
        for office_id, service_id in unit.queried:
            partition = offices.get(office_id)
            if partition is None or partition == NO_PARTITION:
                self.queues.drop(office_id, service_id)
                continue
            entries = {
                ticket_id: doc
                for ticket_id, doc in unit.waiting.docs.items()
                if doc is not None and doc["office_id"] == office_id and doc["service_id"] == service_id
            }
            self.queues.keep(partition, office_id, service_id, entries)

    async def _write_back(self, unit: _Batch) -> None:
        """Per collection: one insert, one delete of the batch's removed ids, and the replaces
        (chunked). An insert is FerretDB's cheapest write (a replace is a read and a write): the
        waiting list and the contacts (documents of the tickets still open) are deleted with one
        statement, and progress (one document per ticket, kept for days) is only ever inserted.
        Progress last: a crash half-way leaves the events to be applied again in full."""
        for collection, view in ((self.waiting, unit.waiting), (self.contacts, unit.contacts)):
            inserts, replaces, deletes = view.writes()
            if inserts:
                replaces += [
                    ReplaceOne({"_id": doc["_id"]}, doc) for doc in await _insert(collection, inserts)
                ]
            if deletes:
                await collection.delete_many({"_id": {"$in": deletes}})
            if replaces:
                await bulk_write_chunked(collection, replaces, ordered=False)
        # A progress document already there: a ticket taken for new that was known (its first
        # document), or a fact written before by a replay of the same record (nothing to do).
        taken = await _insert(self.ticket_progress, unit.progress.progress_writes())
        firsts = [doc for doc in taken if "ticket_id" not in doc]
        if firsts:
            facts = [
                {**doc, "_id": f"{doc['_id']}:{doc['version']}", "ticket_id": doc["_id"]}
                for doc in await self._presumed_wrongly(unit, firsts)
            ]
            await _insert(self.ticket_progress, facts)

    async def _presumed_wrongly(self, unit: _Batch, docs: list[Document]) -> list[Document]:
        """Progress inserts that met a stored one: the ones of tickets taken for new were not new
        (a TicketIssued sent again long after, its ticket no longer kept here). The stored
        progress wins unless this batch moved the ticket further; a ticket that had finished gets
        no waiting entry nor contact back from the duplicate. Returns the progress to write."""
        replace = [doc for doc in docs if doc["_id"] not in unit.presumed_new]
        for doc in docs:
            ticket_id = str(doc["_id"])
            if ticket_id not in unit.presumed_new:
                continue
            stored = await self._newest_progress(ticket_id)
            log.warning("a ticket taken for new was known: stored progress kept", ticket_id=ticket_id)
            unit.progress.docs[ticket_id] = stored
            if stored is None or int(doc["version"]) > int(stored["version"]):
                replace.append(doc)
                unit.progress.docs[ticket_id] = doc
            elif stored.get("finished"):
                await self.waiting.delete_one({"_id": ticket_id})
                await self.contacts.delete_one({"_id": f"ticket:{ticket_id}"})
                unit.waiting.docs[ticket_id] = unit.contacts.docs[f"ticket:{ticket_id}"] = None
                unit.waiting.dirty.add(ticket_id)  # written already: for the kept queues
        return replace

    async def _read(self, view_of: str, collection: Any, key: str) -> Document | None:
        unit = _batch.get()
        if unit is None:
            return await self._find(collection, key)
        view: _View = getattr(unit, view_of)
        if key not in view.docs:
            view.loaded(key, await self._find(collection, key))
        return view.docs[key]

    async def _find(self, collection: Any, key: str) -> Document | None:
        if collection is self.ticket_progress:
            return await self._newest_progress(key)
        doc: Document | None = await collection.find_one({"_id": key})
        return doc

    async def _newest_progress(self, ticket_id: str) -> Document | None:
        """A ticket's progress: its first document and its later facts, the finished or else the
        newest one."""
        # Two equality reads, each served by an index: FerretDB pushes no `$or` down, so one query
        # for both would read the whole collection.
        first, facts = await asyncio.gather(
            self.ticket_progress.find_one({"_id": ticket_id}),
            self.ticket_progress.find({"ticket_id": ticket_id}).to_list(),
        )
        docs = [first, *facts] if first is not None else facts
        return max(docs, key=lambda doc: (bool(doc["finished"]), int(doc["version"])), default=None)

    # --- contacts: sealed as they came, opened only when a message is sent -------------------------

    async def keep_contact(self, key: str, doc: Document) -> None:
        new = {"_id": key, **doc, "ended": False}
        unit = _batch.get()
        if unit is not None:
            unit.contacts.set(key, new)
            return
        await self.contacts.replace_one({"_id": key}, new, upsert=True)

    def known_without_contact(self, key: str) -> None:
        """Within a batch: the ticket was issued without a contact, so there is none to read."""
        unit = _batch.get()
        if unit is not None and key not in unit.contacts.docs:
            unit.contacts.loaded(key, None)

    async def contact(self, key: str) -> Document | None:
        return await self._read("contacts", self.contacts, key)

    async def end_visit(self, key: str, purge_after: datetime) -> None:
        """Keep the contact a little longer (the feedback link follows the end of a visit)."""
        unit = _batch.get()
        if unit is not None:
            current = await self.contact(key)
            if current is not None:
                unit.contacts.set(key, {**current, "ended": True, "purge_after": purge_after})
            return
        await self.contacts.update_one({"_id": key}, {"$set": {"ended": True, "purge_after": purge_after}})

    async def purge_contact(self, key: str) -> None:
        unit = _batch.get()
        if unit is not None:
            unit.contacts.set(key, None)
            return
        self.kept.drop(key.removeprefix("ticket:"))  # the ticket consumer reads it again
        await self.contacts.delete_one({"_id": key})

    # --- feedback links that came before their ticket (topics are not ordered among each other) --

    async def park_link(self, ticket_id: str, event: Document, at: datetime) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self.parked_links.insert_one({"_id": ticket_id, "event": event, "at": at})

    async def take_parked_link(self, ticket_id: str) -> Document | None:
        """The FeedbackRequested parked for this ticket, removed (one read by _id per ticket with
        a contact; nothing is parked for most)."""
        parked: Document | None = await self.parked_links.find_one_and_delete({"_id": ticket_id})
        return None if parked is None else dict(parked["event"])

    async def forget_parked_links(self, before: datetime) -> int:
        """Links whose ticket never came with a contact (a small collection: read whole)."""
        removed = 0
        async for doc in self.parked_links.find({}, {"at": 1}):
            if doc["at"] < before:
                removed += (await self.parked_links.delete_one({"_id": doc["_id"]})).deleted_count
        return removed

    def kept_without_contact(self, ticket_id: str) -> bool:
        """The ticket consumer wrote this ticket and it has no contact (nothing to read)."""
        kept = self.kept.get(ticket_id)
        return kept is not None and kept.contact is None

    async def purge_ended_contacts(self, now: datetime) -> int:
        removed = 0
        async for doc in self.contacts.find({"ended": True}, {"purge_after": 1}):
            if doc.get("purge_after") is None or doc["purge_after"] <= now:
                removed += (await self.contacts.delete_one({"_id": doc["_id"]})).deleted_count
        return removed

    # --- the per-office ordered view of waiting tickets ------------------------------------------

    async def add_waiting(self, ticket_id: str, doc: Document) -> None:
        new = {"_id": ticket_id, **doc}
        unit = _batch.get()
        if unit is not None:
            unit.waiting.set(ticket_id, new)
            unit.now_waiting(new)
            return
        await self.waiting.replace_one({"_id": ticket_id}, new, upsert=True)
        self.queues.changed(ticket_id, new)

    async def remove_waiting(self, ticket_id: str) -> Document | None:
        doc = await self._read("waiting", self.waiting, ticket_id)
        if doc is not None:
            unit = _batch.get()
            if unit is not None:
                unit.waiting.set(ticket_id, None)
            else:
                await self.waiting.delete_one({"_id": ticket_id})
                self.queues.changed(ticket_id, None)
        return doc

    async def drop_waiting(self, ticket_id: str) -> bool:
        """One round trip when the caller knows the ticket's service (a call carries it)."""
        if _batch.get() is not None:
            return await self.remove_waiting(ticket_id) is not None
        self.queues.changed(ticket_id, None)
        return (await self.waiting.delete_one({"_id": ticket_id})).deleted_count > 0

    async def waiting_for(self, office_id: str, service_id: str) -> list[WaitingTicket]:
        """Every ticket waiting for the service, in issue order."""
        return await self.first_waiting(office_id, service_id, None)

    async def first_waiting(self, office_id: str, service_id: str, count: int | None) -> list[WaitingTicket]:
        """The first `count` tickets waiting for the service (None: all), in issue order."""
        unit = _batch.get()
        if unit is None:
            docs = [
                doc async for doc in self.waiting.find({"office_id": office_id, "service_id": service_id})
            ]
            first = sorted(docs, key=_order) if count is None else heapq.nsmallest(count, docs, key=_order)
        else:
            if (office_id, service_id) not in unit.queried:
                unit.queried.add((office_id, service_id))
                kept = self.queues.get(office_id, service_id)
                if kept is not None:  # known whole since an earlier poll: no read
                    for ticket_id, doc in kept.items():
                        if ticket_id not in unit.waiting.docs:  # what the batch changed wins
                            unit.waiting.loaded(ticket_id, doc)
                else:
                    query = {"office_id": office_id, "service_id": service_id}
                    async for doc in self.waiting.find(query):
                        if str(doc["_id"]) not in unit.waiting.docs:  # what the batch changed wins
                            unit.waiting.loaded(str(doc["_id"]), doc)
            everyone = len(unit.waiting.docs)
            first = unit.first_waiting(office_id, service_id, everyone if count is None else count)
        return [
            WaitingTicket(
                ticket_id=str(doc["_id"]),
                order=doc["order"],
                initial_position=int(doc["initial_position"]),
                notified=bool(doc.get("notified")),
                has_contact=bool(doc.get("has_contact")),
            )
            for doc in first
        ]

    async def mark_position_notified(self, ticket_id: str) -> None:
        unit = _batch.get()
        if unit is not None:
            current = await self._read("waiting", self.waiting, ticket_id)
            if current is not None:
                unit.waiting.set(ticket_id, {**current, "notified": True})
            return
        await self.waiting.update_one({"_id": ticket_id}, {"$set": {"notified": True}})
        self.queues.notified(ticket_id)

    # --- how far the waiting list has followed each ticket (guards it against replayed events) -----

    async def progress(self, ticket_id: str) -> TicketProgress | None:
        doc = await self._read("progress", self.ticket_progress, ticket_id)
        return None if doc is None else TicketProgress(int(doc["version"]), bool(doc["finished"]))

    async def record_progress(
        self, ticket_id: str, office_id: str, version: int, *, finished: bool, at: datetime
    ) -> None:
        doc = {"_id": ticket_id, "office_id": office_id, "version": version, "finished": finished, "at": at}
        unit = _batch.get()
        if unit is not None:
            unit.progress.set(ticket_id, doc)
            return
        # Outside a batch (one event handed over alone): the first document, or a fact.
        if await _insert(self.ticket_progress, [doc]):
            await _insert(
                self.ticket_progress, [{**doc, "_id": f"{ticket_id}:{version}", "ticket_id": ticket_id}]
            )

    async def forget_finished_tickets(self, before: datetime) -> int:
        """Finished tickets older than any replay worth fearing, with all their progress documents;
        open ones stay (they may still move). Returns the tickets forgotten."""
        removed = 0
        async for doc in self.ticket_progress.find({"finished": True}, {"at": 1, "ticket_id": 1}):
            if doc["at"] < before:
                ticket_id = str(doc.get("ticket_id", doc["_id"]))
                first, facts = await asyncio.gather(
                    self.ticket_progress.delete_one({"_id": ticket_id}),
                    self.ticket_progress.delete_many({"ticket_id": ticket_id}),
                )
                if first.deleted_count or facts.deleted_count:
                    removed += 1
        return removed

    # --- scheduled messages: reminders and what quiet hours deferred ----------------------------

    async def schedule(self, doc: Document) -> bool:
        try:
            await self.scheduled.insert_one({**doc, "status": "pending"})
            return True
        except DuplicateKeyError:
            return False

    async def due(self, now: datetime, limit: int = 200) -> list[Document]:
        # Equality on status first (FerretDB filters ranges after fetching): pending is a small set.
        pending = [doc async for doc in self.scheduled.find({"status": "pending"}).limit(5000)]
        return sorted((doc for doc in pending if doc["due_at"] <= now), key=lambda doc: doc["due_at"])[:limit]

    async def unschedule(self, scheduled_id: str) -> None:
        await self.scheduled.delete_one({"_id": scheduled_id})

    async def unschedule_owner(self, owner: str) -> int:
        return (await self.scheduled.delete_many({"owner": owner})).deleted_count

    async def scheduled_for(self, owner: str) -> list[Document]:
        return [doc async for doc in self.scheduled.find({"owner": owner})]

    # --- boards -------------------------------------------------------------------------------

    async def board(self, office_id: str) -> Document | None:
        return await self.boards.get(office_id)

    async def board_or_new(self, office_id: str, empty: Document) -> Document:
        current = await self.boards.get(office_id)
        if current is not None:
            return current
        try:
            return await self.boards.create(empty)
        except AlreadyExists:
            return await self.boards.load(office_id)

    async def delivery(self, delivery_id: str) -> Document | None:
        return await self.deliveries.get(delivery_id)

    async def deliveries_in(self, status: str, limit: int = 500) -> list[Document]:
        return [doc async for doc in self.deliveries.collection.find({"status": status}).limit(limit)]

    async def claim_recipient_message(self, recipient_ref: str, day: str, allowed: int) -> bool:
        """One more message to this recipient on `day`, if fewer than `allowed` were claimed."""
        for n in range(allowed):
            try:
                await self.recipient_messages.insert_one({"_id": f"{recipient_ref}:{day}:{n}", "day": day})
            except DuplicateKeyError:
                continue
            return True
        return False

    async def forget_recipient_messages_before(self, day: str) -> int:
        return (await self.recipient_messages.delete_many({"day": {"$lt": day}})).deleted_count

    async def claim_delivery(self, doc: Document) -> Document | None:
        """The unique insert that makes a delivery happen once; None when it was claimed before."""
        try:
            return await self.deliveries.create(doc)
        except AlreadyExists:
            return None
