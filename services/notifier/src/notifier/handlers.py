"""What the notifier consumes, and which use case each event goes to (one screen)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from contracts import EventData
from contracts.appointments import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentCheckedIn,
    AppointmentFulfilled,
    AppointmentMissed,
    AppointmentRescheduled,
)
from contracts.catalog import OfficeAlertRecipientsSet
from contracts.feedback import FeedbackAlertRaised, FeedbackRequested
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
from servicekit.catalog_view import CatalogView
from servicekit.kafka import EventRouter, Received

from notifier.board import BoardWriter
from notifier.usecases.reactions import Reactions


def build_event_router(reactions: Reactions, catalog: CatalogView) -> EventRouter:
    router = EventRouter()
    catalog.subscribe(router)  # OfficeConfigured, ServicePublished, ServiceRetired -> the local copy

    # The ticket topic is the busy one: a poll's events are applied in one batch, in order.
    ticket_topic: dict[type[EventData], Callable[[Any, Any], Awaitable[None]]] = {
        TicketIssued: reactions.ticket_issued,
        TicketCalled: reactions.ticket_called,
        TicketTransferred: reactions.ticket_transferred,
        TicketNoShow: reactions.ticket_over,
        TicketCancelled: reactions.ticket_over,
        ServiceCompleted: reactions.service_completed,
        SlaBreachPredicted: reactions.tell_supervisors_of_sla,
        SlaBreached: reactions.tell_supervisors_of_sla,
    }
    by_type = {model.EVENT_TYPE: reaction for model, reaction in ticket_topic.items()}

    @router.on_batch(*ticket_topic)
    async def on_ticket_events(received: Sequence[Received]) -> None:
        await reactions.in_one_batch(received, by_type)

    # What the ticket batches keep in memory is for the partitions this replica owns.
    router.on_partitions_moved(reactions.store.kept.forget)
    router.on_partitions_moved(reactions.store.queues.forget)
    router.on_partitions_assigned_at(reactions.store.kept.assigned_at)

    router.on(QueueStatus)(reactions.queue_status)
    router.on(OfficeAlertRecipientsSet)(reactions.alert_recipients_set)  # the office's settings screen
    router.on(FeedbackAlertRaised)(reactions.feedback_alert_raised)
    router.on_batch(FeedbackRequested)(reactions.feedback_requested_in_one_batch)  # a few at a time
    router.on(AppointmentBooked)(reactions.appointment_booked)
    router.on(AppointmentRescheduled)(reactions.appointment_rescheduled)
    for ending in (AppointmentCancelled, AppointmentCheckedIn, AppointmentMissed, AppointmentFulfilled):
        router.on(ending)(reactions.appointment_over)
    return router


def build_board_router(board: BoardWriter) -> EventRouter:
    """The hall's calls, consumed by a group of their own: a call is on the board as soon as its
    record is fetched, never behind a poll of another office's bulk work in the main consumer
    (which reads the same topic for the messages and the waiting list). The other event types
    of the topic are skipped by their header, undecoded, so a poll takes all that is fetched:
    the partition with the calls never waits behind another's fetched records, poll by poll."""
    router = EventRouter(max_records=20_000)

    @router.on_batch(TicketCalled)
    async def on_calls(received: Sequence[Received]) -> None:
        async with board.batch():  # one board write per office per poll
            for item in received:
                record = item.record  # None when handed over by `dispatch`
                # by partition number: one topic, and field names in the store take no dots
                at = None if record is None else (str(record.partition), int(record.offset))
                await board.announce_call(item.envelope, item.data, at)

    return router
