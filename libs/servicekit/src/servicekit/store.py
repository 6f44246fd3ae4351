"""Mongo access: the client factory and the aggregate store with its outbox.

Why claims: FerretDB 1.x runs `update`/`findAndModify` as read-then-write, so two clients that
update one document at once can lose a write, and a filter on a version does not make an update
conditional (docs/stores.md). Inserts against a unique index ARE atomic on every store, so a state
change first claims the next revision by inserting `{_id: "<collection>:<id>:<rev>"}` into
`_claims`; only the winner writes the document, in ONE update that sets the state, bumps `rev`
and carries the new events in `outbox` (outbox inside the aggregate). The claim also holds the new
document, so a change whose writer died between claim and write is rolled forward by the next
writer that meets the stale claim.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

import structlog
from contracts import Envelope
from pymongo import ASCENDING, AsyncMongoClient, DeleteOne, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from servicekit.clock import SYSTEM_CLOCK

log = structlog.get_logger("servicekit.store")
Document = dict[str, Any]
CLAIMS = "_claims"
# Which aggregates have unpublished events: FerretDB on SQLite filters only `{_id: ...}` in the
# database (anything else is a full scan in Go), so the sweeper reads this small collection
# instead of querying every aggregate collection for pending outboxes.
PENDING = "_outbox_pending"
STALE_CLAIM = timedelta(seconds=10)
# The events an aggregate was created with by `create_many(publish_all=...)`, kept to publish again
# when the input that created it is replayed: each as its JSON text (one string field; FerretDB
# writes a nested envelope field by field, ~1.5x slower per document), older ones as outbox entries.
CREATED_EVENTS = "created_events"
# Where the input that created it was read (`servicekit.kafka.position_of`), set by the caller.
CREATED_FROM = "created_from"
# Where the claim sweeper stopped, per aggregate collection (one small document each).
SWEEPS = "_sweeps"


class ConcurrentChange(Exception):
    """Someone else changed the aggregate first; reload and decide again."""


class AlreadyExists(Exception):
    """An aggregate with this id exists."""


class NotFound(Exception):
    """No aggregate with this id."""


# FerretDB serves every request from one pool of PostgreSQL connections shared by all clients
# (and holds one per statement of a bulk write, see BULK_CHUNK): a process keeps at most
# MAX_CONNECTIONS, and batch code reads at most READ_CONCURRENCY at a time, so one busy consumer
# cannot take the pool from the others.
MAX_CONNECTIONS = 24
READ_CONCURRENCY = 4
T = TypeVar("T")
PublishAll = Callable[[Sequence[Envelope]], Awaitable[None]]


def connect(url: str, *, app_name: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(
        url, appname=app_name, tz_aware=True, serverSelectionTimeoutMS=5000, maxPoolSize=MAX_CONNECTIONS
    )


# FerretDB 1.x runs each statement of one `update`/`delete` command on its own pooled PostgreSQL
# connection and frees them only when the whole command ends: a bulk write of more statements than
# its pool deadlocks the server for every client (seen with 250 ReplaceOnes against its default
# pool of 50). Write in small chunks.
BULK_CHUNK = 16


async def bulk_write_chunked(collection: Any, operations: Sequence[Any], *, ordered: bool = True) -> None:
    """`collection.bulk_write` in chunks of BULK_CHUNK operations, one after another."""
    for start in range(0, len(operations), BULK_CHUNK):
        await collection.bulk_write(list(operations[start : start + BULK_CHUNK]), ordered=ordered)


async def insert_new(collection: Any, documents: Sequence[Document]) -> set[str]:
    """Insert documents by `_id` in one round trip; one already there (a redelivery, a resend)
    stays as it was. Returns the ids that were there already."""
    if not documents:
        return set()
    try:
        await collection.insert_many(list(documents), ordered=False)
    except BulkWriteError as error:
        problems = error.details.get("writeErrors", [])
        if any(problem.get("code") != 11000 for problem in problems):
            raise
        return {str(documents[problem["index"]]["_id"]) for problem in problems}
    return set()


async def gather_bounded(calls: Iterable[Awaitable[T]], limit: int = READ_CONCURRENCY) -> list[T]:
    """`asyncio.gather` with at most `limit` calls in flight (results in the calls' order)."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return list(await asyncio.gather(*(one(call) for call in calls)))


# This process, as the writer of outbox entries: another replica's sweep leaves an entry to its
# writer while the writer's relay is alive (servicekit.outbox), so replicas never both publish it.
INSTANCE = uuid.uuid4().hex


def _created_event(stored: str | Document) -> Envelope:
    """An event kept in CREATED_EVENTS: its JSON text, or (documents written before) an outbox entry."""
    if isinstance(stored, str):
        return Envelope.model_validate_json(stored)
    return Envelope.model_validate(stored["event"])


def _outbox_entry(envelope: Envelope) -> Document:
    return {"event_id": str(envelope.event_id), "event": envelope.model_dump(mode="json"), "by": INSTANCE}


class AggregateStore:
    """One collection of aggregates written only through claimed revisions."""

    def __init__(self, db: AsyncDatabase[Document], collection: str) -> None:
        self.db = db
        self.name = collection
        self.collection: AsyncCollection[Document] = db[collection]
        self.claims: AsyncCollection[Document] = db[CLAIMS]
        self.pending: AsyncCollection[Document] = db[PENDING]
        self.sweeps: AsyncCollection[Document] = db[SWEEPS]
        self._on_commit: list[Callable[[str, str], None]] = []
        self._on_commit_doc: list[Callable[[str, Document], None]] = []
        self.published: set[str] = set()

    def on_commit(self, listener: Callable[[str, str], None]) -> None:
        """`listener(collection, id)` runs after every write that left events in the outbox."""
        self._on_commit.append(listener)

    async def get(self, aggregate_id: str) -> Document | None:
        return await self.collection.find_one({"_id": aggregate_id})

    async def load(self, aggregate_id: str) -> Document:
        doc = await self.get(aggregate_id)
        if doc is None:
            raise NotFound(aggregate_id)
        return doc

    async def create(self, doc: Document, events: Sequence[Envelope] = ()) -> Document:
        new = {**doc, "rev": 1, "outbox": [_outbox_entry(e) for e in events]}
        if events:
            await self._mark_pending(str(doc["_id"]))
        try:
            await self.collection.insert_one(new)
        except DuplicateKeyError as error:
            raise AlreadyExists(str(doc["_id"])) from error
        self._notify(new)
        return new

    async def commit(
        self,
        current: Document,
        state: Mapping[str, Any],
        events: Sequence[Envelope] = (),
        *,
        revisions: int = 1,
    ) -> Document:
        """Write `state` (top-level fields) over `current` as revision rev+1, with `events`.

        `revisions` > 1 writes several changes decided one after another in one write (a batch),
        the document then at rev+revisions; the claim is still the one of rev+1, the revision
        every writer that read `current` competes for."""
        rev = int(current["rev"])
        old_outbox = current.get("outbox", [])
        outbox = [entry for entry in old_outbox if entry["event_id"] not in self.published]
        outbox += [_outbox_entry(e) for e in events]
        new = {**current, **state, "rev": rev + max(1, revisions), "outbox": outbox}
        claim_id = f"{self.name}:{current['_id']}:{rev + 1}"
        if events:
            # Marker first: a crash after it leaves at worst a marker with nothing to publish.
            await self._mark_pending(str(current["_id"]))
        try:
            await self.claims.insert_one(_claim(claim_id, new))
        except DuplicateKeyError:
            await self._roll_forward_if_stale(claim_id, current)
            raise ConcurrentChange(str(current["_id"])) from None
        # Filter on _id alone: FerretDB/SQLite runs any other filter as a full scan. The claim
        # already made this writer the only one for revision rev+1.
        result = await self.collection.replace_one({"_id": current["_id"]}, new)
        if result.matched_count == 0:
            raise NotFound(str(current["_id"]))
        self._forget_published(old_outbox, kept=outbox)
        self._notify(new)
        return new

    async def create_many(
        self,
        items: Sequence[tuple[Document, Sequence[Envelope]]],
        *,
        publish_all: PublishAll | None = None,
    ) -> list[Document]:
        """Create several aggregates in one round trip per collection; the ones that already
        existed (a redelivery) are left as they are and not returned.

        With `publish_all` (a consumer creating aggregates from a poll), the events are not left
        to the relay: they are kept in each new document (`created_events`, not its outbox) and
        published here, in one call, before this returns. The caller acknowledges its input only
        afterwards (the consumer commits its offsets after the batch), so a crash in between
        replays the input, which finds the aggregates there and publishes their stored creation
        events again (same event ids) when the document says it was created by the same record
        (`created_from`, which the caller sets). No outbox marker, no clearing write, no relay lag.

        If the publish fails (with Kafka up: a partition without a leader, a producer being
        rebuilt), the events are handed to the outbox instead (a claimed revision per document,
        with its marker) and this returns normally: the relay sends them at once, its sweeper later
        if that fails too, and the caller's input is acknowledged rather than retried and
        dead-lettered with its aggregates stored but their events unsent.
        """
        if not items:
            return []
        if publish_all is not None:
            return await self._create_many_and_publish(items, publish_all)
        new_docs = [{**doc, "rev": 1, "outbox": [_outbox_entry(e) for e in events]} for doc, events in items]
        markers = [_marker(self.name, str(doc["_id"])) for doc in new_docs if doc["outbox"]]
        if markers:
            with contextlib.suppress(BulkWriteError):  # markers already there: fine
                await self.pending.insert_many(markers, ordered=False)
        failed = await self._insert_new(new_docs)
        created = [doc for n, doc in enumerate(new_docs) if n not in failed]
        for doc in created:
            self._notify(doc)
        return created

    async def _create_many_and_publish(
        self,
        items: Sequence[tuple[Document, Sequence[Envelope]]],
        publish_all: PublishAll,
    ) -> list[Document]:
        new_docs = [
            {**doc, "rev": 1, "outbox": [], CREATED_EVENTS: [e.model_dump_json() for e in events]}
            for doc, events in items
        ]
        failed = await self._insert_new(new_docs)
        created = [doc for n, doc in enumerate(new_docs) if n not in failed]
        # Whose events go out: (aggregate id, its events), in the order they are published.
        owned = [(str(doc["_id"]), list(items[n][1])) for n, doc in enumerate(new_docs) if n not in failed]
        if failed:
            # Created before. By this very input (the same record, replayed after a crash before
            # its commit): its creation events go out again, they may never have. By another
            # record (an upstream duplicate): they went out with that one, nothing to send.
            positions = [new_docs[n].get(CREATED_FROM) for n in sorted(failed)]
            stored = await gather_bounded(self.get(str(new_docs[n]["_id"])) for n in sorted(failed))
            again = [
                (str(doc["_id"]), [_created_event(entry) for entry in doc[CREATED_EVENTS]])
                for doc, position in zip(stored, positions, strict=True)
                if doc is not None
                and position is not None
                and doc.get(CREATED_FROM) == position
                and doc.get(CREATED_EVENTS)
            ]
            owned = again + owned
        events = [e for _, evs in owned for e in evs]
        if events:
            try:
                await publish_all(events)
            except Exception as error:
                log.warning(
                    "publishing created aggregates' events failed: handed to the outbox relay",
                    collection=self.name,
                    aggregates=len(owned),
                    error=repr(error),
                )
                await gather_bounded(self._hand_to_outbox(aid, evs) for aid, evs in owned if evs)
        return created

    async def _hand_to_outbox(self, aggregate_id: str, events: Sequence[Envelope]) -> None:
        """Put events that could not be published into the aggregate's outbox (a claimed revision,
        marked pending, the relay notified), unless they are there already."""
        for attempt in range(8):
            current = await self.load(aggregate_id)
            there = {entry["event_id"] for entry in current.get("outbox", [])}
            missing = [e for e in events if str(e.event_id) not in there]
            if not missing:
                return
            try:
                await self.commit(current, {}, missing)
                return
            except ConcurrentChange:
                await asyncio.sleep(0.005 * (attempt + 1))
        raise ConcurrentChange(aggregate_id)

    async def _insert_new(self, docs: list[Document]) -> set[int]:
        """Insert; the positions of the documents that were there already."""
        failed: set[int] = set()
        try:
            await self.collection.insert_many(docs, ordered=False)
        except BulkWriteError as error:
            for problem in error.details.get("writeErrors", []):
                if problem.get("code") != 11000:
                    raise
                failed.add(int(problem["index"]))
        return failed

    async def change(
        self,
        aggregate_id: str,
        decide: Callable[[Document], Awaitable[tuple[Mapping[str, Any], list[Envelope]]]]
        | Callable[[Document], tuple[Mapping[str, Any], list[Envelope]]],
        *,
        attempts: int = 8,
    ) -> Document:
        """Load, decide, commit; on a concurrent change, reload and decide again."""
        for attempt in range(attempts):
            current = await self.load(aggregate_id)
            decided = decide(current)
            state, events = await decided if asyncio.iscoroutine(decided) else decided  # type: ignore[misc]
            try:
                return await self.commit(current, state, events)
            except ConcurrentChange:
                await asyncio.sleep(0.005 * (attempt + 1))
        raise ConcurrentChange(aggregate_id)

    async def _roll_forward_if_stale(self, claim_id: str, current: Document) -> None:
        claim = await self.claims.find_one({"_id": claim_id})
        if claim is None or SYSTEM_CLOCK.now() - claim["at"] < STALE_CLAIM:
            return
        # `current` may be an old copy: only a document still at the revision before the claim
        # was left behind by a writer that died between claim and write.
        stored = await self.get(str(current["_id"]))
        claimed_from = int(claim_id.rsplit(":", 1)[1]) - 1  # the doc may be several revisions on
        if stored is None or int(stored["rev"]) != claimed_from:
            return
        await self.collection.replace_one({"_id": current["_id"]}, claim["doc"])
        self._notify(claim["doc"])

    def on_commit_doc(self, listener: Callable[[str, Document], None]) -> None:
        """`listener(collection, doc)` gets the committed document itself (no read-back needed)."""
        self._on_commit_doc.append(listener)

    def _notify(self, doc: Document) -> None:
        if doc.get("outbox"):
            for listener in self._on_commit:
                listener(self.name, str(doc["_id"]))
            for doc_listener in self._on_commit_doc:
                doc_listener(self.name, doc)

    def _forget_published(self, old: Sequence[Document], kept: Sequence[Document] = ()) -> None:
        # Ids leave the set with the outbox entries they mark, so the set stays as small as the backlog.
        # An entry the new revision still carries (it was not yet published when the change was
        # decided, and has been since) stays remembered: forgetting it would publish it twice.
        still = {entry["event_id"] for entry in kept}
        for entry in old:
            if entry["event_id"] not in still:
                self.published.discard(entry["event_id"])

    async def _mark_pending(self, aggregate_id: str) -> None:
        try:
            await self.pending.insert_one(_marker(self.name, aggregate_id))
        except DuplicateKeyError:
            pass

    async def unmark_if_published(self, aggregate_id: str) -> None:
        """Remove the marker, then look again: a change committed meanwhile marks itself anew."""
        await self.pending.delete_one({"_id": f"{self.name}:{aggregate_id}"})
        doc = await self.get(aggregate_id)
        if doc is not None and doc.get("outbox"):
            await self._mark_pending(aggregate_id)

    async def ensure_indexes(self) -> None:
        """Markers by collection, claims by minute: the sweepers' equality queries. On the store's
        first start, where its claim sweeps begin: no claim of it can be older."""
        await self.pending.create_index([("c", ASCENDING)])
        await self.claims.create_index([("m", ASCENDING)])
        with contextlib.suppress(DuplicateKeyError):  # started before: the sweeps go on from there
            first = _minute(SYSTEM_CLOCK.now()) - 1
            await self.sweeps.insert_one({"_id": self._sweep_progress_id, "m": first})

    async def pending_ids(self, limit: int = 500) -> list[str]:
        """Aggregates of this collection with unpublished events (equality on an indexed field)."""
        return [m["id"] async for m in self.pending.find({"c": self.name}, {"id": 1}).limit(limit)]

    async def backlog(self) -> int:
        return await self.pending.count_documents({"c": self.name})

    async def drop_published(self, aggregate_id: str) -> None:
        """Clear published entries from the outbox, as a claimed revision; a conflict just waits."""
        await self.drop_published_many([aggregate_id])

    async def drop_published_many(self, aggregate_ids: Sequence[str]) -> int:
        """Clear published entries from several outboxes: parallel reads by _id, then one insert of
        claims, one bulk replace and one bulk marker delete. An aggregate whose claim is taken
        (it changed meanwhile) is left to that change or the next clearing. Returns how many
        outboxes were emptied."""
        if not aggregate_ids:
            return 0
        docs = await gather_bounded(self.get(aggregate_id) for aggregate_id in aggregate_ids)
        gone = [aid for aid, doc in zip(aggregate_ids, docs, strict=True) if doc is None]
        empty = [str(doc["_id"]) for doc in docs if doc is not None and not doc.get("outbox")]
        changes: list[tuple[Document, Document]] = []
        for doc in docs:
            if doc is None or not doc.get("outbox"):
                continue
            remaining = [e for e in doc["outbox"] if e["event_id"] not in self.published]
            if len(remaining) < len(doc["outbox"]):
                changes.append((doc, {**doc, "rev": int(doc["rev"]) + 1, "outbox": remaining}))
        won = await self._claim_many(changes)
        if won:
            await bulk_write_chunked(
                self.collection, [ReplaceOne({"_id": new["_id"]}, new) for _, new in won]
            )
            for old, new in won:
                self._forget_published(old["outbox"], kept=new["outbox"])
                if new["outbox"]:
                    self._notify(new)
                else:
                    empty.append(str(new["_id"]))
        if gone:
            await bulk_write_chunked(self.pending, [DeleteOne({"_id": f"{self.name}:{aid}"}) for aid in gone])
        if empty:
            await self._unmark_many(empty)
        return len(empty)

    async def _claim_many(self, changes: list[tuple[Document, Document]]) -> list[tuple[Document, Document]]:
        if not changes:
            return []
        claims = [_claim(f"{self.name}:{new['_id']}:{new['rev']}", new) for _, new in changes]
        lost: set[int] = set()
        try:
            await self.claims.insert_many(claims, ordered=False)
        except BulkWriteError as error:
            for problem in error.details.get("writeErrors", []):
                if problem.get("code") != 11000:
                    raise
                lost.add(int(problem["index"]))
        return [change for n, change in enumerate(changes) if n not in lost]

    async def _unmark_many(self, aggregate_ids: list[str]) -> None:
        """Remove the markers, then look again: a change committed meanwhile marks itself anew."""
        await bulk_write_chunked(
            self.pending, [DeleteOne({"_id": f"{self.name}:{aid}"}) for aid in aggregate_ids]
        )
        again = await gather_bounded(self.get(aid) for aid in aggregate_ids)
        for doc in again:
            if doc is not None and doc.get("outbox"):
                await self._mark_pending(str(doc["_id"]))

    @property
    def _sweep_progress_id(self) -> str:
        return f"swept:{self.name}"

    async def sweep_claims(self, older_than: timedelta = timedelta(minutes=5)) -> int:
        """Roll forward abandoned claims, then delete old ones, one minute bucket at a time.

        Claims carry their minute (`m`, indexed), so the sweeper reads one minute per query by
        equality instead of filtering a date range over the whole collection; a progress record
        per collection says where the last sweep stopped.
        """
        progress_id = self._sweep_progress_id
        until = _minute(SYSTEM_CLOCK.now() - older_than)
        progress = await self.sweeps.find_one({"_id": progress_id})
        # From where the last sweep stopped, or the store's first start (`ensure_indexes`): not a
        # day back minute by minute (1,441 queries per store and process a minute after every
        # start on a new database), nor the oldest claim (a sort FerretDB does over every claim).
        start = int(progress["m"]) + 1 if progress is not None else until - 24 * 60
        removed = 0
        prefix = f"{self.name}:"
        for minute in range(max(start, until - 7 * 24 * 60), until + 1):
            async for claim in self.claims.find({"m": minute}):
                if not str(claim["_id"]).startswith(prefix):
                    continue
                doc = claim["doc"]
                current = await self.get(doc["_id"])
                if current is not None and current["rev"] < doc["rev"]:
                    await self.collection.replace_one({"_id": doc["_id"]}, doc)
                    self._notify(doc)
                await self.claims.delete_one({"_id": claim["_id"]})
                removed += 1
        await self.sweeps.replace_one({"_id": progress_id}, {"_id": progress_id, "m": until}, upsert=True)
        return removed


def _minute(at: datetime) -> int:
    return int(at.timestamp() // 60)


def _claim(claim_id: str, doc: Document) -> Document:
    now = SYSTEM_CLOCK.now()
    return {"_id": claim_id, "at": now, "m": _minute(now), "doc": doc}


def _marker(collection: str, aggregate_id: str) -> Document:
    return {"_id": f"{collection}:{aggregate_id}", "c": collection, "id": aggregate_id}
