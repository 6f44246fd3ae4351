"""What appointments consumes, emits and owns, on one screen.

Checked against the router, the contracts registry and the stores by tests/test_service_contracts.py;
rendered into the README by `make docs`.
"""

from __future__ import annotations

from contracts.appointments import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentCheckedIn,
    AppointmentFulfilled,
    AppointmentMissed,
    AppointmentRescheduled,
)
from contracts.catalog import OfficeConfigured, ServicePublished, ServiceRetired
from contracts.ticketing import ServiceCompleted, TicketCancelled, TicketNoShow

# the events this service's router handles
CONSUMES = (
    OfficeConfigured,
    ServicePublished,
    ServiceRetired,
    ServiceCompleted,
    TicketCancelled,
    TicketNoShow,
)

# the events it publishes, through its outbox or its office log
EMITS = (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentCheckedIn,
    AppointmentFulfilled,
    AppointmentMissed,
    AppointmentRescheduled,
)

# the collections of its database (the kit's `_*` ones aside)
OWNS = ("bookings", "catalog_offices", "catalog_services", "codes", "contact_messages", "limits", "seats")
