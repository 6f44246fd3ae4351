"""The secured local Kafka (`deploy/local/infra.sh up --secure`): SASL_SSL with SCRAM principals and
the ACLs of deploy/kafka-security/acls.sh. A service's own producer (the kit's, with its TLS context)
writes its own topics, and is refused a topic it does not own; ticketing runs on it with its own
principal (catalog events in, its ownership topic and groups, tickets out); and a whole visit runs
through all five services, each signed in as its own principal, with no authorization error logged.

In every `make test` (CI included): it starts one broker of its own on free ports in a temporary
folder (shared by the tests here), and creating the principals and ACLs with the Kafka tools (a JVM
per acls.sh line) takes 2-3 minutes on two busy cores; the whole module about 4-5 minutes.

    uv run pytest -m secure tests/infra/test_secured_kafka.py
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager

import httpx
import pytest
from aiokafka.errors import KafkaError
from contracts import Envelope, new_event
from contracts.samples import sample_office, sample_service
from servicekit.auth import issue_token
from servicekit.kafka import EventProducer
from servicekit.sealing import Unsealer
from servicekit.settings import ServiceSettings
from servicekit.store import connect
from servicekit.testing import EventProbe, Infra, eventually, running
from testbed.harness import Api, System
from testbed.secured_kafka import SecuredKafka, secured_kafka
from ticketing.main import create_app
from ticketing.settings import Settings

pytestmark = pytest.mark.secure


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredKafka]:
    """A secured broker of this module's own."""
    with secured_kafka(tmp_path_factory.mktemp("secured-kafka")) as broker:
        yield broker


def service_settings(service: str, secured: SecuredKafka) -> ServiceSettings:
    return ServiceSettings.model_validate(
        {"service_name": service, "ONEWINDOW_TOPIC_PREFIX": "", **secured.env(service)}
    )


async def test_a_service_writes_its_own_topic_and_is_refused_one_it_does_not_own(
    secured: SecuredKafka,
) -> None:
    office = sample_office("kzn-secure")
    event = new_event(
        office, producer="catalog", office_id="kzn-secure", aggregate_id="kzn-secure", aggregate_version=1
    )

    catalog = EventProducer(service_settings("catalog", secured))
    await catalog.start()
    try:
        await catalog.publish(event)  # catalog.office is the catalog's own topic
    finally:
        await catalog.stop()

    intruder = EventProducer(service_settings("ticketing", secured))
    await intruder.start()
    try:
        with pytest.raises(KafkaError, match="TopicAuthorizationFailed"):
            await intruder.publish(event)  # ticketing may read catalog.office, never write it
    finally:
        await intruder.stop()


async def test_ticketing_issues_and_calls_with_its_own_principal_on_the_secured_broker(
    secured: SecuredKafka, infra: Infra, keypair: tuple[str, str]
) -> None:
    office_id = f"kzn-sec-{uuid.uuid4().hex[:6]}"
    catalog = EventProducer(service_settings("catalog", secured))
    await catalog.start()
    try:
        await catalog.publish(
            new_event(
                sample_office(office_id, all_day=True),
                producer="catalog",
                office_id=office_id,
                aggregate_id=office_id,
                aggregate_version=1,
            )
        )
        await catalog.publish(
            new_event(
                sample_service(office_id=office_id),
                producer="catalog",
                office_id="kazan",
                aggregate_id="housing-certificate",
                aggregate_version=1,
            )
        )
    finally:
        await catalog.stop()

    secret = uuid.uuid4().hex * 2
    settings = Settings.model_validate(
        {
            **secured.env("ticketing"),
            "ONEWINDOW_TOPIC_PREFIX": "",
            "ONEWINDOW_MONGO_URL": infra.mongo_url,
            "ONEWINDOW_JWT_SECRET": secret,
            "ONEWINDOW_NOTIFIER_PUBLIC_KEY": keypair[0],
            "mongo_db": f"secured_{office_id.replace('-', '_')}",
        }
    )
    kiosk = {"Authorization": "Bearer " + issue_token(secret, subject="k", role="kiosk", office_id=office_id)}
    operator = {
        "Authorization": "Bearer " + issue_token(secret, subject="o", role="operator", office_id=office_id)
    }
    try:
        async with running(create_app(settings)) as client:
            deadline = time.monotonic() + 90
            while (await client.get(f"/offices/{office_id}/queue")).status_code != 200:
                assert time.monotonic() < deadline, "ticketing never learned the office from catalog.office"
                await asyncio.sleep(0.5)
            body = {"office_id": office_id, "window_no": 1, "service_ids": ["housing-certificate"]}
            while (
                opened := await client.post("/windows/open", json=body, headers=operator)
            ).status_code != 200:
                assert time.monotonic() < deadline, opened.text  # the service arrives on its own topic
                await asyncio.sleep(0.5)
            issued = await client.post(
                "/tickets", json={"office_id": office_id, "service_id": "housing-certificate"}, headers=kiosk
            )
            assert issued.status_code == 201, issued.text
            called = await client.post(f"/windows/{office_id}/1/call-next", headers=operator)
            assert called.status_code == 200, called.text
            assert (await client.get("/health/ready")).json()["publishing"] == "ok"
        async with probe_of(secured, "ticketing.ticket") as events:
            found = await events.wait_for(of(issued.json()["ticket_id"]), count=2, timeout=60)
        assert [e.event_type for e in found] == ["ticketing.TicketIssued", "ticketing.TicketCalled"]
    finally:
        mongo = connect(infra.mongo_url, app_name="tests")
        await mongo.drop_database(settings.database_name)
        await mongo.close()


