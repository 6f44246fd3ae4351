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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts import Envelope
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

Document = dict[str, Any]
CLAIMS = "_claims"
# Which aggregates have unpublished events: FerretDB on SQLite filters only `{_id: ...}` in the
# database (anything else is a full scan in Go), so the sweeper reads this small collection
# instead of querying every aggregate collection for pending outboxes.
PENDING = "_outbox_pending"
STALE_CLAIM = timedelta(seconds=10)


class ConcurrentChange(Exception):
    """Someone else changed the aggregate first; reload and decide again."""


class AlreadyExists(Exception):
    """An aggregate with this id exists."""


class NotFound(Exception):
    """No aggregate with this id."""


def connect(url: str, *, app_name: str) -> AsyncMongoClient[Document]:
    return AsyncMongoClient(url, appname=app_name, tz_aware=True, serverSelectionTimeoutMS=5000)


def _outbox_entry(envelope: Envelope) -> Document:
    return {"event_id": str(envelope.event_id), "event": envelope.model_dump(mode="json")}


class AggregateStore:
    """One collection of aggregates written only through claimed revisions."""

    def __init__(self, db: AsyncDatabase[Document], collection: str) -> None:
        self.db = db
        self.name = collection
        self.collection: AsyncCollection[Document] = db[collection]
        self.claims: AsyncCollection[Document] = db[CLAIMS]
        self.pending: AsyncCollection[Document] = db[PENDING]
        self._on_commit: list[Callable[[str, str], None]] = []
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
        self, current: Document, state: Mapping[str, Any], events: Sequence[Envelope] = ()
    ) -> Document:
        """Write `state` (top-level fields) over `current` as revision rev+1, with `events`."""
        rev = int(current["rev"])
        outbox = [entry for entry in current.get("outbox", []) if entry["event_id"] not in self.published]
        outbox += [_outbox_entry(e) for e in events]
        new = {**current, **state, "rev": rev + 1, "outbox": outbox}
        claim_id = f"{self.name}:{current['_id']}:{rev + 1}"
        if events:
            # Marker first: a crash after it leaves at worst a marker with nothing to publish.
            await self._mark_pending(str(current["_id"]))
        try:
            await self.claims.insert_one({"_id": claim_id, "at": datetime.now(UTC), "doc": new})
        except DuplicateKeyError:
            await self._roll_forward_if_stale(claim_id, current)
            raise ConcurrentChange(str(current["_id"])) from None
        # Filter on _id alone: FerretDB/SQLite runs any other filter as a full scan. The claim
        # already made this writer the only one for revision rev+1.
        result = await self.collection.replace_one({"_id": current["_id"]}, new)
        if result.matched_count == 0:
            raise NotFound(str(current["_id"]))
        self._notify(new)
        return new

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
        if claim is None or datetime.now(UTC) - claim["at"] < STALE_CLAIM:
            return
        # `current` may be an old copy: only a document still at the revision before the claim
        # was left behind by a writer that died between claim and write.
        stored = await self.get(str(current["_id"]))
        if stored is None or int(stored["rev"]) != int(claim["doc"]["rev"]) - 1:
            return
        await self.collection.replace_one({"_id": current["_id"]}, claim["doc"])
        self._notify(claim["doc"])

    def _notify(self, doc: Document) -> None:
        if doc.get("outbox"):
            for listener in self._on_commit:
                listener(self.name, str(doc["_id"]))

    async def _mark_pending(self, aggregate_id: str) -> None:
        try:
            await self.pending.insert_one(
                {"_id": f"{self.name}:{aggregate_id}", "c": self.name, "id": aggregate_id}
            )
        except DuplicateKeyError:
            pass

    async def unmark_if_published(self, aggregate_id: str) -> None:
        """Remove the marker, then look again: a change committed meanwhile marks itself anew."""
        await self.pending.delete_one({"_id": f"{self.name}:{aggregate_id}"})
        doc = await self.get(aggregate_id)
        if doc is not None and doc.get("outbox"):
            await self._mark_pending(aggregate_id)

    async def pending_ids(self, limit: int = 500) -> list[str]:
        markers = await self.pending.find({}).to_list(None)
        return [m["id"] for m in markers if m.get("c") == self.name][:limit]

    async def backlog(self) -> int:
        return len(await self.pending_ids(limit=1_000_000))

    async def drop_published(self, aggregate_id: str) -> None:
        """Clear published entries from the outbox, as a claimed revision; a conflict just waits."""
        current = await self.get(aggregate_id)
        if current is None:
            await self.pending.delete_one({"_id": f"{self.name}:{aggregate_id}"})
            return
        if not current.get("outbox"):
            await self.unmark_if_published(aggregate_id)
            return
        remaining = [e for e in current.get("outbox", []) if e["event_id"] not in self.published]
        if len(remaining) == len(current.get("outbox", [])):
            return
        try:
            new = await self.commit(current, {}, [])
        except ConcurrentChange:
            return
        if not new["outbox"]:
            self.published.difference_update(e["event_id"] for e in current.get("outbox", []))
            await self.unmark_if_published(aggregate_id)

    async def sweep_claims(self, older_than: timedelta = timedelta(minutes=5)) -> int:
        """Roll forward abandoned claims, then delete old ones (claims of this collection only)."""
        cutoff = datetime.now(UTC) - older_than
        removed = 0
        prefix = f"{self.name}:"
        async for claim in self.claims.find({"at": {"$lt": cutoff}}):
            if not str(claim["_id"]).startswith(prefix):
                continue
            doc = claim["doc"]
            current = await self.get(doc["_id"])
            if current is not None and current["rev"] < doc["rev"]:
                await self.collection.replace_one({"_id": doc["_id"]}, doc)
                self._notify(doc)
            await self.claims.delete_one({"_id": claim["_id"]})
            removed += 1
        return removed
