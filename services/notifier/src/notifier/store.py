"""The notifier's collections: contacts, waiting tickets, ticket progress, schedules, boards, deliveries.

Boards and deliveries are aggregates (AggregateStore: claimed revisions, outbox); the other
collections are projections written by the consumer of the office's partition, one writer each.
"""

from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from servicekit.store import AggregateStore, AlreadyExists, Document

from notifier.domain import TicketProgress, WaitingTicket


class NotifierStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db
        self.contacts = db["contacts"]
        self.waiting = db["waiting"]
        self.ticket_progress = db["ticket_progress"]
        self.scheduled = db["scheduled"]
        self.boards = AggregateStore(db, "boards")
        self.deliveries = AggregateStore(db, "deliveries")

    async def ensure_indexes(self) -> None:
        await self.waiting.create_index([("office_id", ASCENDING), ("service_id", ASCENDING)])
        await self.ticket_progress.create_index([("finished", ASCENDING)])
        await self.scheduled.create_index([("status", ASCENDING)])
        await self.scheduled.create_index([("owner", ASCENDING)])
        await self.contacts.create_index([("ended", ASCENDING)])
        await self.deliveries.collection.create_index([("status", ASCENDING)])

    # --- contacts: sealed as they came, opened only when a message is sent -------------------------

    async def keep_contact(self, key: str, doc: Document) -> None:
        await self.contacts.replace_one({"_id": key}, {"_id": key, **doc, "ended": False}, upsert=True)

    async def contact(self, key: str) -> Document | None:
        return await self.contacts.find_one({"_id": key})

    async def end_visit(self, key: str, purge_after: datetime) -> None:
        """Keep the contact a little longer (the feedback link follows the end of a visit)."""
        await self.contacts.update_one({"_id": key}, {"$set": {"ended": True, "purge_after": purge_after}})

    async def purge_contact(self, key: str) -> None:
        await self.contacts.delete_one({"_id": key})

    async def purge_ended_contacts(self, now: datetime) -> int:
        removed = 0
        async for doc in self.contacts.find({"ended": True}, {"purge_after": 1}):
            if doc.get("purge_after") is None or doc["purge_after"] <= now:
                removed += (await self.contacts.delete_one({"_id": doc["_id"]})).deleted_count
        return removed

    # --- the per-office ordered view of waiting tickets ------------------------------------------

    async def add_waiting(self, ticket_id: str, doc: Document) -> None:
        await self.waiting.replace_one({"_id": ticket_id}, {"_id": ticket_id, **doc}, upsert=True)

    async def remove_waiting(self, ticket_id: str) -> Document | None:
        doc = await self.waiting.find_one({"_id": ticket_id})
        if doc is not None:
            await self.waiting.delete_one({"_id": ticket_id})
        return doc

    async def drop_waiting(self, ticket_id: str) -> bool:
        """One round trip when the caller knows the ticket's service (a call carries it)."""
        return (await self.waiting.delete_one({"_id": ticket_id})).deleted_count > 0

    async def waiting_for(self, office_id: str, service_id: str) -> list[WaitingTicket]:
        cursor = self.waiting.find({"office_id": office_id, "service_id": service_id})
        return [
            WaitingTicket(
                ticket_id=str(doc["_id"]),
                order=doc["order"],
                initial_position=int(doc["initial_position"]),
                notified=bool(doc.get("notified")),
                has_contact=bool(doc.get("has_contact")),
            )
            async for doc in cursor
        ]

    async def mark_position_notified(self, ticket_id: str) -> None:
        await self.waiting.update_one({"_id": ticket_id}, {"$set": {"notified": True}})

    # --- how far the waiting list has followed each ticket (guards it against replayed events) -----

    async def progress(self, ticket_id: str) -> TicketProgress | None:
        doc = await self.ticket_progress.find_one({"_id": ticket_id})
        return None if doc is None else TicketProgress(int(doc["version"]), bool(doc["finished"]))

    async def record_progress(
        self, ticket_id: str, office_id: str, version: int, *, finished: bool, at: datetime
    ) -> None:
        doc = {"_id": ticket_id, "office_id": office_id, "version": version, "finished": finished, "at": at}
        await self.ticket_progress.replace_one({"_id": ticket_id}, doc, upsert=True)

    async def forget_finished_tickets(self, before: datetime) -> int:
        """Finished tickets older than any replay worth fearing; open ones stay (they may still move)."""
        removed = 0
        async for doc in self.ticket_progress.find({"finished": True}, {"at": 1}):
            if doc["at"] < before:
                removed += (await self.ticket_progress.delete_one({"_id": doc["_id"]})).deleted_count
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

    async def claim_delivery(self, doc: Document) -> Document | None:
        """The unique insert that makes a delivery happen once; None when it was claimed before."""
        try:
            return await self.deliveries.create(doc)
        except AlreadyExists:
            return None
