"""A service's local copy of the catalog, built only from catalog events (no HTTP to the catalog).

Catalog topics are compacted and keyed by office/service id, so replaying them rebuilds the view;
a lower `version` than the stored one is stale and ignored.
"""

from __future__ import annotations

import time
from typing import Any

from contracts import Envelope
from contracts.catalog import OfficeConfigured, ServicePublished, ServiceRetired
from pymongo.asynchronous.database import AsyncDatabase

from servicekit.kafka import EventRouter
from servicekit.store import Document

CACHE_SECONDS = 5.0


class CatalogView:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.offices = db["catalog_offices"]
        self.services = db["catalog_services"]
        self._cache: dict[tuple[str, str], tuple[float, Any]] = {}

    def subscribe(self, router: EventRouter) -> None:
        router.on(OfficeConfigured)(self._office_configured)
        router.on(ServicePublished)(self._service_published)
        router.on(ServiceRetired)(self._service_retired)

    async def _upsert(self, collection: Any, key: str, version: int, doc: Document) -> bool:
        current = await collection.find_one({"_id": key}, {"version": 1})
        if current is not None and current["version"] >= version:
            return False
        await collection.replace_one({"_id": key}, {"_id": key, "version": version, **doc}, upsert=True)
        self._cache.clear()
        return True

    async def _office_configured(self, _: Envelope, data: OfficeConfigured) -> None:
        await self._upsert(self.offices, data.office_id, data.version, {"data": data.model_dump(mode="json")})

    async def _service_published(self, _: Envelope, data: ServicePublished) -> None:
        await self._upsert(
            self.services,
            data.service_id,
            data.version,
            {
                "retired": False,
                "office_ids": [o.office_id for o in data.offerings],
                "data": data.model_dump(mode="json"),
            },
        )

    async def _service_retired(self, _: Envelope, data: ServiceRetired) -> None:
        current = await self.services.find_one({"_id": data.service_id})
        if current is None or current["version"] >= data.version:
            return
        await self.services.replace_one(
            {"_id": data.service_id}, {**current, "version": data.version, "retired": True}
        )
        self._cache.clear()

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
