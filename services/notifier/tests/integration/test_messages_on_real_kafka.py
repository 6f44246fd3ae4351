"""Citizen and supervisor messages over real Kafka: reminders across a restart, retries, quiet hours, DLT."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from aiokafka import AIOKafkaConsumer
from contracts import Envelope, new_event
from contracts.appointments import AppointmentBooked
from contracts.catalog import OfficeAlertRecipientsSet
from contracts.feedback import FeedbackRequested
from contracts.samples import sample_office
from contracts.ticketing import SlaBreached
from notifier.main import create_app
from servicekit.auth import issue_token
from servicekit.clock import ManualClock
from servicekit.sealing import Sealer, new_citizen_token
from servicekit.testing import Infra, Publisher, eventually, probe

from .conftest import Mailbox, SmsGateway, serving
from .test_notifier_on_real_kafka import OFFICE, PHONE, called, event, issued, publish_catalog, settings_for

MOSCOW = ZoneInfo("Europe/Moscow")


def booked(appointment_id: str, slot_start: datetime, sealer: Sealer, token: str) -> Envelope:
    return event(
        AppointmentBooked(
            appointment_id=appointment_id,
            service_id="housing-certificate",
            slot_start=slot_start,
            slot_end=slot_start + timedelta(minutes=15),
            local_day=slot_start.date(),
            contact_sealed=sealer.seal(PHONE),
            citizen_token_sealed=sealer.seal(token),
        ),
        appointment_id,
    )


async def test_reminders_fire_a_day_and_an_hour_before_even_after_a_restart(
    make_settings: Any, keypair: tuple[str, str], sms_gateway: SmsGateway, publisher: Publisher
) -> None:
    settings = settings_for(make_settings, keypair, sms_gateway, quiet_hours="21:00-09:00")
    clock = ManualClock(datetime(2030, 3, 4, 10, 0, tzinfo=MOSCOW))
    slot = datetime(2030, 3, 6, 11, 0, tzinfo=MOSCOW)
    token = new_citizen_token()
    await publish_catalog(publisher)
    await publisher.event(booked("ap-1", slot, Sealer(keypair[0]), token))
    app = create_app(settings, clock=clock)
    async with serving(app):
        confirmation = await eventually(lambda: sms_gateway.texts_to(PHONE))
        assert "06.03.2030 11:00" in confirmation[0] and f"/a/{token}" in confirmation[0]
        scheduled = await eventually(lambda: _scheduled(app, 2))
        assert sorted(doc["message"]["template"] for doc in scheduled) == [
            "appointment_reminder_day",
            "appointment_reminder_hour",
        ]

    clock.set(slot - timedelta(days=1) + timedelta(minutes=1))  # the service was down in between
    async with serving(create_app(settings, clock=clock)):
        await eventually(lambda: any("завтра" in t for t in sms_gateway.texts_to(PHONE)))
        assert not any("через час" in t for t in sms_gateway.texts_to(PHONE))
    clock.set(slot - timedelta(hours=1) + timedelta(minutes=1))
    restarted = create_app(settings, clock=clock)
    async with serving(restarted):
        await eventually(lambda: any("через час" in t for t in sms_gateway.texts_to(PHONE)))
        await eventually(lambda: _none_left(restarted))
    texts = sms_gateway.texts_to(PHONE)
    assert len(texts) == 3  # confirmation, a day before, an hour before: nothing twice


async def _none_left(app: Any) -> bool:
    return not await app.state.store.scheduled_for("appointment:ap-1")


async def _scheduled(app: Any, count: int) -> list[Any] | None:
    found: list[Any] = await app.state.store.scheduled_for("appointment:ap-1")
    return found if len(found) == count else None


async def test_a_feedback_link_waits_for_the_end_of_quiet_hours(
    make_settings: Any, keypair: tuple[str, str], sms_gateway: SmsGateway, publisher: Publisher
) -> None:
    settings = settings_for(make_settings, keypair, sms_gateway, quiet_hours="21:00-09:00")
    clock = ManualClock(datetime(2030, 3, 4, 22, 30, tzinfo=MOSCOW))
    sealer = Sealer(keypair[0])
    token = new_citizen_token()
    await publish_catalog(publisher)
    await publisher.event(issued("t40", "А040", sealer))
    feedback = FeedbackRequested(
        request_id="fr-1",
        ticket_id="t40",
        service_id="housing-certificate",
        expires_at=clock.now() + timedelta(days=3),
        token_sealed=sealer.seal(token),
    )
    app = create_app(settings, clock=clock)
    async with serving(app):
        await eventually(lambda: sms_gateway.texts_to(PHONE))  # the ticket confirmation is urgent
        await publisher.event(event(feedback, "fr-1"))  # (topics are not ordered among each other)
        await eventually(lambda: _deferred(app))
        assert len(sms_gateway.texts_to(PHONE)) == 1  # the link is not urgent: it waits
        await eventually(lambda: _contact_purged(app, "ticket:t40"))  # the sealed copy waits alone
        clock.set(datetime(2030, 3, 5, 9, 1, tzinfo=MOSCOW))
        texts = await eventually(
            lambda: len(sms_gateway.texts_to(PHONE)) == 2 and sms_gateway.texts_to(PHONE)
        )
        assert f"http://127.0.0.1:8080/feedback/{token}" in texts[1]


async def _contact_purged(app: Any, key: str) -> bool:
    return await app.state.store.contact(key) is None


async def _deferred(app: Any) -> bool:
    return bool([doc async for doc in app.state.store.scheduled.find({"message.template": "feedback_link"})])


async def test_a_failing_gateway_is_retried_then_reported_as_failed(
    infra: Infra, make_settings: Any, keypair: tuple[str, str], sms_gateway: SmsGateway, publisher: Publisher
) -> None:
    settings = settings_for(make_settings, keypair, sms_gateway, send_attempts=3, sms_timeout_seconds=0.3)
    sealer = Sealer(keypair[0])
    sms_gateway.mode = "fail"
    await publish_catalog(publisher)
    async with (
        serving(create_app(settings)),
        probe(infra, settings.topic("notifier.notification")) as watcher,
    ):
        await publisher.event(issued("t50", "А050", sealer))
        failed = await watcher.wait_for(lambda e: e.event_type == "notifier.NotificationFailed")
        assert failed[0].data["attempts"] == 3 and "503" in failed[0].data["error"]
        assert [r["status"] for r in sms_gateway.requests] == [503, 503, 503]
        sms_gateway.mode, sms_gateway.hang_seconds = "hang", 1.0
        await publisher.event(issued("t51", "А051", sealer))
        failed = await watcher.wait_for(lambda e: e.event_type == "notifier.NotificationFailed", count=2)
        assert "Timeout" in failed[1].data["error"] and failed[1].data["attempts"] == 3
        assert not watcher.of_type("notifier.NotificationSent")


async def test_a_malformed_event_goes_to_the_dead_letters_and_the_board_keeps_moving(
    infra: Infra, make_settings: Any, keypair: tuple[str, str], sms_gateway: SmsGateway, publisher: Publisher
) -> None:
    settings = settings_for(make_settings, keypair, sms_gateway, ONEWINDOW_HANDLER_RETRIES=1)
    await publish_catalog(publisher)
    poison = b'{"event_type": "ticketing.TicketCalled", "data": "not an envelope"}'
    await publisher.raw("ticketing.ticket", poison, OFFICE.encode())
    await publisher.event(called("t60", "В001", window=7))
    dead = AIOKafkaConsumer(
        settings.topic("ticketing.ticket.dlt"),
        bootstrap_servers=infra.kafka,
        group_id=f"dlt-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
    )
    await dead.start()
    try:
        app = create_app(settings)
        async with serving(app):
            record = await dead.getone()
            assert record.value == poison
            assert dict(record.headers)["dlt.error_type"] == b"MalformedEvent"
            await eventually(lambda: _board_has(app, "В-001"))
    finally:
        await dead.stop()


async def test_supervisors_get_an_email_when_the_wait_target_is_breached(
    infra: Infra,
    make_settings: Any,
    keypair: tuple[str, str],
    sms_gateway: SmsGateway,
    smtp_server: Mailbox,
    publisher: Publisher,
) -> None:
    settings = settings_for(
        make_settings,
        keypair,
        sms_gateway,
        smtp_port=smtp_server.port,
        supervisor_emails={OFFICE: ["head@kzn.example.org", "deputy@kzn.example.org"]},
    )
    await publish_catalog(publisher)
    breach = SlaBreached(
        ticket_id="t70",
        number="А070",
        service_id="housing-certificate",
        waited_seconds=17 * 60,
        sla_seconds=15 * 60,
    )
    app = create_app(settings)
    async with serving(app), probe(infra, settings.topic("notifier.notification")) as watcher:
        await eventually(lambda: app.state.catalog.office(OFFICE))  # topics are not ordered among each other
        await publisher.event(event(breach, "t70"))
        mails = await eventually(lambda: len(smtp_server.messages) >= 2 and smtp_server.messages)
        sent = await watcher.wait_for(lambda e: e.event_type == "notifier.NotificationSent", count=2)
    assert sorted(m["X-Rcpt"] for m in mails) == ["deputy@kzn.example.org", "head@kzn.example.org"]
    assert "А-070" in mails[0]["Subject"] and "Экспресс-офис" in mails[0]["Subject"]
    assert "17 мин" in mails[0].get_content()
    assert {e.data["channel"] for e in sent} == {"email"}


async def test_a_citizen_who_moves_up_to_third_in_line_is_told_once(
    make_settings: Any, keypair: tuple[str, str], sms_gateway: SmsGateway, publisher: Publisher
) -> None:
    settings = settings_for(make_settings, keypair, sms_gateway, position_threshold=3)
    sealer = Sealer(keypair[0])
    await publish_catalog(publisher)
    for n in range(1, 5):  # only the fourth left a phone number
        await publisher.event(
            issued(f"t8{n}", f"А08{n}", sealer, position=n, contact=PHONE if n == 4 else None)
        )
    await publisher.event(called("t81", "А081", window=1))
    await publisher.event(called("t82", "А082", window=2))
    app = create_app(settings)
    async with serving(app):
        await eventually(lambda: _board_has(app, "А-082"))
        texts = await eventually(
            lambda: len(sms_gateway.texts_to(PHONE)) >= 2 and sms_gateway.texts_to(PHONE)
        )
    assert "вы 3-й в очереди" in texts[1]
    assert sum("в очереди" in t for t in sms_gateway.texts_to(PHONE)) == 1


async def _board_has(app: Any, number: str) -> bool:
    board = await app.state.store.board(OFFICE)
    return bool(board) and any(c["number"] == number for c in board["calls"])


async def test_an_urgent_sms_at_night_waits_for_the_morning_when_the_office_is_closed(
    make_settings: Any, keypair: tuple[str, str], sms_gateway: SmsGateway, publisher: Publisher
) -> None:
    settings = settings_for(make_settings, keypair, sms_gateway, night_hours="22:00-08:00")
    clock = ManualClock(datetime(2030, 3, 4, 23, 30, tzinfo=MOSCOW))  # a Monday; the office opens at 8
    await publisher.event(event(sample_office(OFFICE), OFFICE))
    await publisher.event(
        booked("ap-9", datetime(2030, 3, 5, 11, 0, tzinfo=MOSCOW), Sealer(keypair[0]), "tk")
    )
    app = create_app(settings, clock=clock)
    async with serving(app):
        waiting = await eventually(lambda: _scheduled_template(app, "appointment_booked"))
        assert waiting[0]["due_at"] == datetime(2030, 3, 5, 8, 0, tzinfo=MOSCOW)
        assert not sms_gateway.texts_to(PHONE)  # deferred, not sent
        clock.set(datetime(2030, 3, 5, 8, 1, tzinfo=MOSCOW))
        texts = await eventually(lambda: sms_gateway.texts_to(PHONE))
        assert "05.03.2030 11:00" in texts[0]


async def _scheduled_template(app: Any, template: str) -> list[Any]:
    return [doc async for doc in app.state.store.scheduled.find({"message.template": template})]


async def test_one_phone_gets_at_most_the_daily_cap_of_messages_whatever_causes_them(
    infra: Infra,
    make_settings: Any,
    keypair: tuple[str, str],
    sms_gateway: SmsGateway,
    publisher: Publisher,
) -> None:
    """Past the cap a message is withheld, visibly: recorded with its reason, NotificationWithheld
    on the topic, counted on /metrics; and not sent later."""
    settings = settings_for(make_settings, keypair, sms_gateway, max_messages_per_recipient_per_day=2)
    sealer = Sealer(keypair[0])
    other = "+79990001122"
    await publish_catalog(publisher)
    for n in (81, 82, 83):
        await publisher.event(issued(f"t{n}", f"А0{n}", sealer, position=n))
    await publisher.event(issued("t84", "А084", sealer, position=84, contact=other))
    app = create_app(settings)
    async with (
        probe(infra, settings.topic("notifier.notification")) as topic,
        serving(app) as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        # One office's events arrive in order: once the other phone's confirmation went out, the
        # third one to PHONE was decided (and withheld) before it.
        await eventually(lambda: sms_gateway.texts_to(other))
        await eventually(lambda: len(sms_gateway.texts_to(PHONE)) == 2)
        withheld = (await topic.wait_for(lambda e: e.event_type == "notifier.NotificationWithheld"))[0]
        assert withheld.data["reason"] == "daily_cap" and withheld.data["allowed"] == 2
        assert withheld.data["recipient_ref"] == app.state.keys.ref(PHONE)
        records = [d async for d in app.state.store.deliveries.collection.find({"status": "withheld"})]
        assert [(r["reason"], r["address_sealed"], r["text_sealed"]) for r in records] == [
            ("daily_cap", None, None)
        ]
        metrics = (await client.get("/metrics")).text
        labels = 'channel="sms",reason="daily_cap",template="ticket_issued"'
        counted = f"onewindow_notifications_withheld_total{{{labels}}} 1.0"
        assert counted in metrics, [line for line in metrics.splitlines() if "withheld" in line]
        await app.state.dispatcher.sweep()  # nothing is kept to be sent later
        assert len(sms_gateway.texts_to(PHONE)) == 2


async def test_a_citizen_s_contacts_and_waiting_messages_are_erased_on_request(
    make_settings: Any, keypair: tuple[str, str], sms_gateway: SmsGateway, publisher: Publisher
) -> None:
    settings = settings_for(make_settings, keypair, sms_gateway, quiet_hours="21:00-09:00")
    clock = ManualClock(datetime(2030, 3, 4, 22, 30, tzinfo=MOSCOW))
    sealer = Sealer(keypair[0])
    other = "+79990001122"
    await publish_catalog(publisher)
    await publisher.event(issued("t91", "А091", sealer))
    await publisher.event(issued("t92", "А092", sealer, contact=other))
    await publisher.event(issued("t93", "А093", sealer, contact="8 (999) 123-45-67"))  # PHONE again
    feedback = FeedbackRequested(
        request_id="fr-91",
        ticket_id="t91",
        service_id="housing-certificate",
        expires_at=clock.now() + timedelta(days=3),
        token_sealed=sealer.seal(new_citizen_token()),
    )
    app = create_app(settings, clock=clock)
    store = app.state.store
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as client:
        await eventually(lambda: len(sms_gateway.texts_to(PHONE)) == 1 and sms_gateway.texts_to(other))
        await eventually(lambda: store.contact("ticket:t93"))
        await publisher.event(event(feedback, "fr-91"))  # (topics are not ordered among each other)
        await eventually(lambda: _deferred(app))  # the feedback link to PHONE waits for the morning
        secret = settings.jwt_secret.get_secret_value()
        admin = issue_token(secret, subject="dpo", role="admin", office_id=None)
        erased = await client.post(
            "/admin/erasure", json={"phone": "+7 999 123-45-67"}, headers={"Authorization": f"Bearer {admin}"}
        )
        assert erased.status_code == 200, erased.text
        assert erased.json()["contacts"] == 1 and erased.json()["scheduled_messages"] == 1
        assert erased.json()["deliveries"] >= 1
        assert await store.contact("ticket:t93") is None and not await _deferred(app)
        assert await store.contact("ticket:t92") is not None  # someone else's stays
        assert not [
            d async for d in store.deliveries.collection.find({"recipient_ref": app.state.keys.ref(PHONE)})
        ]


async def test_the_office_s_own_alert_recipients_replace_the_environment_s_list(
    infra: Infra,
    make_settings: Any,
    keypair: tuple[str, str],
    sms_gateway: SmsGateway,
    smtp_server: Mailbox,
    publisher: Publisher,
) -> None:
    settings = settings_for(
        make_settings,
        keypair,
        sms_gateway,
        smtp_port=smtp_server.port,
        supervisor_emails={OFFICE: ["from-the-environment@kzn.example.org"]},
    )
    await publish_catalog(publisher)
    sealer = Sealer(keypair[0])
    recipients = OfficeAlertRecipientsSet(
        office_id=OFFICE, recipients_sealed=[sealer.seal("head@office.example.org")]
    )
    await publisher.event(
        new_event(
            recipients,
            producer="catalog",
            office_id=OFFICE,
            aggregate_id=f"{OFFICE}.alert-recipients",
            aggregate_version=1,
        )
    )
    breach = SlaBreached(
        ticket_id="t71",
        number="А071",
        service_id="housing-certificate",
        waited_seconds=20 * 60,
        sla_seconds=15 * 60,
    )
    app = create_app(settings)
    async with serving(app):
        feed = app.state.supervision
        await eventually(lambda: feed.sealed_recipients(OFFICE))
        await publisher.event(event(breach, "t71"))
        mails = await eventually(lambda: smtp_server.messages)
        items = await eventually(lambda: _items(feed))
    assert [m["X-Rcpt"] for m in mails] == ["head@office.example.org"]
    assert [(i["kind"], i["number"], i["waited_minutes"]) for i in items] == [("breached", "А-071", 20)]


async def _items(feed: Any) -> list[dict[str, Any]]:
    return list((await feed.feed(OFFICE))["items"])


async def test_a_feedback_link_read_before_its_ticket_is_sent_when_the_ticket_brings_the_contact(
    make_settings: Any, keypair: tuple[str, str], sms_gateway: SmsGateway, publisher: Publisher
) -> None:
    """The ticket topic may be behind the feedback topic (a busy or rebalancing ticket consumer):
    the link is parked, not dropped, and goes out with the ticket's contact."""
    settings = settings_for(make_settings, keypair, sms_gateway)
    sealer = Sealer(keypair[0])
    token = new_citizen_token()
    await publish_catalog(publisher)
    feedback = FeedbackRequested(
        request_id="fr-41",
        ticket_id="t41",
        service_id="housing-certificate",
        expires_at=datetime.now(MOSCOW) + timedelta(days=3),
        token_sealed=sealer.seal(token),
    )
    app = create_app(settings)
    async with serving(app):
        await publisher.event(event(feedback, "fr-41"))
        await eventually(lambda: app.state.store.parked_links.find_one({"_id": "t41"}))
        await publisher.event(issued("t41", "А041", sealer))
        texts = await eventually(
            lambda: len(sms_gateway.texts_to(PHONE)) == 2 and sms_gateway.texts_to(PHONE)
        )
        assert any(f"http://127.0.0.1:8080/feedback/{token}" in text for text in texts)
        assert await app.state.store.parked_links.find_one({"_id": "t41"}) is None
