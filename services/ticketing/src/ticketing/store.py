"""Ticketing's collections: ticket/window/queue aggregates, number claims, learned service times."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from servicekit.store import AggregateStore, Document

from ticketing.domain import Ticket, TicketState


class TicketNumbers:
    """Daily numbers per (office, day, letter), claimed by unique inserts.

    `{_id: "office:day:letter:seq"}` can be inserted once on any Mongo-wire store, so two processes
    never issue the same number. Each process keeps its next seq in memory (seeded from the highest
    claimed one); a duplicate means another process got there first: try the next one.
    """

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection = db["ticket_numbers"]
        self._next: dict[tuple[str, str, str], int] = {}
        self._claiming: dict[tuple[str, str, str], asyncio.Lock] = {}

    async def ensure_indexes(self) -> None:
        await self.collection.create_index(
            [("office_id", ASCENDING), ("local_day", ASCENDING), ("letter", ASCENDING)]
        )

    async def _highest(self, key: tuple[str, str, str]) -> int:
        office_id, day, letter = key
        cursor = (
            self.collection.find({"office_id": office_id, "local_day": day, "letter": letter}, {"seq": 1})
            .sort("seq", DESCENDING)
            .limit(1)
        )
        found = [doc async for doc in cursor]
        return int(found[0]["seq"]) if found else 0

    async def claim(self, office_id: str, day: date, letter: str, ticket_id: str) -> int:
        key = (office_id, day.isoformat(), letter)
        # One claim in flight per key and process: replicas then collide at most once per number,
        # instead of whole batches racing for the same range and losing round after round.
        async with self._claiming.setdefault(key, asyncio.Lock()):
            if key not in self._next:
                self._next[key] = await self._highest(key) + 1
            while True:
                seq = self._next[key]
                try:
                    await self.collection.insert_one(
                        {
                            "_id": f"{key[0]}:{key[1]}:{letter}:{seq}",
                            "office_id": office_id,
                            "local_day": key[1],
                            "letter": letter,
                            "seq": seq,
                            "ticket_id": ticket_id,
                        }
                    )
                except DuplicateKeyError:
                    # Another replica issued this one; it is at most a few ahead (one claim in flight
                    # each), so probing the next _id is cheaper than re-reading the highest (a scan).
                    self._next[key] = seq + 1
                    continue
                self._next[key] = seq + 1
                return seq


class TicketStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db
        self.tickets = AggregateStore(db, "tickets")
        self.windows = AggregateStore(db, "windows")
        self.queue_status = AggregateStore(db, "queue_status")
        self.numbers = TicketNumbers(db)
        self.service_times = db["service_times"]
        self.handled_events = db["handled_events"]
        self.tokens = db["ticket_tokens"]
        self.window_tickets = db["window_tickets"]

    @property
    def aggregates(self) -> tuple[AggregateStore, ...]:
        return (self.tickets, self.windows, self.queue_status)

    async def ensure_indexes(self) -> None:
        await self.tickets.collection.create_index([("office_id", ASCENDING), ("state", ASCENDING)])
        await self.tickets.collection.create_index(
            [("office_id", ASCENDING), ("state", ASCENDING), ("service_id", ASCENDING)]
        )
        await self.tickets.collection.create_index([("office_id", ASCENDING), ("local_day", ASCENDING)])
        await self.tickets.collection.create_index([("at_window", ASCENDING)])
        await self.windows.collection.create_index([("office_id", ASCENDING), ("state", ASCENDING)])
        await self.numbers.ensure_indexes()

    # ------------------------------------------------------------------ tickets

    async def ticket_doc(self, ticket_id: str) -> Document | None:
        return await self.tickets.get(ticket_id)

    async def remember_token(self, digest: str, ticket_id: str) -> None:
        await self.tokens.insert_one({"_id": digest, "ticket_id": ticket_id})

    async def ticket_by_token(self, digest: str) -> Document | None:
        # By _id: FerretDB on SQLite filters only _id in the database, anything else is a scan.
        link = await self.tokens.find_one({"_id": digest})
        return await self.tickets.get(link["ticket_id"]) if link else None

    async def waiting_docs(self, office_id: str) -> list[Document]:
        cursor = self.tickets.collection.find({"office_id": office_id, "state": str(TicketState.WAITING)})
        return [doc async for doc in cursor]

    async def waiting_docs_for(self, office_id: str, service_ids: list[str]) -> list[Document]:
        """Waiting tickets of these services only (equality queries: the store filters them itself)."""
        docs: list[Document] = []
        for service_id in dict.fromkeys(service_ids):
            cursor = self.tickets.collection.find(
                {"office_id": office_id, "state": str(TicketState.WAITING), "service_id": service_id},
                {"outbox": 0},  # routing needs the ticket, not its pending events
            )
            docs.extend([doc async for doc in cursor])
        return docs

    async def count_waiting(self, office_id: str, service_id: str) -> int:
        return int(
            await self.tickets.collection.count_documents(
                {"office_id": office_id, "state": str(TicketState.WAITING), "service_id": service_id}
            )
        )

    async def waiting_summary(self, office_id: str) -> list[tuple[str, datetime]]:
        """(service_id, queued_at) of every waiting ticket: what a QueueStatus needs, few bytes."""
        cursor = self.tickets.collection.find(
            {"office_id": office_id, "state": str(TicketState.WAITING)}, {"service_id": 1, "queued_at": 1}
        )
        return [(str(doc["service_id"]), doc["queued_at"]) async for doc in cursor]

    async def waiting(self, office_id: str) -> list[Ticket]:
        return [Ticket.from_doc(doc) for doc in await self.waiting_docs(office_id)]

    async def point_window(self, key: str, ticket_id: str) -> None:
        """Remember the ticket a window called (by its call-next, or when a lost pointer is healed)."""
        await self.window_tickets.replace_one({"_id": key}, {"_id": key, "ticket_id": ticket_id}, upsert=True)

    async def active_at_window(self, key: str) -> Document | None:
        """The ticket called or served at this window; the pointer is a hint, the ticket decides.

        The ticket is committed before the pointer is written, so a process killed in between leaves
        a called ticket no pointer names, and a pointer to a finished ticket means nothing. Either way
        the tickets themselves are asked (`at_window` is an equality query) and the pointer is healed.
        """
        pointer = await self.window_tickets.find_one({"_id": key})
        if pointer is not None:
            doc = await self.tickets.get(pointer["ticket_id"])
            if doc is not None and doc.get("at_window") == key:
                return doc
        orphan = await self._occupying(key)
        if orphan is not None:
            await self.point_window(key, str(orphan["_id"]))
        return orphan

    async def _occupying(self, key: str) -> Document | None:
        """The ticket called or served at this window, found by the tickets themselves."""
        cursor = self.tickets.collection.find({"at_window": key})
        found = [doc async for doc in cursor]
        # Two at once only if two processes called for one window together: the earliest call first,
        # the other surfaces once it is finished.
        found.sort(key=lambda doc: (doc.get("called_at") is None, doc.get("called_at") or 0, doc["_id"]))
        return found[0] if found else None

    async def offices_with_waiting(self) -> list[str]:
        return [
            str(office)
            for office in await self.tickets.collection.distinct("office_id", {"state": "waiting"})
        ]

    async def day_counts(self, office_id: str, day: date, window_no: int) -> dict[str, int]:
        """What a window did today, from the tickets it handled last."""
        counts = {"called": 0, "served": 0, "no_show": 0, "transferred_or_next": 0}
        cursor = self.tickets.collection.find(
            {"office_id": office_id, "local_day": day.isoformat()},
            {"state": 1, "window_no": 1, "served": 1, "last_window_no": 1},
        )
        async for doc in cursor:
            if doc.get("last_window_no") != window_no:
                continue
            counts["called"] += 1
            if doc["state"] == TicketState.DONE:
                counts["served"] += 1
            elif doc["state"] == TicketState.NO_SHOW:
                counts["no_show"] += 1
            elif doc["state"] == TicketState.WAITING:
                counts["transferred_or_next"] += 1
        return counts

    # ------------------------------------------------------------------ windows

    async def open_windows(self, office_id: str) -> list[Document]:
        cursor = self.windows.collection.find({"office_id": office_id, "state": "open"})
        return [doc async for doc in cursor]

    async def windows_of(self, office_id: str) -> list[Document]:
        cursor = self.windows.collection.find({"office_id": office_id}).sort("window_no", ASCENDING)
        return [doc async for doc in cursor]

    # ------------------------------------------------------------------ service times

    async def mean_service_seconds(self, office_id: str) -> dict[str, float]:
        cursor = self.service_times.find({"office_id": office_id})
        return {doc["service_id"]: float(doc["mean_seconds"]) async for doc in cursor}

    async def already_handled(self, event_id: str) -> bool:
        return await self.handled_events.find_one({"_id": event_id}) is not None

    async def mark_handled(self, event_id: str) -> None:
        try:
            await self.handled_events.insert_one({"_id": event_id})
        except DuplicateKeyError:
            pass

    async def save_service_time(
        self, office_id: str, service_id: str, mean_seconds: float, samples: int
    ) -> None:
        # Written only by the consumer of this office's partition: one writer, so replace is safe.
        doc: dict[str, Any] = {
            "office_id": office_id,
            "service_id": service_id,
            "mean_seconds": mean_seconds,
            "samples": samples,
        }
        await self.service_times.replace_one({"_id": f"{office_id}:{service_id}"}, doc, upsert=True)

    async def service_time(self, office_id: str, service_id: str) -> Document | None:
        return await self.service_times.find_one({"_id": f"{office_id}:{service_id}"})
