"""The display board: state per office written by the consumer, fanned out to SSE clients by every replica.

Writes: the board is an aggregate (claimed revisions), so the ticket and queue topics, consumed
possibly by different replicas, never lose each other's update; `rev` is the board's `seq`.
Reads: each replica polls the board document by `_id` (equality, one query per office per poll
interval however many screens watch) and hands new revisions to bounded per-client queues. A board
this replica wrote itself reaches its screens at once, without waiting for the next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from contracts import Envelope
from contracts.ticketing import QueueStatus, TicketCalled
from servicekit.catalog_view import CatalogView
from servicekit.logging import get_logger
from servicekit.store import ConcurrentChange, Document

from notifier.domain import announcement, board_with_call, board_with_waiting, display_number, empty_board
from notifier.store import NotifierStore

log = get_logger("notifier.board")
# One event's change to a board: its id (applied once) and what it makes of the board at a seq.
_Decision = tuple[str, Callable[[Document, int], Mapping[str, Any]]]


class BoardWriter:
    def __init__(self, store: NotifierStore, catalog: CatalogView, calls_kept: int) -> None:
        self.store = store
        self.catalog = catalog
        self.calls_kept = calls_kept
        self._known: dict[str, Document] = {}
        # Told of every board this process commits (the hub: its screens need not wait for a poll).
        self.committed: Callable[[Document], None] = lambda board: None
        # Per task (the queue topic's consumer writes the board too, outside any batch).
        self._batch: ContextVar[dict[str, list[_Decision]] | None] = ContextVar("board_batch", default=None)

    async def zone_name(self, office_id: str, zone_id: str) -> dict[str, str]:
        office = await self.catalog.office(office_id)
        zone = next((z for z in office.zones if z.zone_id == zone_id), None) if office else None
        if zone is None:
            return {"ru": zone_id, "tt": zone_id, "en": zone_id}
        return {lang: zone.name.get(lang) for lang in ("ru", "tt", "en")}

    async def announce_call(
        self, envelope: Envelope, data: TicketCalled, position: tuple[str, int] | None = None
    ) -> bool:
        """Put a call on the office's board once. `position` = (partition, offset) of its record:
        the board keeps the offset it has read through per partition, so a record read again (a
        crash before the commit, a partition handed over) is not announced again."""
        call = {
            "ticket_id": data.ticket_id,
            "number": display_number(data.number),
            "window_no": data.window_no,
            "zone_id": data.zone_id,
            "zone_name": await self.zone_name(envelope.office_id, data.zone_id),
            "service_id": data.service_id,
            "call_no": data.call_no,
            "recall": data.call_no > 1,
            "called_at": envelope.occurred_at.isoformat(),
            "texts": announcement(data.number, data.window_no),
            "language": data.language,  # the citizen's: announced after the office's language
        }

        def decide(board: Document, seq: int) -> dict[str, Any]:
            read_through = dict(board.get("read_through") or {})
            if position is not None:
                partition, offset = position
                if read_through.get(partition, -1) >= offset:
                    return {}  # this very record was applied before
                read_through[partition] = offset
            step = board_with_call(board, call, str(envelope.event_id), seq, self.calls_kept)
            return {**step, "read_through": read_through} if position is not None else step

        return await self._change(envelope, decide)

    async def show_waiting(self, envelope: Envelope, data: QueueStatus) -> bool:
        services = []
        for queue in data.services:
            service = await self.catalog.service(queue.service_id, include_retired=True)
            title = {lang: service.title.get(lang) for lang in ("ru", "tt", "en")} if service else None
            services.append(
                {
                    **queue.model_dump(mode="json"),
                    "letter": service.letter if service else None,
                    "title": title,
                }
            )
        waiting = {
            "as_of": data.as_of.isoformat(),
            "total": data.waiting,
            "open_windows": data.open_windows,
            "services": services,
        }

        def decide(board: Document, seq: int) -> dict[str, Any]:
            current = board["waiting"].get("as_of")
            if current is not None and current > waiting["as_of"]:
                return {}  # an older status arrived late: the board keeps the newer one
            return board_with_waiting(board, waiting, str(envelope.event_id), seq)

        return await self._change(envelope, decide)

    @contextlib.asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Changes made inside are kept in memory and written at the end, one commit per office
        (a poll's calls: one board write, not one per call). Nothing is written if the block fails:
        the batch is replayed, and a board never shows what the store does not hold."""
        pending: dict[str, list[_Decision]] = {}
        token = self._batch.set(pending)
        try:
            yield
        finally:
            self._batch.reset(token)
        for office_id, changes in pending.items():
            await self._write(office_id, changes)

    async def _change(self, envelope: Envelope, decide: Callable[[Document, int], Mapping[str, Any]]) -> bool:
        """Apply one event to the office's board once; False when it was applied before (within a
        batch: queued, True)."""
        change = (str(envelope.event_id), decide)
        batch = self._batch.get()
        if batch is not None:
            batch.setdefault(envelope.office_id, []).append(change)
            return True
        return await self._write(envelope.office_id, [change])

    async def _write(self, office_id: str, changes: list[_Decision]) -> bool:
        """Decide the changes in order on the board and commit them as one write; True if any applied.

        The consumer owning the office's partition is normally the only writer, so it works from
        the board it wrote last (no read per event); a failed revision claim means someone else
        wrote in between (the queue topic's consumer), and only then is the board read again and
        every change decided anew.
        """
        board = self._known.get(office_id) or await self.store.board_or_new(office_id, empty_board(office_id))
        for attempt in range(20):
            state: dict[str, Any] = {}
            working, seq, applied = board, int(board["rev"]), 0
            for event_id, decide in changes:
                if event_id in working["applied"]:
                    continue  # redelivered: already shown
                step = decide(working, seq + 1)
                if not step:
                    continue
                state.update(step)
                working = {**working, **step}
                seq += 1
                applied += 1
            if not applied:
                return False
            try:
                written = await self.store.boards.commit(board, state, revisions=applied)
                self._known[office_id] = written
                self.committed(written)
                return True
            except ConcurrentChange:
                self._known.pop(office_id, None)
                await asyncio.sleep(0.005 * attempt)
                board = await self.store.boards.load(office_id)
        raise ConcurrentChange(office_id)


