"""Deliveries: claimed once per (cause, channel, template, recipient), sent with bounded retries.

A delivery is an aggregate: its creation is the unique-insert claim (a redelivered event finds it
taken and sends nothing), `sending` is claimed as a revision with a lease (one replica sends), and
the outcome is committed with NotificationSent / NotificationFailed in its outbox.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import zlib
from dataclasses import dataclass
from datetime import date, timedelta

from contracts.notifier import NotificationFailed, NotificationSent, NotificationWithheld
from nacl.public import PrivateKey
from prometheus_client import CollectorRegistry, Counter
from servicekit.clock import Clock
from servicekit.events import Emitter
from servicekit.logging import get_logger
from servicekit.privacy import contact_identity
from servicekit.sealing import Sealer, SealingError, Unsealer, pseudonym
from servicekit.store import ConcurrentChange, Document

from notifier.channels import Channel, DeliveryError
from notifier.domain import delivery_id, notification_id
from notifier.settings import Settings
from notifier.store import NotifierStore

log = get_logger("notifier.delivery")


@dataclass(frozen=True)
class Outgoing:
    cause_event_id: str
    correlation_id: str
    office_id: str
    template: str
    channel: str
    address: str
    text: str


class Keys:
    """The notifier's key pair: opens what others sealed, seals what it keeps at rest."""

    def __init__(self, settings: Settings) -> None:
        private = settings.private_key.get_secret_value()
        self.unsealer = Unsealer(private)
        public = base64.b64encode(bytes(PrivateKey(base64.b64decode(private)).public_key)).decode()
        self.sealer = Sealer(public)
        self.pseudonym_key = settings.pseudonym_key.get_secret_value() or private

    def open(self, sealed: str) -> str:
        return self.unsealer.unseal(sealed)

    def seal(self, value: str) -> str:
        return self.sealer.seal(value)

    def ref(self, address: str) -> str:
        """The recipient's keyed hash: one per citizen however the number or address was typed."""
        return self.ref_of(contact_identity(address))

    def ref_of(self, identity: str) -> str:
        return pseudonym(identity, self.pseudonym_key)