@asynccontextmanager
async def probe_of(secured: SecuredKafka, *topics: str) -> AsyncIterator[EventProbe]:
    """Topics read from the beginning as the admin principal (a super user)."""
    probe = await EventProbe(secured.bootstrap, list(topics), security=secured.client("admin")).start()
    try:
        yield probe
    finally:
        await probe.stop()


def of(aggregate_id: str, event_type: str | None = None) -> Callable[[Envelope], bool]:
    def matches(envelope: Envelope) -> bool:
        return envelope.aggregate_id == aggregate_id and event_type in (None, envelope.event_type)

    return matches


VISIT_TOPICS = (
    "ticketing.ticket",
    "appointments.appointment",
    "feedback.feedback",
    "notifier.notification",
)
# What aiokafka and the broker say when a principal may not do something (or cannot sign in).
REFUSED = re.compile(r"AuthorizationFailed|AuthenticationFailed|not authorized|SaslAuthentication", re.I)


async def test_a_whole_visit_runs_through_all_five_services_each_as_its_own_principal(
    secured: SecuredKafka,
) -> None:
    """Booked, checked in, called, served, rated; the notifier confirms the booking and shows the
    call: every event crosses the secured broker under the ACLs of acls.sh, and no service logs a
    refusal (a missing ACL shows there, or as a step that never happens)."""
    system = System(secured=secured, ticketing_replicas=1)
    try:
        await system.start()
        async with httpx.AsyncClient() as client, probe_of(secured, *VISIT_TOPICS) as events:
            api = Api(system, client)
            office = await api.create_office()  # catalog -> ticketing, appointments, feedback, notifier
            opened = await api.window(office, 1, "open", service_ids=[office.service_id])
            assert opened.status_code == 200, opened.text

            appointments = system.url("appointments")
            booking = await api.book_next_slot(office, "Тестова Анна", "+79001234567")
            booked_event = (
                await events.wait_for(of(booking["appointment_id"], "appointments.AppointmentBooked"))
            )[0]
            checked_in = await api.call(
                "POST",
                f"{appointments}/checkin",
                json={"office_id": office.office_id, "code": booking["code"]},
            )
            assert checked_in.status_code == 200, checked_in.text

            issued = await events.wait_for(  # ticketing reads appointments.appointment
                lambda e: (
                    e.event_type == "ticketing.TicketIssued"
                    and e.data.get("appointment_id") == booking["appointment_id"]
                ),
                timeout=60,
            )
            ticket_id = issued[0].data["ticket_id"]
            called = await api.serve_next(office, 1)
            assert called["ticket_id"] == ticket_id
            await events.wait_for(  # appointments reads ticketing.ticket
                of(booking["appointment_id"], "appointments.AppointmentFulfilled"), timeout=60
            )

            requested = await events.wait_for(  # feedback reads ticketing.ticket and writes its own
                lambda e: (
                    e.event_type == "feedback.FeedbackRequested" and e.data.get("ticket_id") == ticket_id
                ),
                timeout=60,
            )
            token = Unsealer(system.private_key).unseal(requested[0].data["token_sealed"])
            rated = await api.call(
                "POST",
                f"{system.url('feedback')}/feedback/{token}",
                json={"rating": 5},
            )
            assert rated.status_code == 201, rated.text
            await events.wait_for(
                lambda e: e.event_type == "feedback.FeedbackGiven" and e.data.get("ticket_id") == ticket_id,
                timeout=60,
            )

            # The notifier reads appointments.appointment and writes notifier.notification ...
            await events.wait_for(
                lambda e: (
                    e.event_type == "notifier.NotificationSent"
                    and e.data["template"] == "appointment_booked"
                    and e.data["cause_event_id"] == str(booked_event.event_id)
                ),
                timeout=60,
            )

            async def board_shows_the_call() -> bool:  # ... and reads ticketing.ticket
                board = await api.call("GET", f"{system.url('notifier')}/boards/{office.office_id}")
                return any(c["ticket_id"] == ticket_id for c in board.json().get("calls", []))

            await eventually(board_shows_the_call, what="the hall board to show the call")

            async def kpis_count_the_rating() -> bool:
                kpis = await api.supervisor_get(office, "feedback", f"/offices/{office.office_id}/kpis")
                return kpis.status_code == 200 and kpis.json()["ratings"] == 1

            await eventually(kpis_count_the_rating, what="feedback's KPIs to count the rating")
    finally:
        system.stop()
        await system.destroy()
    logs = {instance.log.name: instance.log.read_text(errors="replace") for instance in system.instances}
    assert all(logs.values()), "every service logged its start"
    refused = {name: REFUSED.findall(text)[:3] for name, text in logs.items() if REFUSED.search(text)}
    assert not refused, f"authorization errors in the service logs: {refused}"
