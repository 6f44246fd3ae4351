"""Read models of ticketing, written in bulk after each log append: any replica reads them.

`tickets` (by id; the office's day by `office_id` + `local_day`), `ticket_tokens` (by the digest of
a citizen's link token), `windows` (by `office:window`). They trail the log by one bulk write; a
takeover writes again what the log holds after the last snapshot, so a crash in between heals.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from pymongo import ASCENDING, ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError
from servicekit.store import Document, bulk_write_chunked

from ticketing.domain import TicketState


class ReadModels:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.tickets = db["tickets"]
        self.tokens = db["ticket_tokens"]
        self.windows = db["windows"]

    async def ensure_indexes(self) -> None:
        await self.tickets.create_index([("office_id", ASCENDING), ("local_day", ASCENDING)])
        await self.windows.create_index([("office_id", ASCENDING)])

    async def project(
        self,
        tickets: list[Document],
        windows: list[Document],
        tokens: list[tuple[str, str, str]],
        new_tickets: set[str] | None = None,
    ) -> None:
        """Write the read models of committed entries (idempotent: a replay writes the same).

        Tickets issued in these entries and tokens are inserted (cheap on every store); a replay that
        meets them again replaces them. Changed tickets and windows are replaced.
        """
        new_tickets = new_tickets or set()
        fresh = [d for d in tickets if d["_id"] in new_tickets]
        changed = [d for d in tickets if d["_id"] not in new_tickets]
        token_docs = [{"_id": d, "ticket_id": t, "office_id": o} for d, t, o in tokens]
        await asyncio.gather(
            self._insert_or_replace(self.tickets, fresh),
            self._insert_or_replace(self.tokens, token_docs),
            self._replace(self.tickets, changed),
            self._replace(self.windows, windows),
        )

    @staticmethod
    async def _replace(collection: Any, docs: list[Document]) -> None:
        if docs:
            await bulk_write_chunked(
                collection, [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in docs], ordered=False
            )

    async def _insert_or_replace(self, collection: Any, docs: list[Document]) -> None:
        if not docs:
            return
        try:
            await collection.insert_many(docs, ordered=False)
        except BulkWriteError as error:
            taken = {
                docs[e["index"]]["_id"]
                for e in error.details.get("writeErrors", [])
                if e.get("code") == 11000
            }
            others = [e for e in error.details.get("writeErrors", []) if e.get("code") != 11000]
            if others:
                raise
            await self._replace(collection, [d for d in docs if d["_id"] in taken])

    async def ticket_doc(self, ticket_id: str) -> Document | None:
        return await self.tickets.find_one({"_id": ticket_id})

    async def ticket_by_token(self, digest: str) -> Document | None:
        link = await self.tokens.find_one({"_id": digest})
        return await self.ticket_doc(link["ticket_id"]) if link else None

    async def windows_of(self, office_id: str) -> list[Document]:
        cursor = self.windows.find({"office_id": office_id}).sort("window_no", ASCENDING)
        return [doc async for doc in cursor]

    async def day_counts(self, office_id: str, day: date, window_no: int) -> dict[str, int]:
        """What a window did today, from the tickets it handled last."""
        counts = {"called": 0, "served": 0, "no_show": 0, "transferred_or_next": 0}
        cursor = self.tickets.find(
            {"office_id": office_id, "local_day": day.isoformat()},
            {"state": 1, "last_window_no": 1},
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

    async def tickets_in(self, office_id: str, day: date) -> list[Document]:
        cursor = self.tickets.find({"office_id": office_id, "local_day": day.isoformat()})
        return [doc async for doc in cursor]