@dataclass(eq=False)
class BoardWatcher:
    """One connected screen: a bounded queue of new board revisions; None ends the stream."""

    queue: asyncio.Queue[Document | None]
    dropped: bool = False


@dataclass(eq=False)
class _OfficeFeed:
    watchers: set[BoardWatcher] = field(default_factory=set)
    task: asyncio.Task[None] | None = None
    rev: int = -1  # the newest revision handed to the watchers (by the poll or a commit here)


class BoardHub:
    def __init__(self, store: NotifierStore, poll_seconds: float, queue_size: int) -> None:
        self.store = store
        self.poll_seconds = poll_seconds
        self.queue_size = queue_size
        self._feeds: dict[str, _OfficeFeed] = {}
        self.polls = 0

    @property
    def feeds(self) -> list[str]:
        """Offices this replica is polling for (only while a screen watches)."""
        return list(self._feeds)

    @property
    def watchers(self) -> int:
        return sum(len(feed.watchers) for feed in self._feeds.values())

    @contextlib.asynccontextmanager
    async def watch(self, office_id: str) -> AsyncIterator[BoardWatcher]:
        watcher = BoardWatcher(asyncio.Queue(maxsize=self.queue_size))
        feed = self._feeds.setdefault(office_id, _OfficeFeed())
        feed.watchers.add(watcher)
        if feed.task is None:
            feed.task = asyncio.create_task(self._poll(office_id, feed), name=f"board-{office_id}")
        try:
            yield watcher
        finally:
            feed.watchers.discard(watcher)
            if not feed.watchers and feed.task is not None:
                # The last screen left: nothing keeps polling for it.
                feed.task.cancel()
                if self._feeds.get(office_id) is feed:
                    del self._feeds[office_id]

    def committed(self, board: Document) -> None:
        """A board this process has just written: to its screens now (the poll would bring it up to
        `poll_seconds` later, after one more read of a store the consumers keep busy)."""
        feed = self._feeds.get(str(board["_id"]))
        if feed is not None:
            self._offer(feed, board)

    def _offer(self, feed: _OfficeFeed, board: Document) -> None:
        # Revisions only grow: a poll that read before a commit here must not hand back the older one.
        if int(board["rev"]) > feed.rev:
            feed.rev = int(board["rev"])
            self._fan_out(feed, board)

    async def _poll(self, office_id: str, feed: _OfficeFeed) -> None:
        while True:
            try:
                board = await self.store.board(office_id)
                self.polls += 1
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("board poll failed", office_id=office_id, error=repr(error))
                board = None
            if board is not None:
                self._offer(feed, board)
            await asyncio.sleep(self.poll_seconds)

    def _fan_out(self, feed: _OfficeFeed, board: Document) -> None:
        for watcher in list(feed.watchers):
            try:
                watcher.queue.put_nowait(board)
            except asyncio.QueueFull:
                # A screen that does not read: drop it (it reconnects with Last-Event-ID).
                watcher.dropped = True
                feed.watchers.discard(watcher)
                log.warning("slow board client dropped")

    async def close(self) -> None:
        for feed in list(self._feeds.values()):
            if feed.task is not None:
                feed.task.cancel()
            for watcher in feed.watchers:
                watcher.dropped = True
                with contextlib.suppress(asyncio.QueueFull):
                    watcher.queue.put_nowait(None)
        self._feeds.clear()
