"""Ticketing's owner-side collections: the office log (commit and fence), snapshots, owner records.

* `office_log` - `{_id: "office:seq"}`, one entry per committed change of an office. The unique `_id`
  is both the commit and the fence: two writers of one office cannot both append seq n.
* `office_snapshots` - one per office: its live state as of a log seq, so a takeover replays little.
* `office_published` - per office, the last log seq whose events reached Kafka.
* `office_owners` - per ownership partition, the replica that owns it (for forwarding requests).
The read models written after each append live in `projections.py`. A ticket or a window is stored as
the document `ticket_document` / `window_document` make (in log entries, snapshots and read models
alike), and read back with `ticket_from` / `window_from`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import fields
from datetime import date
from typing import Any

from pymongo import DeleteOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from servicekit.store import Document, bulk_write_chunked

from ticketing.domain import Ticket, TicketState, Window

# Concurrent reads per round: FerretDB serves each with a pooled PostgreSQL connection, and a burst
# larger than its pool while it creates a database was seen to deadlock it.
LOG_READ_CHUNK = 8


class LogConflict(Exception):
    """Another writer appended this seq first: this process no longer owns the office."""


# ------------------------------------------------------------------ documents

TICKET_FIELDS = tuple(f.name for f in fields(Ticket))
WINDOW_FIELDS = tuple(f.name for f in fields(Window))


def ticket_document(ticket: Ticket) -> Document:
    """Every field, keyed by `_id`; plus `at_window` and `service_id`, which the read models query."""
    doc = {name: getattr(ticket, name) for name in TICKET_FIELDS}
    doc["_id"] = doc.pop("ticket_id")
    doc["local_day"] = ticket.local_day.isoformat()
    doc["state"] = str(ticket.state)
    doc["at_window"] = ticket.at_window
    doc["service_id"] = ticket.service_id
    return doc


def ticket_from(doc: Mapping[str, Any]) -> Ticket:
    values = {name: doc[name] for name in TICKET_FIELDS if name in doc and name != "ticket_id"}
    values["local_day"] = date.fromisoformat(doc["local_day"])
    values["state"] = TicketState(doc["state"])
    return Ticket(ticket_id=str(doc["_id"]), **values)


def window_document(window: Window) -> Document:
    doc = {name: getattr(window, name) for name in WINDOW_FIELDS}
    doc["_id"] = window.key
    return doc


def window_from(doc: Mapping[str, Any]) -> Window:
    return Window(**{name: doc[name] for name in WINDOW_FIELDS if name in doc})


# ------------------------------------------------------------------ the office log


def log_id(office_id: str, seq: int) -> str:
    return f"{office_id}:{seq:010d}"


class OfficeLog:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db
        self.log = db["office_log"]
        self.snapshots = db["office_snapshots"]
        self.published = db["office_published"]
        self.owners = db["office_owners"]

    # ------------------------------------------------------------------ the office log

    async def append(self, entry: Document) -> None:
        try:
            await self.log.insert_one(entry)
        except DuplicateKeyError as error:
            raise LogConflict(f"log entry {entry['_id']} exists: another owner wrote it") from error

    async def entries_after(self, office_id: str, seq: int) -> list[Document]:
        """Log entries seq+1, seq+2, ... until the first missing one, read by `_id` in small chunks.

        Equality on `_id` is what every store filters itself; a range on seq would be fetched whole.
        """
        found: list[Document] = []
        while True:
            ids = [log_id(office_id, seq + i) for i in range(1, LOG_READ_CHUNK + 1)]
            docs = await asyncio.gather(*(self.log.find_one({"_id": i}) for i in ids))
            for doc in docs:
                if doc is None:
                    return found
                found.append(doc)
            seq += LOG_READ_CHUNK

    async def prune(self, office_id: str, from_seq: int, to_seq: int) -> None:
        """Drop entries a snapshot covers, by `_id` (a range filter would read the office's whole log)."""
        await bulk_write_chunked(
            self.log, [DeleteOne({"_id": log_id(office_id, seq)}) for seq in range(from_seq, to_seq + 1)]
        )

    async def snapshot(self, office_id: str) -> Document | None:
        return await self.snapshots.find_one({"_id": office_id})

    async def save_snapshot(self, office_id: str, seq: int, state: Document) -> None:
        # Only committed state is snapshotted, so even a late write of an older one stays correct:
        # the log after it is replayed on load.
        await self.snapshots.replace_one(
            {"_id": office_id}, {"_id": office_id, "seq": seq, **state}, upsert=True
        )

    async def published_to(self, office_id: str) -> int:
        doc = await self.published.find_one({"_id": office_id})
        return int(doc["seq"]) if doc else 0

    async def mark_published(self, office_id: str, seq: int) -> None:
        await self.published.replace_one({"_id": office_id}, {"_id": office_id, "seq": seq}, upsert=True)

    # ------------------------------------------------------------------ owners

    async def claim_partition(self, partition: int, url: str, instance: str) -> None:
        await self.owners.replace_one(
            {"_id": str(partition)}, {"_id": str(partition), "url": url, "instance": instance}, upsert=True
        )

    async def owner_of(self, partition: int) -> Document | None:
        return await self.owners.find_one({"_id": str(partition)})
