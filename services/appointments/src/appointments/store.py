"""The appointments database: bookings (aggregates with outbox) and the claims that keep them unique.

Claims are unique-index inserts, atomic on MongoDB and FerretDB alike (FerretDB's updates are
read-then-write, so nothing here is decided by an update):
- `seats`:  `{office}:{pool}:{cell_utc}:{seat_no}` - one appointment window for one grid cell;
- `codes`:  `{office}:{code}` - a check-in code unique among the office's active bookings;
- `limits`: `{contact_hash}:{service}:{n}` - the n-th future booking a citizen holds of a service;
- `contact_messages`: `{contact_hash}:{day}:{n}` - the n-th message citizens' actions sent to a
  contact that day (never released; the sweeper forgets past days).
A claim is released by deleting its `_id` (and only when it still names the booking that holds it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from servicekit.store import AggregateStore, Document

from appointments.domain import Slot, new_checkin_code, seat_key

CODE_ATTEMPTS = 20


class AppointmentStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.bookings = AggregateStore(db, "bookings")
        self.seats = db["seats"]
        self.codes = db["codes"]
        self.limits = db["limits"]
        # One document per message a citizen's action sends to a contact on a day (unique inserts).
        self.contact_messages = db["contact_messages"]

    async def ensure_indexes(self) -> None:
        bookings = self.bookings.collection
        await bookings.create_index([("token_digest", ASCENDING)], unique=True)
        await bookings.create_index([("office_id", ASCENDING), ("local_day", ASCENDING)])
        await bookings.create_index([("local_day", ASCENDING), ("state", ASCENDING)])
        await bookings.create_index([("office_id", ASCENDING), ("state", ASCENDING)])
        await self.seats.create_index([("office_id", ASCENDING), ("pool", ASCENDING), ("day", ASCENDING)])
        await self.contact_messages.create_index([("day", ASCENDING)])
        await bookings.create_index([("contact_hash", ASCENDING)])

    # --- seats ---------------------------------------------------------------------------------

    async def taken_cells(self, office_id: str, pool: str, day: date) -> set[tuple[datetime, int]]:
        cursor = self.seats.find(
            {"office_id": office_id, "pool": pool, "day": day.isoformat()}, {"cell": 1, "seat": 1}
        )
        return {(doc["cell"], int(doc["seat"])) async for doc in cursor}

    async def claim_seat(
        self, office_id: str, slot: Slot, day: date, appointment_id: str, skip: set[tuple[datetime, int]]
    ) -> tuple[int, list[str]] | None:
        """Claim every cell of the slot on the lowest free seat; None when all seats are taken.

        Cells are claimed in time order, and a partly claimed seat is given back, so two bookings
        that overlap never both hold a seat and never wait on each other.
        """
        for seat in range(slot.capacity):
            if any((cell, seat) in skip for cell in slot.cells):
                continue
            keys = await self._claim_cells(office_id, slot, day, seat, appointment_id)
            if keys is not None:
                return seat, keys
        return None

    async def _claim_cells(
        self, office_id: str, slot: Slot, day: date, seat: int, appointment_id: str
    ) -> list[str] | None:
        claimed: list[str] = []
        for cell in slot.cells:
            key = seat_key(office_id, slot.pool, cell, seat)
            doc = {
                "_id": key,
                "office_id": office_id,
                "pool": slot.pool,
                "day": day.isoformat(),
                "cell": cell,
                "seat": seat,
                "appointment_id": appointment_id,
            }
            try:
                await self.seats.insert_one(doc)
            except DuplicateKeyError:
                await self.release_seats(claimed, appointment_id)
                return None
            claimed.append(key)
        return claimed

    async def release_seats(self, keys: Iterable[str], appointment_id: str) -> None:
        for key in keys:
            await self.seats.delete_one({"_id": key, "appointment_id": appointment_id})

    # --- check-in codes ------------------------------------------------------------------------

    async def claim_code(self, office_id: str, appointment_id: str) -> str:
        for _ in range(CODE_ATTEMPTS):
            code = new_checkin_code()
            try:
                await self.codes.insert_one({"_id": f"{office_id}:{code}", "appointment_id": appointment_id})
            except DuplicateKeyError:
                continue
            return code
        raise RuntimeError(f"no free check-in code after {CODE_ATTEMPTS} attempts")

    async def appointment_for_code(self, office_id: str, code: str) -> str | None:
        doc = await self.codes.find_one({"_id": f"{office_id}:{code}"})
        return str(doc["appointment_id"]) if doc else None

    async def release_code(self, office_id: str, code: str, appointment_id: str) -> None:
        await self.codes.delete_one({"_id": f"{office_id}:{code}", "appointment_id": appointment_id})

    # --- per-citizen limit -------------------------------------------------------------------

    async def claim_limit(
        self, contact_hash: str, service_id: str, appointment_id: str, allowed: int
    ) -> str | None:
        for n in range(allowed):
            key = f"{contact_hash}:{service_id}:{n}"
            try:
                await self.limits.insert_one({"_id": key, "appointment_id": appointment_id})
            except DuplicateKeyError:
                continue
            return key
        return None

    async def release_limit(self, key: str | None, appointment_id: str) -> None:
        if key:
            await self.limits.delete_one({"_id": key, "appointment_id": appointment_id})

    async def claim_contact_message(self, contact_hash: str, day: date, allowed: int) -> bool:
        """One more message to this contact on `day`, if fewer than `allowed` were claimed."""
        for n in range(allowed):
            try:
                await self.contact_messages.insert_one(
                    {"_id": f"{contact_hash}:{day.isoformat()}:{n}", "day": day.isoformat()}
                )
            except DuplicateKeyError:
                continue
            return True
        return False

    async def forget_contact_messages_before(self, day: date) -> None:
        await self.contact_messages.delete_many({"day": {"$lt": day.isoformat()}})

    # --- bookings ----------------------------------------------------------------------------

    async def by_token(self, digest: str) -> Document | None:
        return await self.bookings.collection.find_one({"token_digest": digest})

    async def with_contact(self, contact_hash: str) -> list[Document]:
        return [doc async for doc in self.bookings.collection.find({"contact_hash": contact_hash})]

    async def on_day(self, day: date) -> list[Document]:
        return [doc async for doc in self.bookings.collection.find({"local_day": day.isoformat()})]

    async def forget_contact_claims(self, contact_hash: str) -> int:
        """The per-contact limit and message claims of a contact (their ids start with its hash)."""
        mine = {"_id": {"$regex": f"^{re.escape(contact_hash)}:"}}
        deleted = (await self.limits.delete_many(mine)).deleted_count
        return deleted + (await self.contact_messages.delete_many(mine)).deleted_count

    async def of_office_on(self, office_id: str, day: date) -> list[Document]:
        cursor = self.bookings.collection.find({"office_id": office_id, "local_day": day.isoformat()})
        return [doc async for doc in cursor]

    async def in_state_on(self, day: date, state: str) -> list[Document]:
        cursor = self.bookings.collection.find({"local_day": day.isoformat(), "state": state})
        return [doc async for doc in cursor]

    async def in_state_at(self, office_id: str, state: str) -> list[Document]:
        cursor = self.bookings.collection.find({"office_id": office_id, "state": state})
        return [doc async for doc in cursor]


def public_fields(doc: Document) -> dict[str, Any]:
    """What a supervisor sees of a booking: no name, no contact, no token."""
    return {
        "appointment_id": doc["_id"],
        "code": doc["code"],
        "service_id": doc["service_id"],
        "slot_start": doc["slot_start"],
        "slot_end": doc["slot_end"],
        "state": doc["state"],
        "at_risk": doc.get("at_risk_reason") is not None,
        "at_risk_reason": doc.get("at_risk_reason"),
        "checked_in_at": doc.get("checked_in_at"),
    }
