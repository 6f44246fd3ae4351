"""The feedback database: request and alert aggregates, the projections built from events, and
the mapping of each domain model to and from its document (the documents as they always were,
a visit's without its empty fields)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from contracts import Envelope
from pymongo import ASCENDING, DESCENDING, DeleteOne, ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase
from servicekit.catalog_view import CatalogView
from servicekit.kafka import PartitionMemory
from servicekit.store import AggregateStore, Document, bulk_write_chunked, gather_bounded, insert_new

from feedback import domain
from feedback.domain import (
    Alert,
    Call,
    Cancellation,
    FeedbackRequest,
    Leg,
    NoShow,
    OnlineApplication,
    Rating,
    SlaBreach,
    Start,
    TicketFact,
    Transfer,
    Visit,
    WindowState,
)

# At most this many open visits kept in memory (about 2 KB each); the least recently used go first.
OPEN_VISITS_KEPT = 5000


# -- a visit and its document (one per ticket, `_id` the ticket id; the fields as in the domain)

Entry = Call | Start | Leg | Transfer | SlaBreach | NoShow | Cancellation
E = TypeVar("E", Call, Start, Leg, Transfer, SlaBreach, NoShow, Cancellation)
_ENTRY_FIELDS: dict[type[Any], tuple[str, ...]] = {
    kind: tuple(f.name for f in fields(kind))
    for kind in (Call, Start, Leg, Transfer, SlaBreach, NoShow, Cancellation)
}


def _entry_document(entry: Entry) -> Document:
    return {name: value for name in _ENTRY_FIELDS[type(entry)] if (value := getattr(entry, name)) is not None}


def _entry_from(kind: type[E], doc: Mapping[str, Any]) -> E:
    values: dict[str, Any] = {name: doc.get(name) for name in _ENTRY_FIELDS[kind]}
    return kind(**values)


# Written only when set: FerretDB's cost of an insert grows with the fields of the document (a
# visit without its empty fields is written ~1.3x faster), and a visit leaves most of them empty.
_VISIT_ENTRIES = ("calls", "starts", "legs", "transfers", "sla_breaches")
_VISIT_OPTIONAL = ("channel", "appointment_id", "priority_category", "issued_at")


def visit_document(visit: Visit) -> Document:
    """The stored shape: entries as sub-documents, the day as ISO text; a field that is None or an
    empty list (and a fact's None field) is left out, as `ticket_token_digest` and `has_contact`
    until known.
    Documents written before with such fields (null, []) read the same (`visit_from`)."""
    doc: Document = {
        "_id": visit.ticket_id,
        "office_id": visit.office_id,
        "local_day": visit.local_day.isoformat(),
        "number": visit.number,
        "service_id": visit.service_id,
        "service_ids": list(visit.service_ids),
    }
    for name in _VISIT_OPTIONAL:
        if (value := getattr(visit, name)) is not None:
            doc[name] = value
    for name in _VISIT_ENTRIES:
        if entries := getattr(visit, name):
            doc[name] = [_entry_document(e) for e in entries]
    if visit.no_show is not None:
        doc["no_show"] = _entry_document(visit.no_show)
    if visit.cancelled is not None:
        doc["cancelled"] = _entry_document(visit.cancelled)
    doc["status"] = visit.status
    if visit.waiting_since is not None:
        doc["waiting_since"] = visit.waiting_since
    doc["status_key"] = list(visit.status_key)
    doc["applied"] = list(visit.applied)
    if visit.ticket_token_digest is not None:
        doc["ticket_token_digest"] = visit.ticket_token_digest
    if visit.has_contact is not None:
        doc["has_contact"] = visit.has_contact
    return doc


def visit_from(doc: Mapping[str, Any]) -> Visit:
    no_show, cancelled = doc.get("no_show"), doc.get("cancelled")
    version, at = doc["status_key"]
    return Visit(
        ticket_id=str(doc["_id"]),
        office_id=doc["office_id"],
        local_day=date.fromisoformat(doc["local_day"]),
        number=doc["number"],
        service_id=doc["service_id"],
        service_ids=tuple(doc["service_ids"]),
        channel=doc.get("channel"),
        appointment_id=doc.get("appointment_id"),
        priority_category=doc.get("priority_category"),
        issued_at=doc.get("issued_at"),
        calls=tuple(_entry_from(Call, e) for e in doc.get("calls", ())),
        starts=tuple(_entry_from(Start, e) for e in doc.get("starts", ())),
        legs=tuple(_entry_from(Leg, e) for e in doc.get("legs", ())),
        transfers=tuple(_entry_from(Transfer, e) for e in doc.get("transfers", ())),
        sla_breaches=tuple(_entry_from(SlaBreach, e) for e in doc.get("sla_breaches", ())),
        no_show=_entry_from(NoShow, no_show) if no_show else None,
        cancelled=_entry_from(Cancellation, cancelled) if cancelled else None,
        status=doc["status"],
        waiting_since=doc.get("waiting_since"),
        status_key=(int(version), at),
        applied=tuple(doc["applied"]),
        ticket_token_digest=doc.get("ticket_token_digest"),
        has_contact=doc.get("has_contact"),  # absent: stored before it was recorded (unknown)
    )


# -- a later event of a stored visit: a fact of its own (`_id` the event id), folded in when read

# A ticket's event stored as a fact: its payload as JSON text (FerretDB writes a document of few
# fields faster), its time native (in milliseconds, as the visit's own entries are stored).


def fact_document(visit: Visit, fact: TicketFact) -> Document:
    """The fact of one event of a stored visit, found by its visit's ticket, office and day."""
    return {
        "_id": fact.event_id,
        "ticket_id": visit.ticket_id,
        "office_id": visit.office_id,
        "local_day": visit.local_day.isoformat(),
        "type": fact.event_type,
        "at": fact.occurred_at,
        "version": fact.aggregate_version,
        "data": json.dumps(fact.data, separators=(",", ":"), default=str),
    }


def fact_from(doc: Mapping[str, Any]) -> TicketFact:
    # `local_day` is the visit's: a fact is only ever folded onto its stored visit, so the day of
    # its own event (which starts a visit that has no TicketIssued) is never needed.
    return TicketFact(
        event_id=str(doc["_id"]),
        event_type=doc["type"],
        occurred_at=doc["at"],
        office_id=doc["office_id"],
        aggregate_version=int(doc["version"]),
        data=json.loads(doc["data"]),
        local_day=date.fromisoformat(doc["local_day"]),
    )


def folded(visit_docs: Sequence[Mapping[str, Any]], fact_docs: Sequence[Mapping[str, Any]]) -> list[Visit]:
    """The visits of these documents with their facts among `fact_docs` (others are ignored: a
    fact of a visit stored on another day, folded in already)."""
    facts: dict[str, list[TicketFact]] = {}
    for doc in fact_docs:
        facts.setdefault(str(doc["ticket_id"]), []).append(fact_from(doc))
    visits = [visit_from(doc) for doc in visit_docs]
    return [domain.fold(v, facts[v.ticket_id]) if v.ticket_id in facts else v for v in visits]


# -- a rating and an application filed online, and their documents (`_id`: ticket, application)


def rating_document(rating: Rating) -> Document:
    return {
        "_id": rating.ticket_id,
        "event_id": rating.event_id,
        "office_id": rating.office_id,
        "request_id": rating.request_id,
        "service_id": rating.service_id,
        "operator_ref": rating.operator_ref,
        "window_no": rating.window_no,
        "rating": rating.rating,
        "tags": list(rating.tags),
        "given_at": rating.given_at,
        "given_day": rating.given_day.isoformat(),
    }


def rating_from(doc: Mapping[str, Any]) -> Rating:
    return Rating(
        ticket_id=str(doc["_id"]),
        event_id=doc["event_id"],
        office_id=doc["office_id"],
        request_id=doc["request_id"],
        service_id=doc["service_id"],
        operator_ref=doc.get("operator_ref"),
        window_no=doc.get("window_no"),
        rating=int(doc["rating"]),
        tags=tuple(doc.get("tags") or ()),
        given_at=doc["given_at"],
        given_day=date.fromisoformat(doc["given_day"]),
    )


def application_document(application: OnlineApplication) -> Document:
    return {
        "_id": application.application_id,
        "office_id": application.office_id,
        "service_id": application.service_id,
        "channel": application.channel,
        "after_office_visit": application.after_office_visit,
        "filed_at": application.filed_at,
        "local_day": application.local_day.isoformat(),
    }


def application_from(doc: Mapping[str, Any]) -> OnlineApplication:
    return OnlineApplication(
        application_id=str(doc["_id"]),
        office_id=doc["office_id"],
        service_id=doc["service_id"],
        channel=doc.get("channel"),
        after_office_visit=bool(doc.get("after_office_visit")),
        filed_at=doc["filed_at"],
        local_day=date.fromisoformat(doc["local_day"]),
    )


# -- a window and its document (`_id`: office id and window number)


def window_document(window: WindowState) -> Document:
    return {
        "_id": f"{window.office_id}:{window.window_no}",
        "office_id": window.office_id,
        "window_no": window.window_no,
        "zone_id": window.zone_id,
        "operator_ref": window.operator_ref,
        "state": window.state,
        "order": list(window.order),
    }


def window_from(doc: Mapping[str, Any]) -> WindowState:
    version, at = doc["order"]
    return WindowState(
        office_id=doc["office_id"],
        window_no=int(doc["window_no"]),
        zone_id=doc["zone_id"],
        operator_ref=doc["operator_ref"],
        state=doc["state"],
        order=(int(version), str(at)),
    )


# -- a feedback request and its document (an aggregate: `rev` and the outbox are the AggregateStore's)

REQUEST_FIELDS = tuple(f.name for f in fields(FeedbackRequest) if f.name not in ("request_id", "rev"))
# Fields a request's document has only once it is answered.
REQUEST_ANSWER_FIELDS = ("rating", "tags", "comment", "answered_at")


def request_document(request: FeedbackRequest) -> Document:
    doc: Document = {"_id": request.request_id}
    for name in REQUEST_FIELDS:
        if name in REQUEST_ANSWER_FIELDS and request.state == "requested":
            continue
        value = getattr(request, name)
        doc[name] = list(value) if name == "tags" else value
    doc["visit_day"] = request.visit_day.isoformat()
    return doc


def request_from(doc: Mapping[str, Any]) -> FeedbackRequest:
    values: dict[str, Any] = {name: doc.get(name) for name in REQUEST_FIELDS}
    values.update(visit_day=date.fromisoformat(doc["visit_day"]), tags=tuple(doc.get("tags") or ()))
    return FeedbackRequest(request_id=str(doc["_id"]), **values, rev=int(doc.get("rev", 0)))


# -- an alert and its document (an aggregate: `rev` and the outbox are the AggregateStore's)

ALERT_FIELDS = tuple(f.name for f in fields(Alert) if f.name != "rev")
# Fields an alert's document has only once they are set (acknowledged, resolved).
ALERT_FIELDS_SET_LATER = {"acknowledged_by", "acknowledged_at", "resolved_by", "resolved_at", "note"}


def alert_document(alert: Alert) -> Document:
    doc: Document = {"_id": alert.alert_id}
    for name in ALERT_FIELDS:
        value = getattr(alert, name)
        if value is None and name in ALERT_FIELDS_SET_LATER:
            continue
        doc[name] = (
            [dict(e) for e in value] if name == "timeline" else list(value) if name == "tags" else value
        )
    return doc


def alert_from(doc: Mapping[str, Any]) -> Alert:
    values: dict[str, Any] = {name: doc.get(name) for name in ALERT_FIELDS}
    values.update(alert_id=str(doc["_id"]), tags=tuple(doc["tags"]), timeline=tuple(doc["timeline"]))
    return Alert(**values, rev=int(doc.get("rev", 0)))


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> Document:
    """The fields of `after` that are new or differ from `before` (what a decision sets)."""
    return {name: value for name, value in after.items() if name not in before or before[name] != value}


M = TypeVar("M")


class TypedAggregates(Generic[M]):
    """An AggregateStore seen through its model: load, and load-decide-commit on the model; only
    the fields a decision changed are committed, so the rest of the document stays as it was."""

    def __init__(
        self,
        aggregates: AggregateStore,
        read: Callable[[Mapping[str, Any]], M],
        write: Callable[[M], Document],
    ) -> None:
        self.aggregates, self.read, self.write = aggregates, read, write

    async def get(self, aggregate_id: str) -> M | None:
        doc = await self.aggregates.get(aggregate_id)
        return self.read(doc) if doc is not None else None

    async def load(self, aggregate_id: str) -> M:
        return self.read(await self.aggregates.load(aggregate_id))

    async def create(self, model: M, events: Sequence[Envelope]) -> None:
        """Raises AlreadyExists when it was created before."""
        await self.aggregates.create(self.write(model), events)

    async def change(self, aggregate_id: str, decide: Callable[[M], tuple[M, Sequence[Envelope]]]) -> M:
        def on_document(current: Document) -> tuple[Document, list[Envelope]]:
            before = self.read(current)
            after, events = decide(before)
            return changed_fields(self.write(before), self.write(after)), list(events)

        return self.read(await self.aggregates.change(aggregate_id, on_document))


class FeedbackStore:
    """Requests and alerts change only through AggregateStore (claimed revisions + outbox).

    The projections (visits, ratings, windows) are plain collections written by the consumer:
    topics are keyed by office, so one partition - one office - has one writer at a time.
    """

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.db = db
        self.requests = AggregateStore(db, "feedback_requests")
        self.alerts = AggregateStore(db, "alerts")
        # The same aggregates as the use cases decide on them: typed, mapped by the functions above.
        self.request_models = TypedAggregates(self.requests, request_from, request_document)
        self.alert_models = TypedAggregates(self.alerts, alert_from, alert_document)
        self.visits = db["visits"]
        # A visit is inserted with the events of the poll that first saw it; each later event of it
        # is inserted as a fact of its own (no replace of the visit), folded in when read, and
        # folded into the visit document once its day is over (`fold_facts_of_day`).
        self.visit_facts = db["visit_facts"]
        self.ratings = db["ratings"]
        self.windows = db["windows"]
        self.online_applications = db["online_applications"]
        # One marker per free text written (a comment, a note), by the day it was written: the
        # retention job reads a few days by equality, never the whole requests collection.
        self.text_markers = db["text_markers"]
        self.catalog = CatalogView(db)
        # The open visits of the partitions this replica's consumer owns, as it last wrote them
        # (dropped when partitions move): a poll reads no visit it wrote itself.
        self.open_visits: PartitionMemory[Visit] = PartitionMemory(OPEN_VISITS_KEPT)

    async def mark_text(self, kind: str, aggregate_id: str, written: date) -> None:
        marker = {"_id": f"{kind}:{aggregate_id}", "kind": kind, "day": written.isoformat()}
        await self.text_markers.replace_one({"_id": marker["_id"]}, marker, upsert=True)

    async def texts_written_on(self, day: date) -> list[Document]:
        return [doc async for doc in self.text_markers.find({"day": day.isoformat()})]

    async def forget_marker(self, marker_id: str) -> None:
        await self.text_markers.delete_one({"_id": marker_id})

    async def ensure_indexes(self) -> None:
        await self.text_markers.create_index([("day", ASCENDING)])
        await self.requests.collection.create_index([("token_digest", ASCENDING)], unique=True)
        await self.requests.collection.create_index([("ticket_token_digest", ASCENDING)])
        await self.requests.collection.create_index([("office_id", ASCENDING), ("window_no", ASCENDING)])
        await self.alerts.collection.create_index([("office_id", ASCENDING), ("state", ASCENDING)])
        await self.visits.create_index([("office_id", ASCENDING), ("local_day", ASCENDING)])
        await self.visit_facts.create_index([("local_day", ASCENDING), ("office_id", ASCENDING)])
        await self.visit_facts.create_index([("ticket_id", ASCENDING)])
        await self.ratings.create_index([("office_id", ASCENDING), ("given_day", ASCENDING)])
        await self.windows.create_index([("office_id", ASCENDING)])
        await self.online_applications.create_index([("office_id", ASCENDING), ("local_day", ASCENDING)])

    # -- requests

    async def request_by_token_digest(self, digest: str) -> FeedbackRequest | None:
        doc = await self.requests.collection.find_one({"token_digest": digest})
        return request_from(doc) if doc is not None else None

    async def request_by_ticket_token_digest(self, digest: str) -> FeedbackRequest | None:
        doc = await self.requests.collection.find_one({"ticket_token_digest": digest})
        return request_from(doc) if doc is not None else None

    async def latest_request_at_window(
        self, office_id: str, window_no: int, since: datetime
    ) -> FeedbackRequest | None:
        doc = await self.requests.collection.find_one(
            {
                "office_id": office_id,
                "window_no": window_no,
                "state": "requested",
                "requested_at": {"$gte": since},
            },
            sort=[("requested_at", DESCENDING)],
        )
        return request_from(doc) if doc is not None else None

    # -- visits

    async def visit(self, ticket_id: str) -> Visit | None:
        """The visit with its facts (two equality reads at once)."""
        doc, facts = await asyncio.gather(
            self.visits.find_one({"_id": ticket_id}),
            self.visit_facts.find({"ticket_id": ticket_id}).to_list(),
        )
        return folded([doc], facts)[0] if doc is not None else None

    async def visits_by_id(self, ticket_ids: list[str]) -> dict[str, Visit]:
        """Reads by _id in parallel: `$in` would be filtered after fetching the whole collection."""
        found = await gather_bounded(self.visit(ticket_id) for ticket_id in ticket_ids)
        return {visit.ticket_id: visit for visit in found if visit is not None}

    async def insert_visits(self, visits: list[Visit]) -> set[str]:
        """Insert visits taken for new, in one insert; the ids that were stored already (taken)."""
        return await insert_new(self.visits, [visit_document(v) for v in visits])

    async def insert_facts(self, facts: list[tuple[Visit, TicketFact]]) -> None:
        """Later events of stored visits (each with its visit as it stands), in one unordered
        insert; a fact stored already (a redelivery) stays as it was."""
        await insert_new(self.visit_facts, [fact_document(visit, fact) for visit, fact in facts])

    async def replace_visits(self, visits: list[Visit]) -> None:
        """Known visits replaced in chunks; the consumer of the office's partition is their only
        writer (used when a visit moves to another office or day, which its facts are found by)."""
        if visits:
            await bulk_write_chunked(
                self.visits,
                [ReplaceOne({"_id": v.ticket_id}, visit_document(v), upsert=True) for v in visits],
            )

    async def visits_on(self, office_id: str, day: date) -> list[Visit]:
        """The day's visits with their facts: two equality reads at once."""
        query = {"office_id": office_id, "local_day": day.isoformat()}
        docs, facts = await asyncio.gather(
            self.visits.find(query).to_list(), self.visit_facts.find(query).to_list()
        )
        return folded(docs, facts)

    async def fold_facts_of_day(self, day: date) -> int:
        """The facts stored for the visits of `day` (every office) folded into their visit
        documents, then deleted; how many were folded. A visit document is replaced only as it
        was read (its `applied`), so a replica folding at the same time cannot lose a fact: one
        not folded stays for the next run, and folding one again changes nothing."""
        facts: dict[str, list[Document]] = {}
        async for doc in self.visit_facts.find({"local_day": day.isoformat()}):
            facts.setdefault(str(doc["ticket_id"]), []).append(doc)

        async def one(ticket_id: str, fact_docs: list[Document]) -> list[Any]:
            doc = await self.visits.find_one({"_id": ticket_id})
            if doc is not None:
                [visit] = folded([doc], fact_docs)
                if len(visit.applied) != len(doc["applied"]):
                    kept = await self.visits.replace_one(
                        {"_id": ticket_id, "applied": doc["applied"]}, visit_document(visit)
                    )
                    if kept.matched_count == 0:
                        return []  # changed meanwhile: folded by the next run
            return [d["_id"] for d in fact_docs]  # folded in now or before (or no visit to fold on)

        done = [i for ids in await gather_bounded(one(t, d) for t, d in facts.items()) for i in ids]
        await bulk_write_chunked(self.visit_facts, [DeleteOne({"_id": i}) for i in done], ordered=False)
        return len(done)

    async def visits_over(self, office_id: str, days: list[date]) -> list[Visit]:
        found: list[Visit] = []
        for day in days:  # one equality query per day (see ratings_given_on)
            found += await self.visits_on(office_id, day)
        return found

    # -- applications filed online (reported by the city portal)

    async def save_online_applications(self, applications: list[OnlineApplication]) -> None:
        """Insert by application id; one the portal sent again is already there and stays as it was."""
        await insert_new(self.online_applications, [application_document(a) for a in applications])

    async def online_applications_over(self, office_id: str, days: list[date]) -> list[OnlineApplication]:
        found: list[OnlineApplication] = []
        for day in days:
            cursor = self.online_applications.find({"office_id": office_id, "local_day": day.isoformat()})
            found += [application_from(doc) async for doc in cursor]
        return found

    # -- ratings

    async def save_rating(self, rating: Rating) -> bool:
        """Upsert by ticket; False when the same event was already applied (a duplicate)."""
        current = await self.ratings.find_one({"_id": rating.ticket_id}, {"event_id": 1})
        if current is not None and current["event_id"] == rating.event_id:
            return False
        await self.ratings.replace_one({"_id": rating.ticket_id}, rating_document(rating), upsert=True)
        return True

    async def ratings_given_on(self, office_id: str, days: list[date]) -> list[Rating]:
        # One equality query per day: FerretDB filters $in after fetching (keep hot queries on equality).
        found: list[Rating] = []
        for day in days:
            found += [
                rating_from(doc)
                async for doc in self.ratings.find({"office_id": office_id, "given_day": day.isoformat()})
            ]
        return found

    # -- windows

    async def window(self, office_id: str, window_no: int) -> WindowState | None:
        doc = await self.windows.find_one({"_id": f"{office_id}:{window_no}"})
        return window_from(doc) if doc is not None else None

    async def save_window(self, window: WindowState) -> None:
        doc = window_document(window)
        await self.windows.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def open_windows(self, office_id: str) -> list[WindowState]:
        return [
            window_from(doc)
            async for doc in self.windows.find({"office_id": office_id})
            if doc["state"] == "open"
        ]

    # -- alerts

    async def alerts_of(self, office_id: str, state: str | None) -> list[Alert]:
        query: dict[str, Any] = {"office_id": office_id}
        if state is not None:
            query["state"] = state
        cursor = self.alerts.collection.find(query, {"outbox": 0}).sort("raised_at", -1).limit(500)
        return [alert_from(doc) async for doc in cursor]
