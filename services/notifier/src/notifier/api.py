"""HTTP routes of the notifier: the display board snapshot and its Server-Sent Events stream."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from servicekit.catalog_view import CatalogView
from servicekit.runtime import from_app_state
from servicekit.store import Document

from notifier.board import BoardHub
from notifier.domain import changes_since, empty_board, snapshot
from notifier.settings import Settings
from notifier.store import NotifierStore
from notifier.usecases.checklists import ChecklistNotOffered, ChecklistSender, TooManyChecklists

router = APIRouter(tags=["board"])
checklists = APIRouter(tags=["checklists"])

OfficeId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,64}$", examples=["kzn-kirov-moskov"])]


class UnknownBoard(Exception):
    """No such office: neither the catalog nor any call knows it."""


ERRORS: dict[type[Exception], int] = {UnknownBoard: 404, ChecklistNotOffered: 404, TooManyChecklists: 429}

_CALL_EXAMPLE: dict[str, Any] = {
    "ticket_id": "t-7f3a",
    "number": "А-017",
    "window_no": 3,
    "zone_id": "z1",
    "zone_name": {"ru": "Зона 1", "tt": "1 зона", "en": "Zone 1"},
    "service_id": "housing-certificate",
    "call_no": 1,
    "recall": False,
    "called_at": "2025-03-14T09:12:00+00:00",
    "texts": {
        "ru": "Талон А-017 — окно 3",
        "tt": "Талон А-017 — 3 нче тәрәзә",
        "en": "Ticket А-017, window 3",
    },
    "language": "tt",
    "seq": 42,
    "announcement_no": 17,
}


class BoardSnapshot(BaseModel):
    """What a hall screen shows: the last calls (newest first) and the waiting per service."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "office_id": "kzn-kirov-moskov",
                    "seq": 42,
                    "calls": [_CALL_EXAMPLE],
                    "waiting": {
                        "seq": 41,
                        "as_of": "2025-03-14T09:11:58+00:00",
                        "total": 6,
                        "open_windows": 4,
                        "services": [
                            {
                                "service_id": "housing-certificate",
                                "letter": "А",
                                "waiting": 6,
                                "estimated_wait_minutes": 12,
                                "longest_wait_seconds": 540,
                                "open_windows": 2,
                                "title": {
                                    "ru": "Справка о составе семьи",
                                    "tt": "Гаилә составы турында белешмә",
                                    "en": "Certificate of household composition",
                                },
                            }
                        ],
                    },
                    "announcements": 17,
                }
            ]
        }
    )

    office_id: str
    seq: int = Field(ge=0, description="Increases with every board update; the SSE event id")
    calls: list[dict[str, Any]] = Field(description="Last calls, newest first; announce in `seq` order")
    waiting: dict[str, Any]
    announcements: int = Field(ge=0, description="Calls announced so far (a recall counts again)")


Store = Annotated[NotifierStore, Depends(from_app_state("store", NotifierStore))]
Hub = Annotated[BoardHub, Depends(from_app_state("board_hub", BoardHub))]
Catalog = Annotated[CatalogView, Depends(from_app_state("catalog", CatalogView))]


async def current_board(office_id: str, store: NotifierStore, catalog: CatalogView) -> Document:
    board = await store.board(office_id)
    if board is not None:
        return board
    if await catalog.office(office_id) is None:
        raise UnknownBoard(f"no office {office_id!r} is known to the notifier")
    return {**empty_board(office_id), "rev": 0}


@router.get(
    "/boards/{office_id}", summary="The display board of an office, now", response_model=BoardSnapshot
)
async def board_snapshot(office_id: OfficeId, store: Store, catalog: Catalog) -> dict[str, Any]:
    return snapshot(await current_board(office_id, store, catalog))


