"""What ticketing consumes: the catalog (local view) and appointment check-ins (applied by the owner)."""

from __future__ import annotations

import asyncio
import time

from contracts import Envelope
from contracts.appointments import AppointmentCheckedIn
from servicekit.catalog_view import CatalogView
from servicekit.kafka import EventRouter

from ticketing.forwarding import Forwarder
from ticketing.owner import NotOwner, OfficeUnavailable
from ticketing.usecases import TicketDesk

# How long a check-in waits for its office to get an owner (a handover) before it is retried by
# the kit and, failing that, dead-lettered.
OWNER_WAIT_SECONDS = 60.0


def build_event_router(catalog: CatalogView, desk: TicketDesk, forwarder: Forwarder) -> EventRouter:
    router = EventRouter()
    # OfficeConfigured, ServicePublished, ServiceRetired, StaffAccessRevoked -> the local catalog copy.
    catalog.subscribe(router)

    @router.on(AppointmentCheckedIn)
    async def issue_appointment_ticket(envelope: Envelope, data: AppointmentCheckedIn) -> None:
        # Issued by the office's owner (here or forwarded), once: the ticket id is derived from the
        # appointment, so a redelivered check-in issues nothing and burns no number.
        deadline = time.monotonic() + OWNER_WAIT_SECONDS
        while True:
            try:
                try:
                    await desk.issue_for_appointment(envelope, data)
                except NotOwner:
                    await forwarder.check_in(envelope.office_id, envelope)
                return
            except OfficeUnavailable:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)

    return router
