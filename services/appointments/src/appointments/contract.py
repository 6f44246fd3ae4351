"""Appointments's contract: what it consumes, emits and owns (checked by tests/test_service_contracts.py)."""

from __future__ import annotations

from contracts import appointments, catalog, ticketing

# the events this service's router handles
CONSUMES = (
    catalog.OfficeConfigured,
    catalog.ServicePublished,
    catalog.ServiceRetired,
    catalog.StaffAccessRevoked,
    ticketing.ServiceCompleted,
    ticketing.TicketCancelled,
    ticketing.TicketNoShow,
)

# the events it publishes, through its outbox or its office log
EMITS = (
    appointments.AppointmentBooked,
    appointments.AppointmentCancelled,
    appointments.AppointmentCheckedIn,
    appointments.AppointmentFulfilled,
    appointments.AppointmentMissed,
    appointments.AppointmentRescheduled,
)

# the collections of its database (the kit's `_*` ones aside)
OWNS = (
    "bookings",
    "catalog_offices",
    "catalog_services",
    "catalog_staff_revocations",
    "codes",
    "contact_messages",
    "limits",
    "seats",
)
