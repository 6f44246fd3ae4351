"""Late duplicates of ticket events over real Kafka: a finished ticket never comes back in line."""

from __future__ import annotations

from typing import Any

from contracts.ticketing import ServiceCompleted
from notifier.main import create_app
from servicekit.sealing import Sealer
from servicekit.testing import Publisher, eventually

from .conftest import SmsGateway, serving
from .test_notifier_on_real_kafka import PHONE, called, event, issued, publish_catalog, settings_for

OTHER_PHONE = "+79997654321"


def completed(ticket_id: str, number: str, version: int) -> Any:
    return event(
        ServiceCompleted(
            ticket_id=ticket_id,
            number=number,
            service_id="housing-certificate",
            window_no=2,
            zone_id="z1",
            operator_ref="op-1",
            outcome="served",
            waited_seconds=60,
            service_seconds=300,
            channel="kiosk",
        ),
        ticket_id,
        version=version,
    )


async def test_a_replayed_issue_of_a_served_ticket_does_not_put_it_back_in_line(
    make_settings: Any, keypair: tuple[str, str], sms_gateway: SmsGateway, publisher: Publisher
) -> None:
    settings = settings_for(make_settings, keypair, sms_gateway, position_threshold=3)
    sealer = Sealer(keypair[0])
    await publish_catalog(publisher)
    for n in range(1, 4):  # three tickets ahead, without a phone
        await publisher.event(issued(f"t9{n}", f"А09{n}", sealer, position=n, contact=None))
    served = await publisher.event(issued("t94", "А094", sealer, position=4))  # fourth, with a phone
    await publisher.event(called("t94", "А094", window=2))  # served out of turn (a priority)
    await publisher.event(completed("t94", "А094", version=4))
    await publisher.raw("ticketing.ticket", served, b"kzn-kirov-moskov")  # the same bytes, late
    # t91 is called: had t94 come back, it would now be "3rd in line" (issued 4th, never told).
    await publisher.event(called("t91", "А091", window=1))
    await publisher.event(issued("t95", "А095", sealer, position=3, contact=OTHER_PHONE))  # a marker after it
    app = create_app(settings)
    async with serving(app):
        await eventually(lambda: sms_gateway.texts_to(OTHER_PHONE))  # everything before it was handled
        waiting = await app.state.store.waiting_for("kzn-kirov-moskov", "housing-certificate")
        told = [d async for d in app.state.store.deliveries.collection.find({"template": "position_reached"})]
    assert sorted(t.ticket_id for t in waiting) == ["t92", "t93", "t95"]
    assert told == []
    assert not any("в очереди" in text for text in sms_gateway.texts_to(PHONE))
