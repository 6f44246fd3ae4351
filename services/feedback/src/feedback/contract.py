"""Feedback's contract: what it consumes, emits and owns (checked by tests/test_service_contracts.py)."""

from __future__ import annotations

from contracts import catalog, feedback, portal, ticketing

# the events this service's router handles
CONSUMES = (
    catalog.OfficeConfigured,
    catalog.ServicePublished,
    catalog.ServiceRetired,
    catalog.StaffAccessRevoked,
    feedback.FeedbackGiven,
    portal.OnlineApplicationFiled,
    ticketing.ServiceCompleted,
    ticketing.ServiceStarted,
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

# the events it publishes, through its outbox or its office log
EMITS = (
    feedback.FeedbackAlertRaised,
    feedback.FeedbackAlertResolved,
    feedback.FeedbackGiven,
    feedback.FeedbackRequested,
)

# the collections of its database (the kit's `_*` ones aside)
OWNS = (
    "alerts",
    "catalog_offices",
    "catalog_services",
    "catalog_staff_revocations",
    "feedback_requests",
    "online_applications",
    "ratings",
    "text_markers",
    "visit_facts",
    "visits",
    "windows",
)
