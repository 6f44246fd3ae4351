"""A service's document checklist sent to a citizen's phone or e-mail on request (kiosk, reception,
booking page, mobile ticket), with the link to the printable page; a few per contact a day."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from contracts import calendar
from servicekit.catalog_view import CatalogView
from servicekit.clock import Clock
from servicekit.logging import get_logger

from notifier.domain import contact_channel
from notifier.settings import Settings
from notifier.store import NotifierStore
from notifier.templates import render
from notifier.usecases.delivery import Dispatcher, Keys, Outgoing

log = get_logger("notifier.checklists")

TEMPLATE = "checklist"
# An SMS carries the first documents; the printable page behind the link has them all.
ITEMS_IN_TEXT = 4


class ChecklistNotOffered(Exception):
    """No such service in this office."""


class TooManyChecklists(Exception):
    """This contact got its checklists for today already."""


class ChecklistSender:
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

    def printable_link(self, service_id: str, language: str) -> str:
        base = self.settings.public_url.rstrip("/")
        return f"{base}/api/catalog/services/{quote(service_id)}/checklist.html?lang={language}"

    async def send(self, office_id: str, service_id: str, contact: str, language: str) -> str:
        """Queues the message; returns its channel ("sms" or "email")."""
        service = await self.catalog.service(service_id)
        if service is None or not any(o.office_id == office_id for o in service.offerings):
            raise ChecklistNotOffered(f"service {service_id} is not offered in office {office_id}")
        office = await self.catalog.office(office_id)
        now = self.clock.now()
        day = (calendar.local_day(office, now) if office else now.date()).isoformat()
        per_day = self.settings.checklists_per_contact_per_day
        # Its own daily allowance (unique-insert claims, like the general cap below)...
        if not await self.store.claim_recipient_message(f"checklist:{self.keys.ref(contact)}", day, per_day):
            raise TooManyChecklists(
                f"at most {per_day} checklists a day to one contact; it was not sent: ask again tomorrow"
            )
        titles = [item.title.get(language) for item in service.checklist]
        items = "; ".join(titles[:ITEMS_IN_TEXT]) + ("; …" if len(titles) > ITEMS_IN_TEXT else "")
        params = {
            "service": service.title.get(language),
            "items": items or "—",
            "link": self.printable_link(service_id, language),
        }
        text = render(TEMPLATE, language, params, self.settings.template_overrides.get(office_id))
        request_id = str(uuid.uuid4())
        channel = contact_channel(contact)
        # ... and, like every citizen message, the recipient's daily cap.
        if not await self.dispatcher.request(
            Outgoing(request_id, request_id, office_id, TEMPLATE, channel, contact, text), capped_day=day
        ):
            raise TooManyChecklists(
                f"this contact has had all {self.settings.max_messages_per_recipient_per_day} messages "
                "one day allows; it was not sent and will not be sent later: ask again tomorrow"
            )
        log.info("checklist queued", office_id=office_id, service_id=service_id, channel=channel)
        return channel
