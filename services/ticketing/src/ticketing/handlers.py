"""What ticketing consumes: the catalog (local view), appointment check-ins, its own completed services."""

from __future__ import annotations

from contracts import Envelope
from contracts.appointments import AppointmentCheckedIn
from contracts.ticketing import ServiceCompleted
from servicekit.catalog_view import CatalogView
from servicekit.kafka import EventRouter

from ticketing.desk import TicketDesk


def build_event_router(catalog: CatalogView, desk: TicketDesk) -> EventRouter:
    router = EventRouter()
    # OfficeConfigured, ServicePublished, ServiceRetired -> the local catalog copy.
    catalog.subscribe(router)

    @router.on(AppointmentCheckedIn)
    async def issue_appointment_ticket(envelope: Envelope, data: AppointmentCheckedIn) -> None:
        # Ticket id derived from the appointment: a redelivered check-in issues nothing new.
        await desk.issue_for_appointment(envelope, data)

    @router.on(ServiceCompleted)
    async def learn_service_time(envelope: Envelope, data: ServiceCompleted) -> None:
        # Topics are keyed by office: one consumer per office writes its rolling service times.
        await desk.learn_service_time(envelope, data)

    return router