def sse(event: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


def board_events(board: Document, cursor: int | None) -> tuple[list[str], int]:
    """SSE frames that bring a screen at `cursor` up to `board`, and the new cursor."""
    rev = int(board.get("rev", 0))
    changes = None if cursor is None else changes_since(board, cursor)
    if changes is None:
        return [sse("snapshot", snapshot(board), rev)], rev
    return [sse(name, data, seq) for seq, name, data in changes], max(cursor or 0, rev)


@router.get(
    "/boards/{office_id}/stream",
    summary="Live display board (Server-Sent Events)",
    description=(
        "`text/event-stream`. On connect: `event: snapshot` (the whole board); then `event: call` "
        "(one per announcement, in `seq` order, never repeated) and `event: waiting`; `id:` is the "
        "board `seq`. Reconnect with `Last-Event-ID` (or `?last_event_id=`) to get only newer items. "
        "Comment lines (`: heartbeat`) keep proxies from closing an idle stream."
    ),
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"example": sse("call", _CALL_EXAMPLE, 42)}}}},
)
async def board_stream(
    office_id: OfficeId,
    request: Request,
    store: Store,
    hub: Hub,
    catalog: Catalog,
    last_event_id_header: Annotated[int | None, Header(alias="Last-Event-ID", ge=0)] = None,
    last_event_id: Annotated[int | None, Query(ge=0, examples=[41])] = None,
) -> StreamingResponse:
    settings: Settings = request.app.state.settings
    await current_board(office_id, store, catalog)  # 404 before the stream starts
    cursor = last_event_id_header if last_event_id_header is not None else last_event_id

    async def frames() -> AsyncIterator[str]:
        async with hub.watch(office_id) as watcher:
            # Subscribed first, then read: an update in between reaches the queue, none is lost.
            board = await current_board(office_id, store, catalog)
            lines, position = board_events(board, cursor)
            yield "retry: 2000\n\n" + "".join(lines)
            while not watcher.dropped:
                try:
                    update = await _next(watcher.queue, settings.sse_heartbeat_seconds)
                except TimeoutError:
                    yield ": heartbeat\n\n"
                    continue
                if update is None:
                    return
                if int(update["rev"]) <= position:
                    continue
                lines, position = board_events(update, position)
                if lines:
                    yield "".join(lines)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(frames(), media_type="text/event-stream", headers=headers)


async def _next(queue: asyncio.Queue[Document | None], seconds: float) -> Document | None:
    result: Document | None = await asyncio.wait_for(queue.get(), seconds)
    return result


# --------------------------------------------------------------------------- checklists on request

_CONTACT_NOISE = re.compile(r"[\s()\-]")
_PHONE = re.compile(r"^\+?[0-9]{10,15}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")


class SendChecklist(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "office_id": "kzn-kirov-moskov",
                    "service_id": "housing-certificate",
                    "contact": "+7 917 123-45-67",
                    "language": "ru",
                }
            ]
        }
    )

    office_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    service_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    contact: str = Field(
        max_length=254, description="A phone number or an e-mail address; never stored in clear"
    )
    language: Literal["ru", "tt", "en"] = "ru"

    @field_validator("contact")
    @classmethod
    def _contact(cls, value: str) -> str:
        value = value.strip()
        if "@" in value:
            if not _EMAIL.match(value):
                raise ValueError("an e-mail address looks like name@example.org")
            return value
        digits = _CONTACT_NOISE.sub("", value)
        if not _PHONE.match(digits):
            raise ValueError("a phone number has 10 to 15 digits, optionally with a leading +")
        return digits


class ChecklistSent(BaseModel):
    channel: Literal["sms", "email"] = Field(examples=["sms"])


Checklists = Annotated[ChecklistSender, Depends(from_app_state("checklists", ChecklistSender))]


@checklists.post(
    "/checklists/send",
    summary="Send a service's document checklist to a citizen's phone or e-mail (on their request)",
    description="A few a day per contact (429 beyond); the text links the printable checklist page.",
    status_code=202,
    response_model=ChecklistSent,
)
async def send_checklist(body: SendChecklist, sender: Checklists) -> ChecklistSent:
    channel = await sender.send(body.office_id, body.service_id, body.contact, body.language)
    return ChecklistSent(channel="email" if channel == "email" else "sms")
