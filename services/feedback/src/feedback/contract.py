"""What feedback consumes, emits and owns, on one screen.

Checked against the router, the contracts registry and the stores by tests/test_service_contracts.py;
rendered into the README by `make docs`.
"""

from __future__ import annotations

from contracts.catalog import OfficeConfigured, ServicePublished, ServiceRetired
from contracts.feedback import FeedbackAlertRaised, FeedbackAlertResolved, FeedbackGiven, FeedbackRequested
from contracts.portal import OnlineApplicationFiled
from contracts.ticketing import (
    ServiceCompleted,
    ServiceStarted,
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

# the events this service's router handles
CONSUMES = (
    OfficeConfigured,
    ServicePublished,
    ServiceRetired,
    FeedbackGiven,
    OnlineApplicationFiled,
    ServiceCompleted,
    ServiceStarted,
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

# the events it publishes, through its outbox or its office log
EMITS = (FeedbackAlertRaised, FeedbackAlertResolved, FeedbackGiven, FeedbackRequested)

# the collections of its database (the kit's `_*` ones aside)
OWNS = (
    "alerts",
    "catalog_offices",
    "catalog_services",
    "feedback_requests",
    "online_applications",
    "ratings",
    "visits",
    "windows",
)
