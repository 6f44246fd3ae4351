"""The appointments database: bookings (aggregates with outbox) and the claims that keep them unique.

Claims are unique-index inserts, atomic on MongoDB and FerretDB alike (FerretDB's updates are
read-then-write, so nothing here is decided by an update):
- `seats`:  `{office}:{pool}:{cell_utc}:{seat_no}` - one appointment window for one grid cell;
- `codes`:  `{office}:{code}` - a check-in code unique among the office's active bookings;
- `limits`: `{contact_hash}:{service}:{n}` - the n-th future booking a citizen holds of a service;
- `contact_messages`: `{contact_hash}:{day}:{n}` - the n-th message citizens' actions sent to a
  contact that day (never released; the sweeper forgets past days).
A claim is released by deleting its `_id` (and only when it still names the booking that holds it).
A booking is read as a `domain.Booking` and written back as the document `booking_document` makes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields
from datetime import date, datetime
from typing import Any

from contracts import Envelope
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from servicekit.store import AggregateStore, ConcurrentChange, Document

from appointments.domain import Booking, Moves, Slot, new_checkin_code, seat_key

CODE_ATTEMPTS = 20
CHANGE_ATTEMPTS = 8
BOOKING_FIELDS = tuple(f.name for f in fields(Booking))
# A decision on the current booking: (the booking after it, its events), or None to leave it as it is.
Decision = tuple[Booking, Sequence[Envelope]] | None


def booking_document(booking: Booking) -> Document:
    """Every field but `rev` (the aggregate store counts revisions), keyed by `_id`."""
    doc = {name: getattr(booking, name) for name in BOOKING_FIELDS if name != "rev"}
    doc["_id"] = doc.pop("appointment_id")
    doc["local_day"] = booking.local_day.isoformat()
    doc["seat_keys"] = list(booking.seat_keys)
    doc["moves"] = {"day": booking.moves.day, "count": booking.moves.count} if booking.moves else None
    return doc


def booking_from(doc: Mapping[str, Any]) -> Booking:
    values = {name: doc[name] for name in BOOKING_FIELDS if name in doc and name != "appointment_id"}
    values["local_day"] = date.fromisoformat(doc["local_day"])
    values["seat_keys"] = tuple(doc["seat_keys"])
    values["seat_no"] = int(doc["seat_no"])
    values["rev"] = int(doc.get("rev", 0))
    moves = doc.get("moves")
    values["moves"] = Moves(str(moves["day"]), int(moves["count"])) if moves else None
    return Booking(appointment_id=str(doc["_id"]), **values)


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

    async def booking(self, appointment_id: str) -> Booking | None:
        doc = await self.bookings.get(appointment_id)
        return booking_from(doc) if doc else None

    async def create(self, booking: Booking, events: Sequence[Envelope]) -> Booking:
        """Raises servicekit.store.AlreadyExists when a booking with this id is there already."""
        return booking_from(await self.bookings.create(booking_document(booking), events))

    async def change(
        self, appointment_id: str, decide: Callable[[Booking], Decision]
    ) -> tuple[Booking, bool]:
        """Load, decide, commit as the next revision (decided again on a concurrent change).

        Returns (booking, changed); `decide` returning None leaves the booking as it is.
        """
        for attempt in range(CHANGE_ATTEMPTS):
            doc = await self.bookings.load(appointment_id)
            current = booking_from(doc)
            decision = decide(current)
            if decision is None:
                return current, False
            decided, events = decision
            try:
                return booking_from(await self.bookings.commit(doc, booking_document(decided), events)), True
            except ConcurrentChange:
                if attempt == CHANGE_ATTEMPTS - 1:
                    raise
        raise ConcurrentChange(appointment_id)

    async def by_token(self, digest: str) -> Booking | None:
        doc = await self.bookings.collection.find_one({"token_digest": digest})
        return booking_from(doc) if doc else None

    async def _find(self, query: Document) -> list[Booking]:
        return [booking_from(doc) async for doc in self.bookings.collection.find(query)]

    async def with_contact(self, contact_hash: str) -> list[Booking]:
        return await self._find({"contact_hash": contact_hash})

    async def on_day(self, day: date) -> list[Booking]:
        return await self._find({"local_day": day.isoformat()})

    async def forget_contact_claims(self, contact_hash: str) -> int:
        """The per-contact limit and message claims of a contact (their ids start with its hash)."""
        mine = {"_id": {"$regex": f"^{re.escape(contact_hash)}:"}}
        deleted = (await self.limits.delete_many(mine)).deleted_count
        return deleted + (await self.contact_messages.delete_many(mine)).deleted_count

    async def of_office_on(self, office_id: str, day: date) -> list[Booking]:
        return await self._find({"office_id": office_id, "local_day": day.isoformat()})

    async def in_state_on(self, day: date, state: str) -> list[Booking]:
        return await self._find({"local_day": day.isoformat(), "state": state})

    async def in_state_at(self, office_id: str, state: str) -> list[Booking]:
        return await self._find({"office_id": office_id, "state": state})