class Dispatcher:
    def __init__(
        self,
        store: NotifierStore,
        settings: Settings,
        channels: dict[str, Channel],
        clock: Clock,
        keys: Keys,
        workers: int = 4,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.withheld = Counter(
            "onewindow_notifications_withheld_total",
            "Citizen messages not sent on purpose (reason: daily_cap), by template and channel",
            ["reason", "template", "channel"],
            registry=registry if registry is not None else CollectorRegistry(),  # tests: one of its own
        )
        self.store = store
        self.settings = settings
        self.channels = channels
        self.clock = clock
        self.emitter = Emitter("notifier", clock)
        self.keys = keys
        self.workers = workers
        # One queue per worker, chosen by recipient: one citizen's messages go out in the order
        # they were asked for ("your ticket" before "you are third"), different citizens' at once.
        self._queues: list[asyncio.Queue[str]] = [asyncio.Queue() for _ in range(max(1, workers))]
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._work(queue), name=f"delivery-{i}")
            for i, queue in enumerate(self._queues)
        ]

    async def stop(self) -> None:
        # Let sends in flight finish (a send cut off mid-way is repeated after its lease lapses,
        # and the citizen would get it twice); what still waits after that goes on at next start.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(queue.join() for queue in self._queues)), timeout=10)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def request(self, message: Outgoing, *, capped_day: str | None = None) -> bool:
        """Claim the delivery and queue it; False when this delivery was claimed before (redelivery).

        With `capped_day` (the office-local day of a citizen message) the message also counts against
        the recipient's daily cap. Past it the message is withheld, not sent later: the delivery is
        recorded as `withheld` with NotificationWithheld (reason `daily_cap`), and counted on
        /metrics (`onewindow_notifications_withheld_total`); False, as for a redelivery.
        """
        recipient_ref = self.keys.ref(message.address)
        key = delivery_id(message.cause_event_id, message.channel, message.template, recipient_ref)
        record = {
            "_id": key,
            "notification_id": notification_id(key),
            "office_id": message.office_id,
            "template": message.template,
            "channel": message.channel,
            "cause_event_id": message.cause_event_id,
            "correlation_id": message.correlation_id,
            "recipient_ref": recipient_ref,
            "created_at": self.clock.now(),
        }
        if capped_day is not None:
            if await self.store.delivery(key) is not None:
                return False  # a redelivered event: counted and claimed the first time
            allowed = self.settings.max_messages_per_recipient_per_day
            if not await self.store.claim_recipient_message(recipient_ref, capped_day, allowed):
                await self._withhold(record, date.fromisoformat(capped_day), allowed)
                return False
        sealed = {
            "address_sealed": self.keys.seal(message.address),
            "text_sealed": self.keys.seal(message.text),
        }
        claimed = await self.store.claim_delivery({**record, **sealed, "status": "pending", "attempts": 0})
        if claimed is None:
            log.info("delivery already claimed", template=message.template, channel=message.channel)
            return False
        self._enqueue(recipient_ref, key)
        return True

    def _enqueue(self, recipient_ref: str, key: str) -> None:
        self._queues[zlib.crc32(recipient_ref.encode()) % len(self._queues)].put_nowait(key)

    async def _withhold(self, record: Document, day: date, allowed: int) -> None:
        """The delivery recorded as withheld (no address, no text) with its reason in the event."""
        claimed = await self.store.claim_delivery({**record, "status": "withheld", "attempts": 0})
        if claimed is None:
            return  # a redelivery raced the first decision: recorded once
        event = NotificationWithheld(**self._payload(claimed), reason="daily_cap", day=day, allowed=allowed)
        await self._finish(claimed, event, {"status": "withheld", "reason": "daily_cap"})
        self.withheld.labels("daily_cap", record["template"], record["channel"]).inc()
        log.warning(
            "daily message cap reached, message withheld",
            template=record["template"],
            channel=record["channel"],
            recipient_ref=record["recipient_ref"],
            allowed=allowed,
        )

    async def sweep(self) -> int:
        """Queue what a crash left behind: pending deliveries and sends whose lease lapsed."""
        found = 0
        now = self.clock.now()
        for status in ("pending", "sending"):
            for doc in await self.store.deliveries_in(status):
                if status == "pending" or doc["lease_until"] <= now:
                    self._enqueue(str(doc.get("recipient_ref", doc["_id"])), str(doc["_id"]))
                    found += 1
        return found

    async def _work(self, queue: asyncio.Queue[str]) -> None:
        while True:
            key = await queue.get()
            try:
                await self.deliver(key)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the sweeper retries it
                log.warning("delivery failed unexpectedly", error=repr(error))
            finally:
                queue.task_done()

    async def deliver(self, key: str) -> None:
        doc = await self.store.delivery(key)
        if doc is None or doc["status"] in ("sent", "failed", "withheld"):
            return
        if doc["status"] == "sending" and doc["lease_until"] > self.clock.now():
            return
        lease = self.clock.now() + timedelta(seconds=self.settings.send_lease_seconds)
        try:
            doc = await self.store.deliveries.commit(doc, {"status": "sending", "lease_until": lease})
        except ConcurrentChange:
            return  # another replica took it
        try:
            address, text = self.keys.open(doc["address_sealed"]), self.keys.open(doc["text_sealed"])
        except SealingError as error:
            await self._finish_failed(doc, doc["attempts"] or 1, f"cannot open the message: {error}")
            return
        await self._send_with_retries(doc, address, text)

    async def _send_with_retries(self, doc: Document, address: str, text: str) -> None:
        channel = self.channels[doc["channel"]]
        attempts = int(doc["attempts"])
        while True:
            attempts += 1
            try:
                await channel.send(address, text)
            except DeliveryError as error:
                if attempts >= self.settings.send_attempts:
                    await self._finish_failed(doc, attempts, str(error))
                    return
                log.warning(
                    "delivery attempt failed", attempt=attempts, channel=doc["channel"], error=str(error)
                )
                # Record the attempt, so a restart does not grant a fresh set of tries.
                doc = await self.store.deliveries.commit(
                    doc, {"attempts": attempts, "last_error": str(error)}
                )
                await asyncio.sleep(self.settings.send_backoff_seconds * 2 ** (attempts - 1))
                continue
            await self._finish_sent(doc, attempts)
            return

    def _payload(self, doc: Document) -> dict[str, str]:
        return {
            "notification_id": doc["notification_id"],
            "channel": doc["channel"],
            "template": doc["template"],
            "cause_event_id": doc["cause_event_id"],
            "recipient_ref": doc["recipient_ref"],
        }

    async def _finish_sent(self, doc: Document, attempts: int) -> None:
        event = NotificationSent(**self._payload(doc), attempts=attempts)
        await self._finish(doc, event, {"status": "sent", "attempts": attempts, "sent_at": self.clock.now()})
        log.info(
            "notification sent",
            template=doc["template"],
            channel=doc["channel"],
            attempts=attempts,
            recipient_ref=doc["recipient_ref"],
        )

    async def _finish_failed(self, doc: Document, attempts: int, error: str) -> None:
        event = NotificationFailed(**self._payload(doc), attempts=attempts, error=error[:500])
        await self._finish(doc, event, {"status": "failed", "attempts": attempts, "last_error": error[:500]})
        log.error(
            "notification failed",
            template=doc["template"],
            channel=doc["channel"],
            attempts=attempts,
            error=error[:300],
            recipient_ref=doc["recipient_ref"],
        )

    async def _finish(
        self,
        doc: Document,
        data: NotificationSent | NotificationFailed | NotificationWithheld,
        state: dict[str, object],
    ) -> None:
        """The delivery's last revision, with its outcome event; address and text erased."""
        event = self.emitter.event(
            data,
            office_id=doc["office_id"],
            aggregate_id=doc["notification_id"],
            aggregate_version=int(doc["rev"]) + 1,
            correlation_id=doc["correlation_id"],
            causation_id=doc["cause_event_id"],
        )
        erased = {"address_sealed": None, "text_sealed": None}
        await self.store.deliveries.commit(doc, {**state, **erased}, [event])
