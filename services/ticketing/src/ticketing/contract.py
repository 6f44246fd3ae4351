"""What ticketing consumes, emits and owns, on one screen.

Checked against the router, the contracts registry and the stores by tests/test_service_contracts.py;
rendered into the README by `make docs`.
"""

from __future__ import annotations

from contracts.appointments import AppointmentCheckedIn
from contracts.catalog import OfficeConfigured, ServicePublished, ServiceRetired
from contracts.ticketing import (
    QueueStatus,
    ServiceCompleted,
    ServiceStarted,
    SlaBreached,
    SlaBreachPredicted,
    TicketCalled,
    TicketCancelled,
    TicketIssued,
    TicketNoShow,
    TicketTransferred,
    WindowClosed,
    WindowOpened,
    WindowPaused,
    WindowResumed,
)

# the events this service's router handles
CONSUMES = (AppointmentCheckedIn, OfficeConfigured, ServicePublished, ServiceRetired)

# the events it publishes, through its outbox or its office log
EMITS = (
    QueueStatus,
    ServiceCompleted,
    ServiceStarted,
    SlaBreachPredicted,
    SlaBreached,
    TicketCalled,
    TicketCancelled,
    TicketIssued,
    TicketNoShow,
    TicketTransferred,
    WindowClosed,
    WindowOpened,
    WindowPaused,
    WindowResumed,
)

# the collections of its database (the kit's `_*` ones aside)
OWNS = (
    "catalog_offices",
    "catalog_services",
    "office_log",
    "office_owners",
    "office_published",
    "office_snapshots",
    "ticket_tokens",
    "tickets",
    "windows",
)
