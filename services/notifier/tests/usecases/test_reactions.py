"""The notifier's reactions on in-memory stand-ins (servicekit.fakes): no broker, no store process.

Events go through the real routers (`handlers.build_event_router` to `Reactions`, and
`build_board_router` for the hall's calls); deliveries are
claimed in the real store on `memory_db()` and queued, not sent (the dispatcher is not started)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, cast

import pytest
from contracts import Envelope, decode, encode, new_event
from contracts.feedback import FeedbackRequested
from contracts.samples import sample_office, sample_service
from contracts.ticketing import TicketCalled
from notifier.board import BoardHub, BoardWriter
from notifier.channels import Channel
from notifier.handlers import build_board_router, build_event_router
from notifier.settings import Settings
from notifier.store import NotifierStore
from notifier.usecases.delivery import Dispatcher, Keys
from notifier.usecases.messages import Messenger
from notifier.usecases.reactions import Reactions
from servicekit.catalog_view import CatalogView
from servicekit.clock import ManualClock
from servicekit.fakes import feed, memory_db
from servicekit.kafka import EventRouter, Received
from servicekit.sealing import Sealer, generate_keypair, new_citizen_token
from servicekit.testing import eventually

from ..integration.test_notifier_on_real_kafka import OFFICE, PHONE, called, issued


class Unused(Channel):
    async def send(self, address: str, text: str) -> None:
        raise AssertionError("the fast tier sends nothing")


class Routers:
    """The notifier's two consumers (messages and waiting list; the hall's board) as one."""

    def __init__(self, *routers: EventRouter) -> None:
        self.routers = routers

    async def dispatch(self, envelope: Envelope, data: Any) -> bool:
        return any([await router.dispatch(envelope, data) for router in self.routers])


@pytest.fixture
async def notifier() -> tuple[Routers, NotifierStore, Sealer]:
    public, private = generate_keypair()
    db = memory_db()
    store, catalog = NotifierStore(db), CatalogView(db)
    await store.ensure_indexes()
    await feed(catalog, sample_office(OFFICE, all_day=True), sample_service(office_id=OFFICE))
    settings = Settings.model_validate({"private_key": private, "quiet_hours": "", "night_hours": ""})
    clock = ManualClock(datetime.now(UTC))
    keys = Keys(settings)
    dispatcher = Dispatcher(store, settings, {"sms": Unused(), "email": Unused()}, clock, keys)
    messenger = Messenger(store, dispatcher, catalog, settings, clock, keys)
    board = BoardWriter(store, catalog, settings.board_calls_kept)
    reactions = Reactions(store, board, messenger, catalog, settings, clock)
    return Routers(build_event_router(reactions, catalog), build_board_router(board)), store, Sealer(public)


async def deliver(router: Routers, *envelopes: Envelope) -> None:
    for envelope in envelopes:
        assert await router.dispatch(envelope, decode(encode(envelope))[1]), envelope.event_type


async def templates(store: NotifierStore) -> list[str]:
    return sorted(doc["template"] for doc in await store.deliveries.collection.find({}).to_list())


async def test_a_ticket_with_a_contact_is_confirmed_once_and_the_call_is_announced(
    notifier: tuple[Routers, NotifierStore, Sealer],
) -> None:
    router, store, sealer = notifier
    ticket = issued("t-uc-1", "А017", sealer)
    await deliver(router, ticket, ticket)  # redelivered: claimed once
    assert await templates(store) == ["ticket_issued"]

    await deliver(router, called("t-uc-1", "А017", window=3))
    assert await templates(store) == ["ticket_called", "ticket_issued"]
    board: Any = await store.boards.get(OFFICE)
    assert (
        board is not None and board["calls"][0]["number"] == "А-017" and board["calls"][0]["window_no"] == 3
    )


async def test_moving_up_to_the_threshold_is_told_once_and_a_stale_event_changes_nothing(
    notifier: tuple[Routers, NotifierStore, Sealer],
) -> None:
    router, store, sealer = notifier
    first = issued("t-uc-2", "А001", sealer, contact=None)
    others = [issued(f"t-uc-{n}", f"А00{n}", sealer, position=n - 1, contact=PHONE) for n in range(3, 7)]
    await deliver(router, first, *others)
    await deliver(router, called("t-uc-2", "А001"))
    position_told = [t for t in await templates(store) if t == "position_reached"]
    assert position_told, await templates(store)
    await deliver(router, called("t-uc-2", "А001"))  # the same call again: nobody moves
    assert [t for t in await templates(store) if t == "position_reached"] == position_told
    await deliver(router, first)  # a replayed issue of a ticket already called
    assert await store.waiting.find_one({"_id": "t-uc-2"}) is None


async def test_the_board_consumer_announces_a_record_read_again_once() -> None:
    """A crash before the board group's commit, or a partition handed over, reads records again:
    the board keeps the offset it read through per partition, and a replayed record adds nothing."""
    db = memory_db()
    store, catalog = NotifierStore(db), CatalogView(db)
    await store.ensure_indexes()
    await feed(catalog, sample_office(OFFICE, all_day=True), sample_service(office_id=OFFICE))
    route = build_board_router(BoardWriter(store, catalog, calls_kept=20)).route(TicketCalled.EVENT_TYPE)
    assert route is not None and route.batch is not None

    def at(offset: int, envelope: Envelope) -> Received:
        record = SimpleNamespace(topic="ticketing.ticket", partition=1, offset=offset)
        return Received(envelope, decode(encode(envelope))[1], cast(Any, record))

    first, second = called("t-b-1", "А001"), called("t-b-2", "А002", window=2)
    await route.batch([at(5, first), at(6, second)])
    await route.batch([at(5, first), at(6, second)])  # the same records again
    board: Any = await store.boards.get(OFFICE)
    assert board["announcements"] == 2 and [c["number"] for c in board["calls"]] == ["А-002", "А-001"]

    await route.batch([at(7, called("t-b-1", "А001", call_no=2))])  # a recall is a new record
    board = await store.boards.get(OFFICE)
    assert board["announcements"] == 3 and board["calls"][0]["recall"] is True


async def test_a_board_written_in_this_process_reaches_its_screens_without_waiting_for_a_poll() -> None:
    db = memory_db()
    store, catalog = NotifierStore(db), CatalogView(db)
    await store.ensure_indexes()
    await feed(catalog, sample_office(OFFICE, all_day=True), sample_service(office_id=OFFICE))
    writer = BoardWriter(store, catalog, calls_kept=20)
    hub = BoardHub(store, poll_seconds=3600, queue_size=8)  # the next poll: in an hour
    writer.committed = hub.committed
    route = build_board_router(writer).route(TicketCalled.EVENT_TYPE)
    assert route is not None and route.batch is not None
    call = called("t-p-1", "А005")
    async with hub.watch(OFFICE) as screen:
        await eventually(lambda: hub.polls == 1)  # the first poll found no board yet
        await route.batch([Received(call, decode(encode(call))[1], None)])
        board = screen.queue.get_nowait()  # already there: handed over by the commit
        assert board is not None and [c["number"] for c in board["calls"]] == ["А-005"]
        hub.committed(await store.boards.load(OFFICE) | {"rev": 0})  # an older revision: not again
        assert screen.queue.empty()
    await hub.close()


def feedback_link(ticket_id: str, token_sealed: str | None) -> Envelope:
    request_id = f"fr-{ticket_id}"
    expires_at = datetime.now(UTC) + timedelta(days=3)
    data = FeedbackRequested(
        request_id=request_id,
        ticket_id=ticket_id,
        service_id="housing-certificate",
        expires_at=expires_at,
        token_sealed=token_sealed,
    )
    return new_event(
        data, producer="feedback", office_id=OFFICE, aggregate_id=request_id, aggregate_version=1
    )


async def test_a_feedback_request_without_a_token_is_dropped_with_no_read_and_nothing_parked(
    notifier: tuple[Routers, NotifierStore, Sealer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Feedback sends no token when the ticket left no contact: the notifier, which has not seen the
    ticket yet, neither reads for it nor parks it (a link with a token is parked, as before)."""
    router, store, sealer = notifier
    await deliver(router, feedback_link("t-uc-20", sealer.seal(new_citizen_token())))
    assert [doc["_id"] async for doc in store.parked_links.find({})] == ["t-uc-20"]

    def no_store_call(*args: object, **kwargs: object) -> None:
        raise AssertionError("a link without a token needs nothing from the store")

    for name in ("contact", "progress", "park_link", "purge_contact"):
        monkeypatch.setattr(store, name, no_store_call)
    await deliver(router, feedback_link("t-uc-21", None))
    monkeypatch.undo()
    assert [doc["_id"] async for doc in store.parked_links.find({})] == ["t-uc-20"]

    await deliver(router, issued("t-uc-21", "А021", sealer, contact=None))
    assert await templates(store) == []
