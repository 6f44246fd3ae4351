"""A service's local copy of the catalog, built only from catalog events (no HTTP to the catalog).

Catalog topics are compacted and keyed by office/service id, so replaying them rebuilds the view;
a lower `version` than the stored one is stale and ignored.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from contracts.catalog import OfficeConfigured, ServicePublished, ServiceRetired, StaffAccessRevoked
from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

from servicekit.kafka import EventRouter, Received
from servicekit.store import Document, bulk_write_chunked

CACHE_SECONDS = 5.0
# A revocation must bite at once: a replica that did not apply the event itself sees it this late.
REVOCATION_CACHE_SECONDS = 1.0
CatalogEvent = OfficeConfigured | ServicePublished | ServiceRetired


class CatalogView:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.offices = db["catalog_offices"]
        self.services = db["catalog_services"]
        # Staff tokens revoked before expiry (StaffAccessRevoked): subject_ref -> latest revoked_at.
        self.revocations = db["catalog_staff_revocations"]
        self._cache: dict[tuple[str, str], tuple[float, Any]] = {}

    def subscribe(self, router: EventRouter) -> None:
        router.on_batch(OfficeConfigured, ServicePublished, ServiceRetired, StaffAccessRevoked)(self.apply)

    async def apply(self, received: Sequence[Received]) -> None:
        """A poll's catalog events in order: one read of the documents they touch and one bulk
        write of what changed, per collection (a catalog republish is thousands of events)."""
        await self._apply_revocations([i.data for i in received if isinstance(i.data, StaffAccessRevoked)])
        events = [item.data for item in received if not isinstance(item.data, StaffAccessRevoked)]
        offices = [data for data in events if isinstance(data, OfficeConfigured)]
        services = [data for data in events if isinstance(data, ServicePublished | ServiceRetired)]
        if await self._apply_to(self.offices, offices) | await self._apply_to(self.services, services):
            self._cache.clear()

    async def _apply_to(self, collection: Any, events: Sequence[CatalogEvent]) -> bool:
        if not events:
            return False
        keys = list(dict.fromkeys(_key(data) for data in events))
        docs: dict[str, Document] = {doc["_id"]: doc async for doc in collection.find({"_id": {"$in": keys}})}
        written: dict[str, Document] = {}
        for data in events:
            new = _next_version(docs.get(_key(data)), data)
            if new is not None:
                docs[_key(data)] = written[_key(data)] = new
        await bulk_write_chunked(
            collection, [ReplaceOne({"_id": key}, doc, upsert=True) for key, doc in written.items()]
        )
        return bool(written)

    async def _apply_revocations(self, events: Sequence[StaffAccessRevoked]) -> None:
        latest: dict[str, datetime] = {}
        for data in events:
            if data.subject_ref not in latest or data.revoked_at > latest[data.subject_ref]:
                latest[data.subject_ref] = data.revoked_at
        if not latest:
            return
        stored = {
            doc["_id"]: doc["revoked_at"]
            async for doc in self.revocations.find({"_id": {"$in": list(latest)}})
        }
        newer = {ref: at for ref, at in latest.items() if ref not in stored or at > stored[ref]}
        await bulk_write_chunked(
            self.revocations,
            [
                ReplaceOne({"_id": ref}, {"_id": ref, "revoked_at": at}, upsert=True)
                for ref, at in newer.items()
            ],
        )
        for ref in newer:
            self._cache.pop(("revoked", ref), None)

    async def revoked_at(self, subject: str, ref: str) -> datetime | None:
        """The staff member's latest revocation (servicekit.auth.Revocations), cached for a second."""
        hit = self._cache.get(("revoked", ref))
        if hit is not None and time.monotonic() - hit[0] < REVOCATION_CACHE_SECONDS:
            result: datetime | None = hit[1]
            return result
        doc = await self.revocations.find_one({"_id": ref})
        value = doc["revoked_at"] if doc else None
        self._cache[("revoked", ref)] = (time.monotonic(), value)
        return value

    async def _cached(self, kind: str, key: str, load: Any) -> Any:
        hit = self._cache.get((kind, key))
        if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        value = await load()
        self._cache[(kind, key)] = (time.monotonic(), value)
        return value

    async def office(self, office_id: str) -> OfficeConfigured | None:
        async def load() -> OfficeConfigured | None:
            doc = await self.offices.find_one({"_id": office_id})
            return OfficeConfigured.model_validate(doc["data"]) if doc else None

        result: OfficeConfigured | None = await self._cached("office", office_id, load)
        return result

    async def service(self, service_id: str, *, include_retired: bool = False) -> ServicePublished | None:
        async def load() -> Document | None:
            return await self.services.find_one({"_id": service_id})

        doc = await self._cached("service", service_id, load)
        if doc is None or (doc["retired"] and not include_retired):
            return None
        return ServicePublished.model_validate(doc["data"])

    async def services_in(self, office_id: str) -> list[ServicePublished]:
        async def load() -> list[ServicePublished]:
            cursor = self.services.find({"office_ids": office_id, "retired": False})
            return [ServicePublished.model_validate(doc["data"]) async for doc in cursor]

        result: list[ServicePublished] = await self._cached("services_in", office_id, load)
        return result

    async def offices_all(self) -> list[OfficeConfigured]:
        return [OfficeConfigured.model_validate(doc["data"]) async for doc in self.offices.find({})]


def _key(data: CatalogEvent) -> str:
    return data.office_id if isinstance(data, OfficeConfigured) else data.service_id


def _next_version(current: Document | None, data: CatalogEvent) -> Document | None:
    """The view's document after the event; None when the event is not newer (stale or replayed)."""
    version = data.version
    if current is not None and current["version"] >= version:
        return None
    if isinstance(data, OfficeConfigured):
        return {"_id": data.office_id, "version": version, "data": data.model_dump(mode="json")}
    if isinstance(data, ServicePublished):
        return {
            "_id": data.service_id,
            "version": version,
            "retired": False,
            "office_ids": [o.office_id for o in data.offerings],
            "data": data.model_dump(mode="json"),
        }
    if current is None:
        return None  # retired before it was ever seen here: nothing to mark
    return {**current, "version": version, "retired": True}
