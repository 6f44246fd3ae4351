"""What the appointments service consumes: the catalog (its local view) and the end of ticketing visits."""

from __future__ import annotations

from contracts import Envelope
from contracts.catalog import OfficeConfigured, ServicePublished, ServiceRetired, StaffAccessRevoked
from contracts.ticketing import ServiceCompleted, TicketCancelled, TicketNoShow
from servicekit.catalog_view import CatalogView
from servicekit.kafka import EventRouter

from appointments.usecases import Appointments


def build_event_router(view: CatalogView, appointments: Appointments) -> EventRouter:
    # The view keeps the catalog copy; after it has applied a change we check the bookings it touches.
    catalog = EventRouter()
    view.subscribe(catalog)
    router = EventRouter()

    @router.on(OfficeConfigured)
    async def on_office_configured(envelope: Envelope, data: OfficeConfigured) -> None:
        await catalog.dispatch(envelope, data)
        await appointments.reassess_office(data.office_id)

    @router.on(ServicePublished)
    async def on_service_published(envelope: Envelope, data: ServicePublished) -> None:
        await catalog.dispatch(envelope, data)
        await appointments.reassess_offices([offering.office_id for offering in data.offerings])

    @router.on(ServiceRetired)
    async def on_service_retired(envelope: Envelope, data: ServiceRetired) -> None:
        before = await view.service(data.service_id, include_retired=True)
        await catalog.dispatch(envelope, data)
        if before is not None:
            await appointments.reassess_offices([offering.office_id for offering in before.offerings])

    @router.on(StaffAccessRevoked)
    async def on_staff_access_revoked(envelope: Envelope, data: StaffAccessRevoked) -> None:
        await catalog.dispatch(envelope, data)  # the view keeps it; servicekit.auth refuses the token

    @router.on(ServiceCompleted)
    async def on_service_completed(envelope: Envelope, data: ServiceCompleted) -> None:
        # A multi-service visit goes on at another window: fulfilled only when the last one is done.
        if data.appointment_id is not None and data.next_service_id is None:
            await appointments.fulfil(envelope, data.appointment_id, data.ticket_id, data.outcome)

    @router.on(TicketNoShow)
    async def on_ticket_no_show(_: Envelope, data: TicketNoShow) -> None:
        if data.appointment_id is not None:
            await appointments.close_after_ticket(data.appointment_id, "missed", "no_show_at_window")

    @router.on(TicketCancelled)
    async def on_ticket_cancelled(_: Envelope, data: TicketCancelled) -> None:
        if data.appointment_id is not None:
            await appointments.close_after_ticket(data.appointment_id, "cancelled", f"ticket_{data.reason}")

    return router
