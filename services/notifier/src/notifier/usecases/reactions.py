"""What the notifier does on each event: keep the waiting list and contacts, tell citizens and
supervisors. One method per reaction, callable from a test; `handlers.py` maps events to them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from contracts import Envelope, appointments, ticketing
from contracts.calendar import language_of, timezone_of, zone_named
from contracts.catalog import OfficeAlertRecipientsSet
from contracts.feedback import FeedbackAlertRaised, FeedbackRequested
from servicekit.catalog_view import CatalogView
from servicekit.clock import Clock
from servicekit.kafka import NO_PARTITION, Received, partition_of
from servicekit.logging import get_logger
from servicekit.store import Document, gather_bounded

from notifier.board import BoardWriter
from notifier.domain import (
    deferred_reminder,
    display_number,
    is_stale,
    reminder_times,
    tickets_reaching_threshold,
)
from notifier.settings import Settings
from notifier.store import NotifierStore
from notifier.supervision import SupervisionFeed
from notifier.usecases.messages import CitizenMessage, Messenger

log = get_logger("notifier.handlers")


def ticket_key(ticket_id: str) -> str:
    return f"ticket:{ticket_id}"


def appointment_key(appointment_id: str) -> str:
    return f"appointment:{appointment_id}"


class Reactions:
    def __init__(
        self,
        store: NotifierStore,
        board: BoardWriter,
        messenger: Messenger,
        catalog: CatalogView,
        settings: Settings,
        clock: Clock,
        supervision: SupervisionFeed | None = None,
    ) -> None:
        self.supervision = supervision
        self.store = store
        self.board = board
        self.messenger = messenger
        self.catalog = catalog
        self.settings = settings
        self.clock = clock

    async def service_title(self, service_id: str, language: str) -> str:
        service = await self.catalog.service(service_id, include_retired=True)
        return service.title.get(language) if service else service_id

    async def office_name(self, office_id: str, language: str) -> str:
        office = await self.catalog.office(office_id)
        return office.name.get(language) if office else office_id

    def citizen(self, contact: Document, template: str, cause: Envelope, **params: object) -> CitizenMessage:
        return CitizenMessage(
            template=template,
            office_id=cause.office_id,
            language=contact["language"],
            contact_sealed=contact["contact_sealed"],
            cause_event_id=str(cause.event_id),
            correlation_id=cause.correlation_id,
            params=dict(params),
        )

    async def tell_who_moved_up(self, envelope: Envelope, service_id: str) -> None:
        """'You are third in line' to tickets that reached the threshold by the queue moving."""
        threshold = self.settings.position_threshold
        first = await self.store.first_waiting(envelope.office_id, service_id, threshold)
        for ticket, position in tickets_reaching_threshold(first, threshold):
            await self.store.mark_position_notified(ticket.ticket_id)
            contact = await self.store.contact(ticket_key(ticket.ticket_id))
            if contact is None:
                continue
            message = self.citizen(
                contact, "position_reached", envelope, number=contact["number"], position=position
            )
            # Once per ticket, whichever event moved it: the cause is the ticket's issue.
            await self.messenger.send_to_citizen(
                CitizenMessage(**{**message.__dict__, "cause_event_id": contact["issued_event_id"]})
            )

    async def is_replayed(self, envelope: Envelope, ticket_id: str) -> bool:
        """A late duplicate or a replay: applying it would put back or move a ticket that has moved on."""
        if not is_stale(await self.store.progress(ticket_id), envelope.aggregate_version):
            return False
        log.info("stale ticket event skipped", ticket_id=ticket_id, version=envelope.aggregate_version)
        return True

    async def applied(self, envelope: Envelope, ticket_id: str, *, finished: bool = False) -> None:
        # Recorded last: an event redelivered after a crash half-way through is applied again in full.
        await self.store.record_progress(
            ticket_id, envelope.office_id, envelope.aggregate_version, finished=finished, at=self.clock.now()
        )

    async def leave_queue(self, envelope: Envelope, ticket_id: str) -> None:
        removed = await self.store.remove_waiting(ticket_id)
        if removed is not None:
            await self.tell_who_moved_up(envelope, removed["service_id"])

    # --- tickets ---------------------------------------------------------------------------------

    async def ticket_issued(self, envelope: Envelope, data: ticketing.TicketIssued) -> None:
        if await self.is_replayed(envelope, data.ticket_id):
            return  # nor the contact: a finished ticket's one was purged on purpose
        has_contact = data.contact_sealed is not None
        await self.store.add_waiting(
            data.ticket_id,
            {
                "office_id": envelope.office_id,
                "service_id": data.service_id,
                "order": f"{data.issued_at.isoformat()}|{data.number}",
                "initial_position": data.position,
                "has_contact": has_contact,
                "notified": False,
            },
        )
        if data.contact_sealed is not None:
            await self.confirm_ticket(envelope, data, data.contact_sealed)
            parked = await self.store.take_parked_link(data.ticket_id)
            if parked is not None:  # the feedback link came first: the contact is here now
                link = Envelope.model_validate(parked)
                contact = await self.store.contact(ticket_key(data.ticket_id))
                if contact is not None:
                    await self.send_feedback_link(link, FeedbackRequested.model_validate(link.data), contact)
        else:
            self.store.known_without_contact(ticket_key(data.ticket_id))
        await self.applied(envelope, data.ticket_id)

    async def confirm_ticket(
        self, envelope: Envelope, data: ticketing.TicketIssued, contact_sealed: str
    ) -> None:
        contact = {
            "office_id": envelope.office_id,
            "contact_sealed": contact_sealed,
            "token_sealed": data.citizen_token_sealed,
            "language": data.language,
            "number": display_number(data.number),
            "issued_event_id": str(envelope.event_id),
        }
        await self.store.keep_contact(ticket_key(data.ticket_id), contact)
        message = self.citizen(
            contact,
            "ticket_issued",
            envelope,
            number=contact["number"],
            ahead=data.position - 1,
            wait=data.estimated_wait_minutes,
        )
        await self.messenger.send_to_citizen(
            CitizenMessage(
                **{
                    **message.__dict__,
                    "token_sealed": data.citizen_token_sealed,
                    "link_path": self.settings.ticket_link_path,
                }
            )
        )

    async def ticket_called(self, envelope: Envelope, data: ticketing.TicketCalled) -> None:
        if await self.is_replayed(envelope, data.ticket_id):
            return  # an old call does not drop a ticket transferred since
        # The hall's board is written by a consumer of its own (handlers.build_board_router).
        contact = await self.store.contact(ticket_key(data.ticket_id))
        if contact is not None:
            zone = (await self.board.zone_name(envelope.office_id, data.zone_id)).get(
                contact["language"], data.zone_id
            )
            await self.messenger.send_to_citizen(
                self.citizen(
                    contact,
                    "ticket_called",
                    envelope,
                    number=contact["number"],
                    window=data.window_no,
                    zone=zone,
                )
            )
        if await self.store.drop_waiting(data.ticket_id):
            await self.tell_who_moved_up(envelope, data.service_id)
        await self.applied(envelope, data.ticket_id)

    async def ticket_transferred(self, envelope: Envelope, data: ticketing.TicketTransferred) -> None:
        if await self.is_replayed(envelope, data.ticket_id):
            return
        removed = await self.store.remove_waiting(data.ticket_id)
        order = removed["order"] if removed else f"{envelope.occurred_at.isoformat()}|{data.number}"
        await self.store.add_waiting(
            data.ticket_id,
            {
                "office_id": envelope.office_id,
                "service_id": data.to_service_id,
                "order": order,
                "initial_position": self.settings.position_threshold + 1,
                "notified": False,
                "has_contact": await self.store.contact(ticket_key(data.ticket_id)) is not None,
            },
        )
        if removed is not None:
            await self.tell_who_moved_up(envelope, removed["service_id"])
        await self.applied(envelope, data.ticket_id)

    async def ticket_over(
        self, envelope: Envelope, data: ticketing.TicketNoShow | ticketing.TicketCancelled
    ) -> None:
        if await self.is_replayed(envelope, data.ticket_id):
            return
        await self.leave_queue(envelope, data.ticket_id)
        await self.store.purge_contact(ticket_key(data.ticket_id))
        await self.applied(envelope, data.ticket_id, finished=True)

    async def service_completed(self, envelope: Envelope, data: ticketing.ServiceCompleted) -> None:
        if await self.is_replayed(envelope, data.ticket_id):
            return
        if data.next_service_id is not None:
            await self.applied(envelope, data.ticket_id)
            return  # the visit goes on at another service: the contact is still needed
        await self.leave_queue(envelope, data.ticket_id)  # a ticket completed without a call we saw
        # The feedback link follows the end of the visit; the contact goes after a grace period.
        grace = timedelta(minutes=self.settings.contact_grace_minutes)
        await self.store.end_visit(ticket_key(data.ticket_id), self.clock.now() + grace)
        await self.applied(envelope, data.ticket_id, finished=True)

    async def queue_status(self, envelope: Envelope, data: ticketing.QueueStatus) -> None:
        await self.board.show_waiting(envelope, data)
        for queue in data.services:
            await self.tell_who_moved_up(envelope, queue.service_id)

    async def in_one_batch(
        self,
        received: Sequence[Received],
        reactions: Mapping[str, Callable[[Envelope, Any], Awaitable[None]]],
    ) -> None:
        """A poll's ticket events, in order, against the waiting list, progress and contacts held
        in memory; written back in one bulk write per collection at the end (the board's calls
        are another consumer's: `handlers.build_board_router`)."""
        ticket_ids = list(dict.fromkeys(str(item.envelope.data["ticket_id"]) for item in received))
        # A ticket issued in this poll brings its contact with it (or has none): read the stored
        # contacts only of the others (a read the batch still needs is made when it comes).
        issued_here = {
            str(item.envelope.data["ticket_id"])
            for item in received
            if item.envelope.event_type == ticketing.TicketIssued.EVENT_TYPE
        }
        keys = [ticket_key(ticket_id) for ticket_id in ticket_ids if ticket_id not in issued_here]
        # Not read at all: tickets kept from earlier polls, and those first met here by their
        # TicketIssued in a record no earlier owner of the partition read (insert-first: a
        # duplicate sent long after is caught by the progress insert, see NotifierStore).
        first: dict[str, Received] = {}
        for item in received:
            first.setdefault(str(item.envelope.data["ticket_id"]), item)
        kept = self.store.kept
        presumed_new = {
            ticket_id
            for ticket_id, item in first.items()
            if item.envelope.event_type == ticketing.TicketIssued.EVENT_TYPE and kept.first_read_here(item)
        }
        partitions = {
            ticket_id: partition_of(item)
            for ticket_id, item in first.items()
            if partition_of(item) != NO_PARTITION
        }
        offices = {
            item.envelope.office_id: partition_of(item)
            for item in first.values()
            if partition_of(item) != NO_PARTITION
        }
        batch = self.store.batch(
            ticket_ids, keys, presumed_new=presumed_new, partitions=partitions, offices=offices
        )
        async with batch:
            for item in received:
                await reactions[item.envelope.event_type](item.envelope, item.data)

    # --- supervisors -----------------------------------------------------------------------------

    async def alert_recipients_set(self, envelope: Envelope, data: OfficeAlertRecipientsSet) -> None:
        if self.supervision is not None:
            await self.supervision.set_recipients(
                data.office_id, list(data.recipients_sealed), envelope.occurred_at.isoformat()
            )

    async def tell_supervisors_of_sla(
        self, envelope: Envelope, data: ticketing.SlaBreached | ticketing.SlaBreachPredicted
    ) -> None:
        office = await self.catalog.office(envelope.office_id)
        language = language_of(office)
        predicted = getattr(data, "predicted_wait_seconds", 0) // 60
        template = "sla_breached" if isinstance(data, ticketing.SlaBreached) else "sla_breach_predicted"
        if self.supervision is not None:  # the supervisors' live feed, before any e-mail
            await self.supervision.record(
                envelope.office_id,
                str(envelope.event_id),
                {
                    "kind": "breached" if isinstance(data, ticketing.SlaBreached) else "predicted",
                    "at": envelope.occurred_at.isoformat(),
                    "ticket_id": data.ticket_id,
                    "number": display_number(data.number),
                    "service_id": data.service_id,
                    "waited_minutes": data.waited_seconds // 60,
                    "predicted_minutes": predicted,
                    "sla_minutes": data.sla_seconds // 60,
                },
            )
        await self.messenger.send_to_supervisors(
            template,
            envelope.office_id,
            {
                "office": await self.office_name(envelope.office_id, language),
                "number": display_number(data.number),
                "service": await self.service_title(data.service_id, language),
                "waited": data.waited_seconds // 60,
                "predicted": predicted,
                "sla": data.sla_seconds // 60,
            },
            str(envelope.event_id),
            envelope.correlation_id,
        )

    async def feedback_alert_raised(self, envelope: Envelope, data: FeedbackAlertRaised) -> None:
        office = await self.catalog.office(envelope.office_id)
        language = language_of(office)
        zone = zone_named(timezone_of(office))
        timeline = "\n".join(
            f"{e.at.astimezone(zone):%H:%M} {e.what} {e.detail}".rstrip() for e in data.timeline
        )
        await self.messenger.send_to_supervisors(
            "feedback_alert",
            envelope.office_id,
            {
                "office": await self.office_name(envelope.office_id, language),
                "rating": data.rating,
                "ticket": data.ticket_id,
                "service": await self.service_title(data.service_id, language),
                "tags": ", ".join(data.tags) or "—",
                "timeline": timeline,
            },
            str(envelope.event_id),
            envelope.correlation_id,
        )

    # --- feedback link ---------------------------------------------------------------------------

    async def feedback_requested_in_one_batch(self, received: Sequence[Received]) -> None:
        """A poll's feedback links, a few at a time (each is one ticket's: they do not depend on
        each other; the same link twice is one delivery)."""
        await gather_bounded(self.feedback_requested(item.envelope, item.data) for item in received)

    async def feedback_requested(self, envelope: Envelope, data: FeedbackRequested) -> None:
        if data.token_sealed is None:
            return  # feedback saw the ticket issued without a contact: no link, no read, not parked
        if self.store.kept_without_contact(data.ticket_id):
            return  # issued without a contact, or it was purged (known here: no read)
        contact = await self.store.contact(ticket_key(data.ticket_id))
        if contact is None and await self.store.progress(data.ticket_id) is None:
            # Before its ticket: the ticket topic is behind this one (topics are not ordered among
            # each other). Parked; the TicketIssued sends it if it brings a contact. Looked at
            # once more after parking, for a ticket consumer that kept the contact meanwhile (a
            # link sent twice is one delivery: its id comes from this event).
            await self.store.park_link(data.ticket_id, envelope.model_dump(mode="json"), self.clock.now())
            contact = await self.store.contact(ticket_key(data.ticket_id))
        if contact is None:
            return  # no contact was given (or it was purged): nobody to ask
        await self.send_feedback_link(envelope, data, contact)
        await self.store.purge_contact(ticket_key(data.ticket_id))  # its last use

    async def send_feedback_link(
        self, envelope: Envelope, data: FeedbackRequested, contact: Document
    ) -> None:
        message = CitizenMessage(
            template="feedback_link",
            office_id=envelope.office_id,
            language=data.language,
            contact_sealed=contact["contact_sealed"],
            cause_event_id=str(envelope.event_id),
            correlation_id=envelope.correlation_id,
            token_sealed=data.token_sealed,
            link_path=self.settings.feedback_link_path,
        )
        await self.messenger.send_to_citizen(message, expires_at=data.expires_at)

    # --- appointments ----------------------------------------------------------------------------

    async def local_when(self, office_id: str, moment: datetime, pattern: str) -> str:
        return moment.astimezone(zone_named(await self.messenger.timezone(office_id))).strftime(pattern)

    async def confirm_and_remind(
        self,
        envelope: Envelope,
        appointment_id: str,
        service_id: str,
        slot_start: datetime,
        contact: Document,
    ) -> None:
        language = contact["language"]
        params = {
            "service": await self.service_title(service_id, language),
            "office": await self.office_name(envelope.office_id, language),
        }
        base = CitizenMessage(
            template="appointment_booked",
            office_id=envelope.office_id,
            language=language,
            contact_sealed=contact["contact_sealed"],
            cause_event_id=str(envelope.event_id),
            correlation_id=envelope.correlation_id,
            token_sealed=contact.get("token_sealed"),
            link_path=self.settings.appointment_link_path,
            params={
                **params,
                "when": await self.local_when(envelope.office_id, slot_start, "%d.%m.%Y %H:%M"),
            },
        )
        await self.messenger.send_to_citizen(base)
        timezone = await self.messenger.timezone(envelope.office_id)
        for template, due in reminder_times(slot_start, self.clock.now()):
            release = deferred_reminder(due, slot_start, self.messenger.quiet, timezone)
            if release is None:
                continue  # quiet hours would push it past the appointment: the day-before one did the job
            reminder = CitizenMessage(
                **{
                    **base.__dict__,
                    "template": template,
                    "params": {
                        **params,
                        "when": await self.local_when(envelope.office_id, slot_start, "%H:%M"),
                    },
                }
            )
            await self.messenger.schedule(
                reminder, release, owner=appointment_key(appointment_id), expires_at=slot_start
            )

    async def appointment_booked(self, envelope: Envelope, data: appointments.AppointmentBooked) -> None:
        if data.contact_sealed is None:
            return
        contact = {
            "office_id": envelope.office_id,
            "contact_sealed": data.contact_sealed,
            "token_sealed": data.citizen_token_sealed,
            "language": data.language,
        }
        await self.store.keep_contact(appointment_key(data.appointment_id), contact)
        await self.confirm_and_remind(
            envelope, data.appointment_id, data.service_id, data.slot_start, contact
        )

    async def appointment_rescheduled(
        self, envelope: Envelope, data: appointments.AppointmentRescheduled
    ) -> None:
        contact = await self.store.contact(appointment_key(data.appointment_id))
        if contact is None:
            return
        await self.store.unschedule_owner(appointment_key(data.appointment_id))
        await self.confirm_and_remind(
            envelope, data.appointment_id, data.service_id, data.slot_start, contact
        )

    async def appointment_over(
        self,
        envelope: Envelope,
        data: appointments.AppointmentCancelled
        | appointments.AppointmentCheckedIn
        | appointments.AppointmentMissed
        | appointments.AppointmentFulfilled,
    ) -> None:
        await self.store.unschedule_owner(appointment_key(data.appointment_id))
        await self.store.purge_contact(appointment_key(data.appointment_id))
