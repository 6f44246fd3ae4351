"""The notifier's contract: what it consumes, emits and owns (checked by tests/test_service_contracts.py)."""

from __future__ import annotations

from contracts import appointments, catalog, feedback, notifier, ticketing

# the events this service's router handles
CONSUMES = (
    appointments.AppointmentBooked,
    appointments.AppointmentCancelled,
    appointments.AppointmentCheckedIn,
    appointments.AppointmentFulfilled,
    appointments.AppointmentMissed,
    appointments.AppointmentRescheduled,
    catalog.OfficeAlertRecipientsSet,
    catalog.OfficeConfigured,
    catalog.ServicePublished,
    catalog.ServiceRetired,
    catalog.StaffAccessRevoked,
    feedback.FeedbackAlertRaised,
    feedback.FeedbackRequested,
    ticketing.QueueStatus,
    ticketing.ServiceCompleted,
    ticketing.SlaBreachPredicted,
    ticketing.SlaBreached,
    ticketing.TicketCalled,
    ticketing.TicketCancelled,
    ticketing.TicketIssued,
    ticketing.TicketNoShow,
    ticketing.TicketTransferred,
)

# the events it publishes, through its outbox or its office log
EMITS = (notifier.NotificationFailed, notifier.NotificationSent, notifier.NotificationWithheld)

# the collections of its database (the kit's `_*` ones aside)
OWNS = (
    "alert_recipients",
    "boards",
    "catalog_offices",
    "catalog_services",
    "catalog_staff_revocations",
    "contacts",
    "deliveries",
    "parked_links",
    "recipient_messages",
    "scheduled",
    "supervision",
    "ticket_progress",
    "waiting",
)
