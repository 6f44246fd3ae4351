"""The supervisor's live SLA feed: SlaBreachPredicted / SlaBreached of an office as they happen, and
"open one more window" suggestions from the office's queue, over Server-Sent Events (staff only).

The feed is one small document per office (`supervision`): the last items and the ids applied. Its only
writer is the consumer of the office's ticket partition (topics are keyed by office), so it is read,
changed and replaced without a claim. Each connected dashboard reads it by `_id` once a second.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pymongo.asynchronous.database import AsyncDatabase
from servicekit.auth import Principal, require, require_office, revoked_since
from servicekit.catalog_view import CatalogView
from servicekit.runtime import from_app_state
from servicekit.store import Document

ITEMS_KEPT = 50
APPLIED_KEPT = 200
POLL_SECONDS = 1.0


class SupervisionFeed:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.docs = db["supervision"]
        # Per office: the alert recipients the catalog's settings screen set, sealed for us.
        self.recipients = db["alert_recipients"]

    async def set_recipients(self, office_id: str, sealed: list[str], at: str) -> None:
        """The newest list wins (a late republish of an older one changes nothing)."""
        current = await self.recipients.find_one({"_id": office_id})
        if current is not None and current["at"] > at:
            return
        await self.recipients.replace_one(
            {"_id": office_id}, {"_id": office_id, "sealed": sealed, "at": at}, upsert=True
        )

    async def sealed_recipients(self, office_id: str) -> list[str] | None:
        """The office's recipients (sealed), or None when the office never set any."""
        doc = await self.recipients.find_one({"_id": office_id})
        return None if doc is None else list(doc["sealed"])

    async def record(self, office_id: str, event_id: str, item: Mapping[str, Any]) -> bool:
        """Adds one SLA item to the office's feed once (a redelivered event changes nothing)."""
        doc = await self.docs.find_one({"_id": office_id})
        if doc is not None and event_id in doc["applied"]:
            return False
        seq = (doc["seq"] if doc else 0) + 1
        new = {
            "_id": office_id,
            "seq": seq,
            "items": [*(doc["items"] if doc else []), {**item, "seq": seq}][-ITEMS_KEPT:],
            "applied": [*(doc["applied"] if doc else []), event_id][-APPLIED_KEPT:],
        }
        await self.docs.replace_one({"_id": office_id}, new, upsert=True)
        return True

    async def feed(self, office_id: str) -> Document:
        return await self.docs.find_one({"_id": office_id}) or {"_id": office_id, "seq": 0, "items": []}


def window_suggestions(services: list[Mapping[str, Any]], sla_minutes: int) -> list[dict[str, Any]]:
    """Services whose estimated wait is over the target, with how many more windows would bring it
    within the target if each window keeps its pace: ceil(open x estimate / target) - open (one when
    none is open)."""
    suggestions = []
    for service in services:
        estimate, open_windows = int(service["estimated_wait_minutes"]), int(service["open_windows"])
        if not service["waiting"] or estimate <= sla_minutes:
            continue
        more = max(1, math.ceil(open_windows * estimate / sla_minutes) - open_windows) if open_windows else 1
        suggestions.append(
            {
                "service_id": service["service_id"],
                "waiting": service["waiting"],
                "estimated_wait_minutes": estimate,
                "open_windows": open_windows,
                "more_windows": more,
            }
        )
    return suggestions


# --------------------------------------------------------------------------- HTTP

router = APIRouter(tags=["supervision"])
Supervisor = Annotated[Principal, require("supervisor")]
Feed = Annotated[SupervisionFeed, Depends(from_app_state("supervision", SupervisionFeed))]
Catalog = Annotated[CatalogView, Depends(from_app_state("catalog", CatalogView))]


def _frame(event: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


async def _suggestions(request: Request, catalog: CatalogView, office_id: str) -> list[dict[str, Any]]:
    office = await catalog.office(office_id)
    board = await request.app.state.store.board(office_id)
    services = (board or {}).get("waiting", {}).get("services", [])
    return window_suggestions(services, office.sla.max_wait_minutes if office else 15)


@router.get(
    "/offices/{office_id}/sla",
    summary="The office's recent SLA forecasts and breaches, and window suggestions (supervisors)",
)
async def sla_now(
    office_id: str, request: Request, who: Supervisor, feed: Feed, catalog: Catalog
) -> dict[str, Any]:
    require_office(who, office_id)
    doc = await feed.feed(office_id)
    return {
        "seq": doc["seq"],
        "items": doc["items"],
        "suggestions": await _suggestions(request, catalog, office_id),
    }


@router.get(
    "/offices/{office_id}/sla/stream",
    summary="Live SLA forecasts, breaches and window suggestions (Server-Sent Events, supervisors)",
    description=(
        "`text/event-stream` with the bearer token in `Authorization`. On connect `event: snapshot` "
        "({items, suggestions}); then `event: sla` per new forecast or breach (`id:` its seq) and "
        "`event: suggestions` when the suggested windows change. `Last-Event-ID` resumes after a seq."
    ),
    response_class=StreamingResponse,
)
async def sla_stream(
    office_id: str, request: Request, who: Supervisor, feed: Feed, catalog: Catalog
) -> StreamingResponse:
    require_office(who, office_id)
    heartbeat = float(request.app.state.settings.sse_heartbeat_seconds)
    resume = request.headers.get("Last-Event-ID", "")
    cursor = int(resume) if resume.isdigit() else None

    async def frames() -> AsyncIterator[str]:
        doc = await feed.feed(office_id)
        suggestions = await _suggestions(request, catalog, office_id)
        if cursor is None:
            yield "retry: 2000\n\n" + _frame(
                "snapshot", {"items": doc["items"], "suggestions": suggestions}, doc["seq"]
            )
            position = int(doc["seq"])
        else:
            position = cursor
            yield "retry: 2000\n\n" + _frame("suggestions", suggestions)
        quiet = 0.0
        while not await request.is_disconnected():
            await asyncio.sleep(POLL_SECONDS)
            if await revoked_since(request, who):
                return  # the supervisor's tokens were ended: the reconnect gets 401
            doc = await feed.feed(office_id)
            lines = [_frame("sla", item, item["seq"]) for item in doc["items"] if item["seq"] > position]
            position = max(position, int(doc["seq"]))
            fresh = await _suggestions(request, catalog, office_id)
            if fresh != suggestions:
                suggestions = fresh
                lines.append(_frame("suggestions", suggestions))
            quiet = 0.0 if lines else quiet + POLL_SECONDS
            if quiet >= heartbeat:
                lines, quiet = [": heartbeat\n\n"], 0.0
            if lines:
                yield "".join(lines)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(frames(), media_type="text/event-stream", headers=headers)
