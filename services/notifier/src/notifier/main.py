"""create_app(settings): the notifier's runtime, stores, consumers, sweepers and board routes."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from servicekit.catalog_view import CatalogView
from servicekit.clock import SYSTEM_CLOCK, Clock
from servicekit.privacy import erasure_router
from servicekit.runtime import ServiceRuntime

from notifier import api
from notifier import nearby as nearby_api
from notifier import supervision as supervision_api
from notifier.board import BoardHub, BoardWriter
from notifier.channels import Channel, build_channels
from notifier.handlers import build_board_router, build_event_router
from notifier.settings import Settings
from notifier.store import NotifierStore
from notifier.supervision import SupervisionFeed
from notifier.usecases.checklists import ChecklistSender
from notifier.usecases.delivery import Dispatcher, Keys
from notifier.usecases.erasure import ContactEraser
from notifier.usecases.messages import Messenger
from notifier.usecases.reactions import Reactions


def create_app(
    settings: Settings, *, clock: Clock | None = None, channels: dict[str, Channel] | None = None
) -> FastAPI:
    clock = clock or SYSTEM_CLOCK
    runtime = ServiceRuntime(settings)
    store = NotifierStore(runtime.db)
    catalog = CatalogView(runtime.db)
    keys = Keys(settings)
    dispatcher = Dispatcher(
        store, settings, channels or build_channels(settings), clock, keys, registry=runtime.registry
    )
    messenger = Messenger(store, dispatcher, catalog, settings, clock, keys)
    board_writer = BoardWriter(store, catalog, settings.board_calls_kept)
    hub = BoardHub(store, settings.board_poll_seconds, settings.sse_client_queue)
    board_writer.committed = hub.committed

    runtime.add_aggregates(store.boards, store.deliveries)
    supervision = SupervisionFeed(runtime.db)
    messenger.recipients_of = supervision.sealed_recipients
    reactions = Reactions(store, board_writer, messenger, catalog, settings, clock, supervision)
    # What this process consumes (NOTIFIER_CONSUMERS): both groups, or one of them when the hall's
    # calls run in a process of their own, so no bulk work of the messages shares their event loop.
    if settings.consumes("messages"):
        runtime.consume(build_event_router(reactions, catalog))
    if settings.consumes("board"):
        # The board's calls in a group of their own, so they never wait behind bulk ticket work. On
        # its first start it takes over where the main group (which wrote the calls before) had
        # committed.
        runtime.consume(
            build_board_router(board_writer),
            group_id=f"{settings.group_id}-board",
            start_from_group=settings.group_id,
        )
    runtime.on_start.append(store.ensure_indexes)
    runtime.on_start.append(dispatcher.start)
    runtime.on_stop.append(hub.close)
    runtime.on_stop.append(dispatcher.stop)
    runtime.every(settings.reminder_sweep_seconds, messenger.send_due)
    runtime.every(settings.delivery_sweep_seconds, dispatcher.sweep)

    async def purge_ended_contacts() -> None:
        await store.purge_ended_contacts(clock.now())

    runtime.every(60.0, purge_ended_contacts)

    async def forget_finished_tickets() -> None:
        await store.forget_finished_tickets(clock.now() - timedelta(days=settings.ticket_memory_days))

    runtime.every(3600.0, forget_finished_tickets)

    async def forget_parked_links() -> None:
        # A link waits only for its ticket's TicketIssued, minutes behind at worst; one still parked
        # after an hour belongs to a ticket issued without a contact (nobody to ask).
        await store.forget_parked_links(clock.now() - timedelta(hours=1))

    runtime.every(600.0, forget_parked_links)

    async def forget_message_counts() -> None:  # days behind every office's local day
        await store.forget_recipient_messages_before((clock.now() - timedelta(days=2)).date().isoformat())

    runtime.every(3600.0, forget_message_counts)

    app = runtime.create_app(
        title="OneWindow notifier",
        description="Display boards (snapshot + Server-Sent Events), messages to citizens and supervisors.",
        routers=[
            api.router,
            api.checklists,
            supervision_api.router,
            nearby_api.router,
            erasure_router(ContactEraser(store, keys).erase),
        ],
        errors=api.ERRORS,
    )
    app.state.store = store
    app.state.supervision = supervision
    app.state.catalog = catalog
    app.state.revocations = catalog  # staff tokens revoked before expiry (servicekit.auth)
    app.state.board_hub = hub
    app.state.dispatcher = dispatcher
    app.state.messenger = messenger
    app.state.checklists = ChecklistSender(store, dispatcher, catalog, settings, clock, keys)
    app.state.clock = clock
    app.state.keys = keys
    return app
