"""Read models of ticketing, written in bulk after each log append: any replica reads them.

`tickets` (by id; the office's day by `office_id` + `local_day`), `ticket_tokens` (by the digest of
a citizen's link token), `windows` (by `office:window`). They trail the log by one bulk write; a
takeover writes again what the log holds after the last snapshot, so a crash in between heals.
"""

from __future__ import annotations

import asyncio
from datetime import date

from pymongo import ASCENDING, ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase
from servicekit.store import Document

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
        self, tickets: list[Document], windows: list[Document], tokens: list[tuple[str, str, str]]
    ) -> None:
        """Write the read models of one committed entry (idempotent: replays write the same)."""
        writes = []
        if tickets:
            writes.append(
                self.tickets.bulk_write(
                    [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in tickets], ordered=False
                )
            )
        if windows:
            writes.append(
                self.windows.bulk_write(
                    [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in windows], ordered=False
                )
            )
        if tokens:
            writes.append(
                self.tokens.bulk_write(
                    [
                        ReplaceOne(
                            {"_id": digest},
                            {"_id": digest, "ticket_id": ticket_id, "office_id": office_id},
                            upsert=True,
                        )
                        for digest, ticket_id, office_id in tokens
                    ],
                    ordered=False,
                )
            )
        await asyncio.gather(*writes)

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
