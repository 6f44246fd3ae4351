"""What the feedback service consumes, and which use case each event goes to (one screen)."""

from __future__ import annotations

from contracts.feedback import FeedbackGiven
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
from servicekit.kafka import EventRouter

from feedback.usecases import Feedback

TICKET_EVENTS = (
    TicketIssued,
    TicketCalled,
    TicketNoShow,
    ServiceStarted,
    ServiceCompleted,
    TicketTransferred,
    TicketCancelled,
    SlaBreached,
)


def build_event_router(feedback: Feedback) -> EventRouter:
    router = EventRouter()
    feedback.store.catalog.subscribe(router)  # OfficeConfigured, ServicePublished, ServiceRetired
    router.on_batch(*TICKET_EVENTS)(feedback.record_ticket_events)  # a poll's events at a time
    router.on_partitions_moved(feedback.store.open_visits.forget)  # what it kept in memory of them
    for window_event in (WindowOpened, WindowPaused, WindowResumed, WindowClosed):
        router.on(window_event)(feedback.record_window)
    router.on(FeedbackGiven)(feedback.record_rating)
    router.on_batch(OnlineApplicationFiled)(feedback.record_online_applications)  # the city portal
    return router
