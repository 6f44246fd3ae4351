"""Ticketing's contract: what it consumes, emits and owns (checked by tests/test_service_contracts.py)."""

from __future__ import annotations

from contracts import appointments, catalog, ticketing

# the events this service's router handles
CONSUMES = (
    appointments.AppointmentCheckedIn,
    catalog.OfficeConfigured,
    catalog.ServicePublished,
    catalog.ServiceRetired,
    catalog.StaffAccessRevoked,
)

# the events it publishes, through its outbox or its office log
EMITS = (
    ticketing.QueueStatus,
    ticketing.ServiceCompleted,
    ticketing.ServiceStarted,
    ticketing.SlaBreachPredicted,
    ticketing.SlaBreached,
    ticketing.TicketCalled,
    ticketing.TicketCancelled,
    ticketing.TicketIssued,
    ticketing.TicketNoShow,
    ticketing.TicketTransferred,
    ticketing.WindowClosed,
    ticketing.WindowOpened,
    ticketing.WindowPaused,
    ticketing.WindowResumed,
)

# the collections of its database (the kit's `_*` ones aside)
OWNS = (
    "catalog_offices",
    "catalog_services",
    "catalog_staff_revocations",
    "office_log",
    "office_owners",
    "office_published",
    "office_snapshots",
    "ticket_tokens",
    "tickets",
    "windows",
)
