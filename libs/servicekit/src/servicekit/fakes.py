"""In-memory stand-ins for the fast tier of use-case tests: no broker, no store process.

- `memory_db()`: a database with the asynchronous PyMongo interface the kit and the services use
  (find, insert, replace, update, delete, bulk writes, unique indexes), kept in memory by mongomock.
  The kit's `AggregateStore` (revision claims, outbox) and `CatalogView` run on it unchanged, and so
  do the services' own stores: a use case is tested with its real store code.
- `feed(view, *payloads)`: give a `CatalogView` the catalog events, as its consumer would.
- `RecordingProducer`: stands where the kit's `EventProducer` publishes; keeps what was sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

import mongomock
from contracts import Envelope, EventData, new_event
from pymongo import DeleteMany, DeleteOne, InsertOne, ReplaceOne, UpdateMany, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.results import BulkWriteResult

from servicekit.catalog_view import CatalogView
from servicekit.kafka import EventRouter
from servicekit.store import Document


class _Cursor:
    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def sort(self, *args: Any, **kwargs: Any) -> _Cursor:
        self._cursor = self._cursor.sort(*args, **kwargs)
        return self

    def limit(self, count: int) -> _Cursor:
        self._cursor = self._cursor.limit(count)
        return self

    def skip(self, count: int) -> _Cursor:
        self._cursor = self._cursor.skip(count)
        return self

    async def to_list(self, length: int | None = None) -> list[Document]:
        found = list(self._cursor)
        return found if length is None else found[:length]

    def __aiter__(self) -> AsyncIterator[Document]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Document]:
        for doc in list(self._cursor):
            await asyncio.sleep(0)  # a real cursor yields to the loop too
            yield doc


class _Collection:
    """The asynchronous face of one mongomock collection; every call yields to the event loop
    once, so concurrent use cases interleave as they would against a real store."""

    def __init__(self, collection: Any) -> None:
        self._collection = collection
        self.name: str = collection.name

    def find(self, *args: Any, **kwargs: Any) -> _Cursor:
        return _Cursor(self._collection.find(*args, **kwargs))

    async def bulk_write(self, requests: Sequence[Any], ordered: bool = True) -> BulkWriteResult:
        """One operation at a time (mongomock's own bulk path does not take PyMongo 4.x's operations)."""
        for op in requests:
            doc = op._doc if isinstance(op, InsertOne) else None
            if doc is not None:
                await self.insert_one(doc)
            elif isinstance(op, ReplaceOne):
                await self.replace_one(op._filter, op._doc, upsert=bool(op._upsert))
            elif isinstance(op, UpdateOne | UpdateMany):
                method = self.update_one if isinstance(op, UpdateOne) else self.update_many
                await method(op._filter, op._doc, upsert=bool(op._upsert))
            elif isinstance(op, DeleteOne | DeleteMany):
                method = self.delete_one if isinstance(op, DeleteOne) else self.delete_many
                await method(op._filter)
            else:
                raise NotImplementedError(type(op).__name__)
        return BulkWriteResult({}, acknowledged=True)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._collection, name)
        if not callable(method):
            return method

        async def call(*args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(0)
            return method(*args, **kwargs)

        return call


class _Database:
    def __init__(self, name: str) -> None:
        self._db: Any = mongomock.MongoClient(tz_aware=True)[name]  # as the kit connects
        self._collections: dict[str, _Collection] = {}
        self.name = name

    def __getitem__(self, name: str) -> _Collection:
        if name not in self._collections:
            self._collections[name] = _Collection(self._db[name])
        return self._collections[name]

    __getattr__ = __getitem__

    async def command(self, name: str, *args: Any, **kwargs: Any) -> Document:
        return {"ok": 1.0}

    async def list_collection_names(self) -> list[str]:
        return [name for name in self._db.list_collection_names() if self._db[name].count_documents({})]


def memory_db(name: str = "memory") -> AsyncDatabase[Document]:
    """A fresh in-memory database, typed as the real one for the code under test."""
    return cast(AsyncDatabase[Document], _Database(name))


async def feed(view: CatalogView, *payloads: EventData) -> None:
    """Apply catalog events to `view` through its own handlers (what its consumer does)."""
    router = EventRouter()
    view.subscribe(router)
    for version, data in enumerate(payloads, start=1):
        key = str(getattr(data, "office_id", None) or getattr(data, "service_id", "x"))
        envelope = new_event(
            data, producer="test", office_id=key, aggregate_id=key, aggregate_version=version
        )
        await router.dispatch(envelope, data)


class RecordingProducer:
    """Where the kit's EventProducer would publish: keeps the envelopes, in order."""

    def __init__(self) -> None:
        self.sent: list[Envelope] = []

    async def publish(self, envelope: Envelope) -> None:
        self.sent.append(envelope)

    async def publish_all(self, envelopes: Sequence[Envelope]) -> None:
        self.sent.extend(envelopes)

    def of_type(self, event_type: str) -> list[Envelope]:
        return [envelope for envelope in self.sent if envelope.event_type == event_type]
