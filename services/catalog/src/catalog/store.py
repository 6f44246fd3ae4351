"""The catalog's collections: offices and services (aggregates with their outbox) and staff accounts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from contracts import Envelope
from contracts.catalog import OfficeConfigured, ServicePublished, ServiceRetired
from pymongo.asynchronous.database import AsyncDatabase
from servicekit.clock import SYSTEM_CLOCK
from servicekit.store import AggregateStore, AlreadyExists, Document, insert_new

R = TypeVar("R")
Decide = Callable[[R], Awaitable[Envelope]]
# Events written in the same commit as the decided one (the change's AuditRecorded): given the
# record as it was before and the decided event.
Also = Callable[[R, Envelope], list[Envelope]]
HISTORY_KEPT = 50  # past versions kept inside the aggregate; enough for any audit of a catalog entry


@dataclass(frozen=True)
class OfficeRecord:
    office: OfficeConfigured
    event: Envelope
    doc: Document

    @property
    def version(self) -> int:
        return self.office.version


@dataclass(frozen=True)
class ServiceRecord:
    service: ServicePublished  # the last published state (kept when retired)
    published_event: Envelope
    retired_event: Envelope | None
    doc: Document

    @property
    def retired(self) -> bool:
        return self.retired_event is not None

    @property
    def version(self) -> int:
        return int(self.doc["version"])

    def state_events(self) -> list[Envelope]:
        """What a new consumer needs to rebuild this service: its last state, then its retirement."""
        return [self.published_event] + ([self.retired_event] if self.retired_event else [])


def _office_record(doc: Document) -> OfficeRecord:
    return OfficeRecord(
        OfficeConfigured.model_validate(doc["data"]), Envelope.model_validate(doc["event"]), doc
    )


def _service_record(doc: Document) -> ServiceRecord:
    retired = doc.get("retired_event")
    return ServiceRecord(
        ServicePublished.model_validate(doc["data"]),
        Envelope.model_validate(doc["published_event"]),
        Envelope.model_validate(retired) if retired else None,
        doc,
    )


def _history_entry(event: Envelope, by: str) -> Document:
    return {
        "version": event.aggregate_version,
        "event_type": event.event_type,
        "event_id": str(event.event_id),
        "at": event.occurred_at.isoformat(),
        "by": by,
        "data": event.data,
    }


def _history(doc: Document | None, event: Envelope, by: str) -> list[Document]:
    previous: list[Document] = list(doc.get("history", [])) if doc else []
    return [*previous, _history_entry(event, by)][-HISTORY_KEPT:]


def _office_state(doc: Document | None, event: Envelope, by: str) -> Document:
    office = OfficeConfigured.model_validate(event.data)
    return {
        "version": office.version,
        "retired": office.retired,
        "data": event.data,
        "event": event.model_dump(mode="json"),
        "history": _history(doc, event, by),
    }


def _service_state(doc: Document | None, event: Envelope, by: str) -> Document:
    if event.event_type == ServiceRetired.EVENT_TYPE:
        return {
            "version": ServiceRetired.model_validate(event.data).version,
            "retired": True,
            "retired_event": event.model_dump(mode="json"),
            "history": _history(doc, event, by),
        }
    service = ServicePublished.model_validate(event.data)
    return {
        "version": service.version,
        "retired": False,
        "letter": service.letter,
        "office_ids": [offering.office_id for offering in service.offerings],
        "data": event.data,
        "published_event": event.model_dump(mode="json"),
        "retired_event": None,
        "history": _history(doc, event, by),
    }


class CatalogStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.offices = AggregateStore(db, "offices")
        self.services = AggregateStore(db, "services")
        # Staff accounts are aggregates: a change and its events (StaffAccessRevoked, AuditRecorded)
        # are one write, the events in the account's outbox.
        self.staff = AggregateStore(db, "staff")
        # The audit log is the projection of the catalog.audit stream (catalog.handlers): every
        # AuditRecorded leaves in the outbox of the change it records, so neither exists without
        # the other. Append-only: entries are inserted by audit_id, never changed.
        self.audit = db["audit"]
        # Settings kept beside the office configuration: the alert recipients (in clear, here only).
        self.office_settings = AggregateStore(db, "office_settings")

    async def ensure_indexes(self) -> None:
        await self.services.collection.create_index("office_ids")
        await self.services.collection.create_index("letter")
        await self.staff.collection.create_index("office_id")
        # Accounts written before staff became aggregates have no revision yet.
        await self.staff.collection.update_many(
            {"rev": {"$exists": False}}, {"$set": {"rev": 1, "outbox": []}}
        )
        await self.audit.create_index([("at", -1)])
        await self.audit.create_index("office_id")

    # ------------------------------------------------------------ offices

    async def office(self, office_id: str) -> OfficeRecord | None:
        doc = await self.offices.get(office_id)
        return _office_record(doc) if doc else None

    async def all_offices(self) -> list[OfficeRecord]:
        records = [_office_record(doc) async for doc in self.offices.collection.find({})]
        return sorted(records, key=lambda record: record.office.office_id)

    async def create_office(self, event: Envelope, *, by: str) -> OfficeRecord:
        """Write a new office from its first OfficeConfigured, the event in the outbox."""
        doc = {"_id": event.aggregate_id, **_office_state(None, event, by)}
        return _office_record(await self.offices.create(doc, [event]))

    async def change_office(
        self, office_id: str, decide: Decide[OfficeRecord], *, by: str, also: Also[OfficeRecord] | None = None
    ) -> OfficeRecord:
        """Load, decide the next OfficeConfigured, write it (with `also`'s events in the same write);
        reloads when another writer came first (the outbox relay also writes the aggregate when it
        clears published events)."""

        async def next_state(doc: Document) -> tuple[Document, list[Envelope]]:
            before = _office_record(doc)
            event = await decide(before)
            return _office_state(doc, event, by), [event, *(also(before, event) if also else [])]

        return _office_record(await self.offices.change(office_id, next_state))

    # ------------------------------------------------------------ services

    async def service(self, service_id: str) -> ServiceRecord | None:
        doc = await self.services.get(service_id)
        return _service_record(doc) if doc else None

    async def all_services(self) -> list[ServiceRecord]:
        records = [_service_record(doc) async for doc in self.services.collection.find({})]
        return sorted(records, key=lambda record: record.service.service_id)

    async def active_services(self) -> list[ServicePublished]:
        return [r.service async for r in self._records({"retired": False})]

    async def active_services_with_letter(self, letter: str) -> list[ServicePublished]:
        return [r.service async for r in self._records({"letter": letter, "retired": False})]

    async def active_services_in(self, office_id: str) -> list[ServicePublished]:
        return [r.service async for r in self._records({"office_ids": office_id, "retired": False})]

    async def _records(self, query: Document) -> Any:
        async for doc in self.services.collection.find(query).sort("_id", 1):
            yield _service_record(doc)

    async def create_service(self, event: Envelope, *, by: str) -> ServiceRecord:
        doc = {"_id": event.aggregate_id, **_service_state(None, event, by)}
        return _service_record(await self.services.create(doc, [event]))

    async def change_service(
        self, service_id: str, decide: Decide[ServiceRecord], *, by: str
    ) -> ServiceRecord:
        """Load, decide the next event (published or retired), write it; reloads on a concurrent write."""

        async def next_state(doc: Document) -> tuple[Document, list[Envelope]]:
            event = await decide(_service_record(doc))
            return _service_state(doc, event, by), [event]

        return _service_record(await self.services.change(service_id, next_state))

    # ------------------------------------------------------------ staff

    async def add_staff(self, account: Document, events: list[Envelope]) -> bool:
        """Insert a staff account with its events; False when the username is taken (_id)."""
        try:
            await self.staff.create({**account, "created_at": SYSTEM_CLOCK.now()}, events)
        except AlreadyExists:
            return False
        return True

    async def staff_account(self, username: str) -> Document | None:
        return await self.staff.get(username)

    async def staff_count(self) -> int:
        return await self.staff.collection.count_documents({})

    async def staff_of(self, office_id: str | None) -> list[Document]:
        """The accounts of one office (None: every account), without their password hashes."""
        query = {} if office_id is None else {"office_id": office_id}
        hidden = {"salt": 0, "password_hash": 0, "hash_scheme": 0, "outbox": 0}
        return [doc async for doc in self.staff.collection.find(query, hidden).sort("_id", 1)]

    async def change_staff(
        self, username: str, decide: Callable[[Document], tuple[Document, list[Envelope]]]
    ) -> Document:
        """Load the account, decide the changed fields and their events, write both at once."""
        return await self.staff.change(username, decide)

    # ------------------------------------------------------------ audit

    async def project_audit(self, entries: list[Document]) -> None:
        """Insert audit entries by audit_id; one already there (a redelivery) stays as it is."""
        await insert_new(self.audit, entries)

    async def audit_entries(self, query: Document, limit: int) -> list[Document]:
        cursor = self.audit.find(query, {"outbox": 0, "rev": 0}).sort("at", -1).limit(limit)
        return [doc async for doc in cursor]

    # ------------------------------------------------------------ office settings

    async def office_settings_of(self, office_id: str) -> Document | None:
        return await self.office_settings.get(office_id)

    async def save_alert_recipients(
        self, office_id: str, recipients: list[str], events: Callable[[Document | None], list[Envelope]]
    ) -> None:
        """The office's alert recipients and the events of the change (the notifier's, the audit's):
        one write, the events in the outbox. `events` gets the settings as they were (None: none)."""
        if await self.office_settings.get(office_id) is None:
            try:
                await self.office_settings.create(
                    {"_id": office_id, "alert_recipients": recipients}, events(None)
                )
                return
            except AlreadyExists:
                pass  # someone created it meanwhile: change it
        await self.office_settings.change(
            office_id, lambda doc: ({"alert_recipients": recipients}, events(doc))
        )
