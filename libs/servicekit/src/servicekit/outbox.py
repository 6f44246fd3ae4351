"""The outbox relay: publishes events written inside aggregates, then clears them.

Delivery is at-least-once: an event is removed from the outbox only after Kafka acknowledged it,
so a crash in between republishes it (same event_id) and consumers deduplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from contracts import Envelope
from prometheus_client import CollectorRegistry, Counter, Gauge

from servicekit.clock import SYSTEM_CLOCK
from servicekit.lifecycle import cancel_within, pause
from servicekit.store import INSTANCE, AggregateStore, Document

log = structlog.get_logger("servicekit.outbox")
# Relays say they are alive here (one small document per process, every HEARTBEAT_SECONDS from a
# task of its own, so a long sweep or relay backlog does not silence it); a writer not heard of
# for ALIVE_SECONDS is taken for dead and its entries are anyone's to publish.
RELAYS = "_relays"
HEARTBEAT_SECONDS = 2.0
ALIVE_SECONDS = 30.0

Publish = Callable[[Envelope], Awaitable[None]]


class OutboxRelay:
    def __init__(
        self,
        stores: list[AggregateStore],
        publish: Publish,
        registry: CollectorRegistry,
        *,
        sweep_seconds: float = 2.0,
    ) -> None:
        self.stores = {store.name: store for store in stores}
        self.publish = publish
        self.sweep_seconds = sweep_seconds
        self._queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._in_flight: set[tuple[str, str]] = set()
        self._dirty: set[tuple[str, str]] = set()
        # Aggregates whose published events still sit in their outbox. Clearing is deferred: an
        # aggregate that changes again soon (a ticket is called, started, completed within
        # minutes) drops them in that change for free; only quiet ones cost a clearing write.
        self._to_clear: dict[tuple[str, str], float] = {}
        # The document each commit wrote, so the relay publishes from it instead of reading it back.
        self._latest: dict[tuple[str, str], Document] = {}
        self.clear_after_seconds = 3.0
        # The sweep is for what a crash left behind: anything younger is the writing replica's to
        # send (and clear, after clear_after_seconds), so a sweep never doubles normal traffic.
        self.sweep_min_age_seconds = 15.0
        self._others_alive: set[str] = set()  # other processes whose relays were heard lately
        self.backlog_counts: dict[str, int] = {}
        self.published_total = Counter(
            "onewindow_outbox_published_total", "Events published from the outbox", registry=registry
        )
        self.sweep_failures = Counter(
            "onewindow_outbox_sweep_failures_total", "Aggregates a sweep could not publish", registry=registry
        )
        self.backlog = Gauge(
            "onewindow_outbox_backlog",
            "Aggregates with unpublished events",
            ["collection"],
            registry=registry,
        )
        for store in stores:
            store.on_commit_doc(self.notify_doc)

    def notify(self, collection: str, aggregate_id: str) -> None:
        self._queue.put_nowait((collection, aggregate_id))

    def notify_doc(self, collection: str, doc: Document) -> None:
        key = (collection, str(doc["_id"]))
        self._latest[key] = doc
        self._queue.put_nowait(key)

    async def start(self, workers: int = 4) -> None:
        self._stopping.clear()
        for store in self.stores.values():
            await store.ensure_indexes()
        with contextlib.suppress(Exception):
            await self.heartbeat()
        self._tasks = [asyncio.create_task(self._work(), name=f"outbox-relay-{i}") for i in range(workers)]
        self._tasks.append(asyncio.create_task(self._sweep_forever(), name="outbox-sweeper"))
        self._tasks.append(asyncio.create_task(self._clear_forever(), name="outbox-clearer"))
        self._tasks.append(asyncio.create_task(self._heartbeat_forever(), name="outbox-heartbeat"))

    async def stop(self) -> None:
        """Flush what is queued, clear what was published, then stop.

        The periodic loops end at the flag, not only at the cancel: a cancel that reached one inside
        a store or Kafka call was once swallowed there, and its loop went back to sleep while this
        waited for it (a catalog stop overran 30 s). What is still running after 5 s is left."""
        self._stopping.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout=10)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.clear_published(everything=True), timeout=10)
        running = await cancel_within(self._tasks, 5)
        if running:
            log.warning("outbox tasks still running at stop", tasks=sorted(t.get_name() for t in running))

    async def _work(self) -> None:
        while True:
            key = await self._queue.get()
            try:
                await self._relay_guarded(key)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the sweeper retries what failed here
                log.warning("outbox relay failed", collection=key[0], aggregate_id=key[1], error=repr(error))
            finally:
                self._queue.task_done()

    async def _relay_guarded(self, key: tuple[str, str], *, min_age_seconds: float = 0.0) -> int:
        """One relay at a time per aggregate, so its events go out once and in order."""
        if key in self._in_flight:
            # Another task is relaying this aggregate: make it look once more when done.
            self._dirty.add(key)
            return 0
        self._in_flight.add(key)
        try:
            sent = await self.relay_one(*key, min_age_seconds=min_age_seconds)
            while key in self._dirty:
                self._dirty.discard(key)
                sent += await self.relay_one(*key)
            return sent
        finally:
            self._in_flight.discard(key)

    async def relay_one(self, collection: str, aggregate_id: str, *, min_age_seconds: float = 0.0) -> int:
        store = self.stores[collection]
        doc = self._latest.pop((collection, aggregate_id), None)
        if doc is None:
            doc = await store.get(aggregate_id)
        if doc is None:
            return 0
        sent = 0
        newest_allowed = SYSTEM_CLOCK.now() - timedelta(seconds=min_age_seconds)
        for entry in doc.get("outbox", []):
            if entry["event_id"] in store.published:
                continue
            if min_age_seconds and entry.get("by") in self._others_alive:
                # Written by another replica that is alive: its relay sends it (it may be behind,
                # under load, by more than the sweep's age limit); sending it here too would make
                # a duplicate. Its entries become anyone's once it stops being heard of.
                return sent
            if min_age_seconds and datetime.fromisoformat(entry["event"]["occurred_at"]) > newest_allowed:
                # Fresh: the relay of the replica that wrote it is sending it right now; a sweep
                # that sent it too would only make a duplicate. The next sweep takes it if it stays
                # (not marked for clearing: this replica has not sent all of it).
                return sent
            await self.publish(Envelope.model_validate(entry["event"]))
            store.published.add(entry["event_id"])
            self.published_total.inc()
            sent += 1
        self._to_clear.setdefault((collection, aggregate_id), time.monotonic())
        return sent

    async def clear_published(self, *, everything: bool = False) -> int:
        """Clear published events out of the outboxes that have waited long enough."""
        now = time.monotonic()
        due = [
            key
            for key, since in self._to_clear.items()
            if everything or now - since >= self.clear_after_seconds
        ]
        by_store: dict[str, list[str]] = {}
        for key in due:
            self._to_clear.pop(key, None)
            if key in self._in_flight:
                continue  # being relayed again: it will be queued for clearing once more
            by_store.setdefault(key[0], []).append(key[1])
        for collection, ids in by_store.items():
            for start in range(0, len(ids), 200):
                await self.stores[collection].drop_published_many(ids[start : start + 200])
        return len(due)

    async def _clear_forever(self) -> None:
        while not await pause(self._stopping, 1.0):
            try:
                await self.clear_published()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("outbox clearing failed", error=repr(error))

    async def sweep(self, min_age_seconds: float | None = None) -> int:
        """Publish whatever a crash or a failed publish left behind.

        One aggregate that cannot be published (its partition unavailable) does not hold up the others.
        """
        min_age = self.sweep_min_age_seconds if min_age_seconds is None else min_age_seconds
        self._others_alive = await self.others_alive()
        sent = 0
        failures = 0
        for name, store in self.stores.items():
            ids = await store.pending_ids()
            self.backlog_counts[name] = len(ids)
            self.backlog.labels(name).set(len(ids))
            for aggregate_id in ids:
                if (name, aggregate_id) in self._to_clear or (name, aggregate_id) in self._in_flight:
                    # This replica relayed it and clears it shortly (the clearing keeps and relays
                    # whatever is still unpublished): reading it here would only find it sent.
                    continue
                try:
                    sent += await self._relay_guarded((name, aggregate_id), min_age_seconds=min_age)
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    failures += 1
                    if failures == 1:
                        log.warning("outbox sweep could not publish", collection=name, error=repr(error))
        if failures:
            self.sweep_failures.inc(failures)
        return sent

    def _relays(self) -> Any:
        return next(iter(self.stores.values())).db[RELAYS] if self.stores else None

    async def heartbeat(self) -> None:
        """Say this process's relay is alive."""
        relays = self._relays()
        if relays is not None:
            now = SYSTEM_CLOCK.now()
            await relays.replace_one({"_id": INSTANCE}, {"_id": INSTANCE, "at": now}, upsert=True)

    async def _heartbeat_forever(self) -> None:
        while not await pause(self._stopping, HEARTBEAT_SECONDS):
            try:
                await self.heartbeat()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("outbox heartbeat failed", error=repr(error))

    async def others_alive(self) -> set[str]:
        """The other processes whose relays were heard of lately (their instance ids)."""
        relays = self._relays()
        if relays is None:
            return set()
        alive_since = SYSTEM_CLOCK.now() - timedelta(seconds=ALIVE_SECONDS)
        heard = {str(doc["_id"]): doc["at"] async for doc in relays.find({})}
        return {
            instance
            for instance, at in heard.items()
            if (at if at.tzinfo else at.replace(tzinfo=UTC)) >= alive_since and instance != INSTANCE
        }

    async def _forget_dead_relays(self) -> None:
        relays = self._relays()
        if relays is not None:
            await relays.delete_many({"at": {"$lt": SYSTEM_CLOCK.now() - timedelta(hours=1)}})

    async def _sweep_forever(self) -> None:
        rounds = 0
        while not await pause(self._stopping, self.sweep_seconds):
            rounds += 1
            try:
                await self.sweep()
                if rounds % 30 == 0:  # claims only matter when a writer died: look rarely
                    for store in self.stores.values():
                        await store.sweep_claims()
                    await self._forget_dead_relays()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("outbox sweep failed", error=repr(error))
