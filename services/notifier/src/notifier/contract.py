"""What the notifier consumes, emits and owns, on one screen.

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
from contracts.feedback import FeedbackAlertRaised, FeedbackRequested
from contracts.notifier import NotificationFailed, NotificationSent
from contracts.ticketing import (
    QueueStatus,
    ServiceCompleted,
    SlaBreached,
    SlaBreachPredicted,
    TicketCalled,
    TicketCancelled,
    TicketIssued,
    TicketNoShow,
    TicketTransferred,
)

# the events this service's router handles
CONSUMES = (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentCheckedIn,
    AppointmentFulfilled,
    AppointmentMissed,
    AppointmentRescheduled,
    OfficeConfigured,
    ServicePublished,
    ServiceRetired,
    FeedbackAlertRaised,
    FeedbackRequested,
    QueueStatus,
    ServiceCompleted,
    SlaBreachPredicted,
    SlaBreached,
    TicketCalled,
    TicketCancelled,
    TicketIssued,
    TicketNoShow,
    TicketTransferred,
)

# the events it publishes, through its outbox or its office log
EMITS = (NotificationFailed, NotificationSent)

# the collections of its database (the kit's `_*` ones aside)
OWNS = (
    "boards",
    "catalog_offices",
    "catalog_services",
    "contacts",
    "deliveries",
    "recipient_messages",
    "scheduled",
    "ticket_progress",
    "waiting",
)
