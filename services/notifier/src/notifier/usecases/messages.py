"""Citizen and supervisor messages: rendered per language and office, deferred in quiet hours, scheduled."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from contracts.calendar import is_open, language_of, office_day, timezone_of
from servicekit.catalog_view import CatalogView
from servicekit.clock import Clock
from servicekit.logging import get_logger
from servicekit.sealing import SealingError

from notifier.domain import QuietHours, contact_channel
from notifier.settings import Settings
from notifier.store import NotifierStore
from notifier.templates import URGENT, render
from notifier.usecases.delivery import Dispatcher, Keys, Outgoing

log = get_logger("notifier.messages")


@dataclass(frozen=True)
class CitizenMessage:
    """Everything needed to send one message later: the contact and token stay sealed until then."""

    template: str
    office_id: str
    language: str
    contact_sealed: str
    cause_event_id: str
    correlation_id: str
    params: dict[str, Any] = field(default_factory=dict)
    token_sealed: str | None = None
    link_path: str | None = None  # e.g. "/t/{token}"; the link is built from the opened token


class Messenger:
    def __init__(
        self,
        store: NotifierStore,
        dispatcher: Dispatcher,
        catalog: CatalogView,
        settings: Settings,
        clock: Clock,
        keys: Keys,
    ) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.catalog = catalog
        self.settings = settings
        self.clock = clock
        self.keys = keys
        self.quiet = QuietHours.parse(settings.quiet_hours)
        self.recipients_of: Callable[[str], Awaitable[list[str] | None]] | None = None
        self.night = QuietHours.parse(settings.night_hours)

    async def timezone(self, office_id: str) -> str:
        return timezone_of(await self.catalog.office(office_id))

    async def send_to_citizen(
        self, message: CitizenMessage, *, owner: str | None = None, expires_at: datetime | None = None
    ) -> None:
        """Now, or later: a message that can wait at the end of quiet hours, an urgent SMS at night at
        the end of the night (unless the office is open, so its hall is calling)."""
        release = await self._release_at(message)
        if release is not None:
            await self.schedule(
                message, release, owner=owner or message.cause_event_id, expires_at=expires_at
            )
            log.info("message deferred", template=message.template, until=release.isoformat())
            return
        await self.deliver_to_citizen(message)

    async def _release_at(self, message: CitizenMessage) -> datetime | None:
        now = self.clock.now()
        office = await self.catalog.office(message.office_id)
        timezone = timezone_of(office)
        if message.template not in URGENT:
            release = self.quiet.release_at(now, timezone) if self.quiet is not None else now
        elif self.night is not None and self._is_sms(message):
            release = self.night.release_at(now, timezone)
            if release > now and office is not None and is_open(office, now):
                return None
        else:
            return None
        return release if release > now else None

    def _is_sms(self, message: CitizenMessage) -> bool:
        try:
            return contact_channel(self.keys.open(message.contact_sealed).strip()) == "sms"
        except SealingError:
            return False  # not sendable at all: deliver_to_citizen says so

    async def deliver_to_citizen(self, message: CitizenMessage) -> None:
        try:
            contact = self.keys.open(message.contact_sealed).strip()
            token = self.keys.open(message.token_sealed) if message.token_sealed else None
        except SealingError:
            log.warning("sealed contact cannot be opened, message skipped", template=message.template)
            return
        params = dict(message.params)
        if token and message.link_path:
            params["link"] = self.settings.public_url.rstrip("/") + message.link_path.format(token=token)
        overrides = self.settings.template_overrides.get(message.office_id)
        text = render(message.template, message.language, params, overrides)
        day = office_day(await self.catalog.office(message.office_id), self.clock.now())
        await self.dispatcher.request(
            Outgoing(
                cause_event_id=message.cause_event_id,
                correlation_id=message.correlation_id,
                office_id=message.office_id,
                template=message.template,
                channel=contact_channel(contact),
                address=contact,
                text=text,
            ),
            capped_day=day.isoformat(),
        )

    async def send_to_supervisors(
        self, template: str, office_id: str, params: dict[str, Any], cause_event_id: str, correlation_id: str
    ) -> int:
        # The office's own recipients (set on its settings screen) first; the environment's list
        # only for an office that never set any.
        sealed = await self.recipients_of(office_id) if self.recipients_of is not None else None
        addresses = (
            [self.keys.open(value) for value in sealed]
            if sealed is not None
            else self.settings.supervisor_emails.get(office_id)
            or self.settings.supervisor_emails.get("*")
            or []
        )
        office = await self.catalog.office(office_id)
        language = language_of(office)
        text = render(template, language, params, self.settings.template_overrides.get(office_id))
        for address in addresses:
            await self.dispatcher.request(
                Outgoing(cause_event_id, correlation_id, office_id, template, "email", address, text)
            )
        return len(addresses)

    async def schedule(
        self, message: CitizenMessage, due_at: datetime, *, owner: str, expires_at: datetime | None = None
    ) -> bool:
        return await self.store.schedule(
            {
                "_id": f"{message.cause_event_id}:{message.template}",
                "owner": owner,
                "due_at": due_at,
                "expires_at": expires_at,
                "message": asdict(message),
            }
        )

    async def send_due(self) -> int:
        """The sweeper: send scheduled messages whose time came (reminders, quiet-hours deferrals)."""
        now = self.clock.now()
        sent = 0
        for doc in await self.store.due(now):
            message = CitizenMessage(**doc["message"])
            if doc.get("expires_at") is not None and doc["expires_at"] <= now:
                log.info("scheduled message expired unsent", template=message.template)
            else:
                await self.deliver_to_citizen(message)
                sent += 1
            # After the delivery is claimed: a crash in between re-runs it and the claim dedupes.
            await self.store.unschedule(str(doc["_id"]))
        return sent
