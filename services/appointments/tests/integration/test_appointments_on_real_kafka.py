"""The appointments service on real Kafka and the store: book, check in, fulfil, miss, reschedule, race."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from appointments.main import create_app
from appointments.settings import Settings
from contracts import EventData, new_event
from contracts.catalog import AppointmentCapacity
from contracts.samples import sample_office, sample_service
from contracts.ticketing import ServiceCompleted
from fastapi import FastAPI
from servicekit.clock import ManualClock
from servicekit.testing import Infra, eventually, probe, running, staff_headers

OFFICE = "kzn-kirov-moskov"
SERVICE = "housing-certificate"


async def publish(
    app: FastAPI, data: EventData, *, office_id: str, aggregate_id: str, version: int = 1
) -> None:
    envelope = new_event(
        data, producer="test", office_id=office_id, aggregate_id=aggregate_id, aggregate_version=version
    )
    await app.state.runtime.publish(envelope)


async def feed_catalog(app: FastAPI, client: httpx.AsyncClient, **service: Any) -> None:
    """Publish the sample office (open all day) and service, wait until slots are offered."""
    await publish(app, sample_office(OFFICE, all_day=True), office_id=OFFICE, aggregate_id=OFFICE)
    await publish(
        app, sample_service(SERVICE, office_id=OFFICE, **service), office_id="kazan", aggregate_id=SERVICE
    )
    await eventually(lambda: free_slots(client), lambda slots: len(slots) > 0)


async def free_slots(client: httpx.AsyncClient, days: int = 2) -> list[dict[str, Any]]:
    response = await client.get(f"/offices/{OFFICE}/services/{SERVICE}/slots", params={"days": days})
    return response.json()["slots"] if response.status_code == 200 else []


def booking(slot_start: str, *, phone: str | None = "+7 900 123-45-67", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "office_id": OFFICE,
        "service_id": SERVICE,
        "slot_start": slot_start,
        "name": "Иванова Анна",
        "language": "tt",
        **extra,
    }
    if phone:
        body["phone"] = phone
    return body


def seats_at(slots: list[dict[str, Any]], slot_start: str) -> int:
    """Free seats left at `slot_start` (0 when the slot is no longer listed)."""
    wanted = datetime.fromisoformat(slot_start)
    match = [s for s in slots if datetime.fromisoformat(s["slot_start"]) == wanted]
    return int(match[0]["seats_left"]) if match else 0


def make_app(make_settings: Any, clock: ManualClock, **overrides: Any) -> tuple[FastAPI, Settings]:
    settings = make_settings(Settings, sweep_seconds=0.2, **overrides)
    return create_app(settings, clock=clock), settings


def of_appointment(event_type: str, appointment_id: str) -> Any:
    return lambda e: e.event_type == event_type and e.aggregate_id == appointment_id


async def test_booking_check_in_and_service_complete_the_appointment(
    infra: Infra, make_settings: Any
) -> None:
    clock = ManualClock()
    app, settings = make_app(make_settings, clock)
    async with running(app) as client, probe(infra, settings.topic("appointments.appointment")) as events:
        await feed_catalog(app, client)
        slot = (await free_slots(client))[4]

        booked = await client.post("/appointments", json=booking(slot["slot_start"]))
        assert booked.status_code == 201, booked.text
        receipt = booked.json()
        apt = receipt["appointment_id"]
        assert len(receipt["code"]) == 6 and len(receipt["token"]) >= 43
        assert receipt["manage_path"] == f"/appointments/manage/{receipt['token']}"
        [event] = await events.wait_for(of_appointment("appointments.AppointmentBooked", apt))
        assert event.data["citizen_token_sealed"] and event.data["contact_sealed"]
        assert event.data["language"] == "tt"
        raw = b"".join(record.value for record in events.raw)
        assert (
            b"123-45-67" not in raw and "Иванова".encode() not in raw and receipt["token"].encode() not in raw
        )

        clock.set(datetime.fromisoformat(slot["slot_start"]) - timedelta(minutes=5))
        checked = await client.post("/checkin", json={"office_id": OFFICE, "code": receipt["code"].lower()})
        assert checked.status_code == 200, checked.text
        assert checked.json()["already_checked_in"] is False
        again = await client.post("/checkin", json={"office_id": OFFICE, "code": receipt["code"]})
        assert again.status_code == 200 and again.json()["already_checked_in"] is True
        [checked_in] = await events.wait_for(of_appointment("appointments.AppointmentCheckedIn", apt))
        assert checked_in.data["contact_sealed"] and checked_in.data["citizen_token_sealed"]

        # What ticketing publishes once the appointment ticket has been served (twice: redelivery).
        completed = ServiceCompleted(
            ticket_id="tk-1",
            number="A001",
            service_id=SERVICE,
            window_no=2,
            zone_id="z1",
            operator_ref="op-7",
            outcome="served",
            waited_seconds=120,
            service_seconds=540,
            channel="appointment",
            appointment_id=apt,
        )
        for _ in range(2):
            await publish(app, completed, office_id=OFFICE, aggregate_id="tk-1", version=4)
        [fulfilled] = await events.wait_for(of_appointment("appointments.AppointmentFulfilled", apt))
        assert fulfilled.data["ticket_id"] == "tk-1" and fulfilled.data["outcome"] == "served"
        state = await client.get(f"/appointments/by-token/{receipt['token']}")
        assert state.json()["state"] == "fulfilled"
        # The redelivered ServiceCompleted was handled and nothing is left to publish: one event only.
        handled = (
            'onewindow_events_handled_total{event_type="ticketing.ServiceCompleted",outcome="handled"} 2.0'
        )
        await eventually(lambda: client.get("/metrics"), lambda response: handled in response.text)
        await eventually(lambda: client.get("/health/ready"), lambda r: r.json()["outbox_backlog"] == 0)
        await events._poll(1)
        assert len(events.of_type("appointments.AppointmentFulfilled")) == 1
        gone = await client.post("/checkin", json={"office_id": OFFICE, "code": receipt["code"]})
        assert gone.status_code == 404


async def test_no_check_in_by_the_end_of_grace_is_a_missed_appointment(
    infra: Infra, make_settings: Any
) -> None:
    clock = ManualClock()
    app, settings = make_app(make_settings, clock, checkin_max_failures=3)
    async with running(app) as client, probe(infra, settings.topic("appointments.appointment")) as events:
        await feed_catalog(app, client)
        slot = (await free_slots(client))[8]
        start = datetime.fromisoformat(slot["slot_start"])
        receipt = (await client.post("/appointments", json=booking(slot["slot_start"]))).json()
        apt = receipt["appointment_id"]

        clock.set(start - timedelta(minutes=30))
        early = await client.post("/checkin", json={"office_id": OFFICE, "code": receipt["code"]})
        assert early.status_code == 409
        assert datetime.fromisoformat(early.json()["come_back_at"]) == start - timedelta(minutes=15)

        clock.set(start + timedelta(minutes=11))
        [missed] = await events.wait_for(of_appointment("appointments.AppointmentMissed", apt))
        assert missed.data["slot_start"] is not None
        late = await client.post("/checkin", json={"office_id": OFFICE, "code": receipt["code"]})
        assert late.status_code == 409 and late.json()["offer"] == "walk_in_ticket"
        assert not events.of_type("appointments.AppointmentCheckedIn")

        day = start.astimezone(ZoneInfo("Europe/Moscow")).date().isoformat()
        supervisor = staff_headers(settings, "supervisor", OFFICE)
        view = await client.get(
            f"/offices/{OFFICE}/appointments",
            params={"day": day},
            headers=supervisor,
        )
        assert view.status_code == 200
        [row] = view.json()["bookings"]
        assert row["state"] == "missed" and row["code"] == receipt["code"]
        assert "name" not in row and "phone" not in row and "contact_sealed" not in row
        rate = await client.get(
            f"/offices/{OFFICE}/no-show-rate",
            params={"from": day, "to": day},
            headers=supervisor,
        )
        assert rate.json()["missed"] == 1 and rate.json()["no_show_rate"] == 1.0
        foreign = await client.get(
            f"/offices/{OFFICE}/appointments", headers=staff_headers(settings, "supervisor", "other")
        )
        assert foreign.status_code == 403
        anonymous = await client.get(f"/offices/{OFFICE}/appointments")
        assert anonymous.status_code == 401

        # Guessing codes: 404 that says nothing, then 429 for this kiosk.
        for guess in ("AAAAAA", "CCCCCC", "DDDDDD"):
            wrong = await client.post("/checkin", json={"office_id": OFFICE, "code": guess})
            assert wrong.status_code == 404 and "code" in wrong.json()["reason"]
        blocked = await client.post("/checkin", json={"office_id": OFFICE, "code": receipt["code"]})
        assert blocked.status_code == 429 and blocked.json()["retry_after_seconds"] >= 1


async def test_reschedule_moves_the_booking_and_frees_the_old_seat(infra: Infra, make_settings: Any) -> None:
    clock = ManualClock()
    app, settings = make_app(make_settings, clock)
    async with running(app) as client, probe(infra, settings.topic("appointments.appointment")) as events:
        await feed_catalog(app, client)
        slots = await free_slots(client)
        old, new = slots[3]["slot_start"], slots[10]["slot_start"]
        receipt = (await client.post("/appointments", json=booking(old))).json()
        assert seats_at(await free_slots(client), old) == 1

        moved = await client.post(
            f"/appointments/by-token/{receipt['token']}/reschedule", json={"slot_start": new}
        )
        assert moved.status_code == 200, moved.text
        assert datetime.fromisoformat(moved.json()["slot_start"]) == datetime.fromisoformat(new)
        [event] = await events.wait_for(
            of_appointment("appointments.AppointmentRescheduled", receipt["appointment_id"])
        )
        assert datetime.fromisoformat(event.data["previous_start"]) == datetime.fromisoformat(old)
        after = await free_slots(client)
        assert seats_at(after, old) == 2 and seats_at(after, new) == 1

        misaligned = (datetime.fromisoformat(new) + timedelta(minutes=7)).isoformat()
        bad = await client.post(
            f"/appointments/by-token/{receipt['token']}/reschedule", json={"slot_start": misaligned}
        )
        assert (
            bad.status_code == 422 and "do not start" in bad.json()["reason"] and bad.json()["alternatives"]
        )

        cancelled = await client.post(f"/appointments/by-token/{receipt['token']}/cancel")
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        await events.wait_for(of_appointment("appointments.AppointmentCancelled", receipt["appointment_id"]))
        assert seats_at(await free_slots(client), new) == 2
        twice = await client.post(f"/appointments/by-token/{receipt['token']}/cancel")
        assert twice.status_code == 409
        unknown = await client.get("/appointments/by-token/not-a-real-token")
        assert unknown.status_code == 404


async def test_bad_bookings_are_refused_with_a_reason_and_alternatives(
    infra: Infra, make_settings: Any
) -> None:
    clock = ManualClock()
    app, _ = make_app(make_settings, clock)
    async with running(app) as client:
        await feed_catalog(app, client)
        await publish(
            app,
            sample_service("walk-in-only", letter="В", office_id=OFFICE, appointment_allowed=False),
            office_id="kazan",
            aggregate_id="walk-in-only",
        )
        slots = await free_slots(client)
        past = (clock.now() - timedelta(hours=2)).isoformat()
        refused = await client.post("/appointments", json=booking(past))
        assert refused.status_code == 422 and "past" in refused.json()["reason"]
        assert refused.json()["alternatives"][0] == {**slots[0]}

        not_bookable = await eventually(
            lambda: client.post(
                "/appointments", json={**booking(slots[0]["slot_start"]), "service_id": "walk-in-only"}
            ),
            lambda response: response.status_code != 422 or "appointment" in response.json()["reason"],
        )
        assert not_bookable.status_code == 422, not_bookable.text

        # Two future bookings of one service per citizen; the third is refused.
        for slot in slots[:2]:
            assert (await client.post("/appointments", json=booking(slot["slot_start"]))).status_code == 201
        third = await client.post(
            "/appointments", json=booking(slots[2]["slot_start"], phone="8 900 1234567")
        )
        assert third.status_code == 409 and "2 future appointments" in third.json()["reason"]
        assert (
            await client.post("/appointments", json={**booking(slots[2]["slot_start"]), "phone": "x"})
        ).status_code == 422


async def test_a_capacity_cut_flags_the_bookings_it_affects(infra: Infra, make_settings: Any) -> None:
    clock = ManualClock()
    app, settings = make_app(make_settings, clock)
    async with running(app) as client:
        await feed_catalog(app, client)
        slot = (await free_slots(client))[5]["slot_start"]
        first = (await client.post("/appointments", json=booking(slot, phone="+79000000001"))).json()
        second = (await client.post("/appointments", json=booking(slot, phone="+79000000002"))).json()
        office = sample_office(OFFICE, all_day=True)
        cut = office.model_copy(
            update={
                "version": 2,
                "appointment_capacity": [
                    AppointmentCapacity(start="00:00", end="23:59", windows=1, weekdays=list(range(7)))
                ],
            }
        )
        await publish(app, cut, office_id=OFFICE, aggregate_id=OFFICE, version=2)

        async def at_risk() -> dict[str, bool]:
            found = {}
            for receipt in (first, second):
                response = await client.get(f"/appointments/by-token/{receipt['token']}")
                found[receipt["appointment_id"]] = response.json()["at_risk"]
            return found

        flags = await eventually(at_risk, lambda flags: any(flags.values()))
        assert sorted(flags.values()) == [False, True]
        day = datetime.fromisoformat(slot).astimezone(ZoneInfo("Europe/Moscow")).date().isoformat()
        supervisor = staff_headers(settings, "supervisor", OFFICE)
        rows = (
            await client.get(
                f"/offices/{OFFICE}/appointments",
                params={"day": day},
                headers=supervisor,
            )
        ).json()["bookings"]
        assert [row["at_risk_reason"] for row in rows if row["at_risk"]] == [
            "the office now sets aside 1 window(s) at this time"
        ]


@pytest.mark.timeout(120)
async def test_fifty_citizens_racing_for_the_last_seat_one_wins_and_the_rest_get_alternatives(
    infra: Infra, make_settings: Any
) -> None:
    clock = ManualClock()
    one, settings = make_app(make_settings, clock)
    # A second replica on the same database: the claim must hold across processes, not just in one.
    two, _ = make_app(make_settings, clock, mongo_db=settings.mongo_db)
    async with running(one) as first, running(two) as second:
        await feed_catalog(one, first)
        await eventually(lambda: free_slots(second), lambda slots: len(slots) > 0)
        slots = await free_slots(first)
        for round_no, slot in enumerate(slots[2:5]):
            start = slot["slot_start"]
            taken = await first.post("/appointments", json=booking(start, phone=f"+7911{round_no:03d}0000"))
            assert taken.status_code == 201
            started = time.perf_counter()
            responses = await asyncio.gather(
                *(
                    (first if n % 2 else second).post(
                        "/appointments", json=booking(start, phone=f"+7912{round_no:03d}{n:04d}")
                    )
                    for n in range(50)
                )
            )
            elapsed = time.perf_counter() - started
            codes = sorted(response.status_code for response in responses)
            assert codes == [201] + [409] * 49, codes
            for response in responses:
                if response.status_code == 409:
                    body = response.json()
                    assert body["reason"] == "this slot is fully booked"
                    assert body["alternatives"] and all(
                        datetime.fromisoformat(alt["slot_start"]) > datetime.fromisoformat(start)
                        for alt in body["alternatives"]
                    )
            assert seats_at(await free_slots(second), start) == 0
            print(f"round {round_no}: 50 concurrent bookings of the last seat in {elapsed:.2f}s")
        metrics = (await first.get("/metrics")).text + (await second.get("/metrics")).text
        assert 'reason="SlotFull"' in metrics and "onewindow_appointments_booked_total" in metrics


async def test_wrong_codes_at_the_kiosk_never_block_check_in_for_the_whole_hall(
    infra: Infra, make_settings: Any
) -> None:
    clock = ManualClock()
    app, settings = make_app(make_settings, clock, checkin_max_failures=3, checkin_max_code_failures=2)
    async with running(app) as client:
        await feed_catalog(app, client)
        slot = (await free_slots(client))[8]
        receipt = (await client.post("/appointments", json=booking(slot["slot_start"]))).json()
        clock.set(datetime.fromisoformat(slot["slot_start"]) - timedelta(minutes=5))
        kiosk = staff_headers(settings, "kiosk", OFFICE)

        # Many citizens' typos at one kiosk (one address): each is refused, nobody is locked out.
        for typo in ("AAAAAA", "CCCCCC", "DDDDDD", "EEEEEE", "FFFFFF"):
            wrong = await client.post("/checkin", json={"office_id": OFFICE, "code": typo}, headers=kiosk)
            assert wrong.status_code == 404
        # One code typed wrong again and again is slowed down, whoever types it (limit 2 per code).
        again = await client.post("/checkin", json={"office_id": OFFICE, "code": "aaaaaa"}, headers=kiosk)
        assert again.status_code == 404
        third = await client.post("/checkin", json={"office_id": OFFICE, "code": "AAA-AAA"}, headers=kiosk)
        assert third.status_code == 429 and third.json()["retry_after_seconds"] >= 1

        checked = await client.post(
            "/checkin", json={"office_id": OFFICE, "code": receipt["code"]}, headers=kiosk
        )
        assert checked.status_code == 200, checked.text


async def test_moving_a_booking_back_and_forth_is_refused_after_the_daily_limit(
    infra: Infra, make_settings: Any
) -> None:
    clock = ManualClock()
    app, settings = make_app(make_settings, clock, max_moves_per_day=2)
    async with running(app) as client, probe(infra, settings.topic("appointments.appointment")) as events:
        await feed_catalog(app, client)
        slots = await free_slots(client)
        first, second = slots[3]["slot_start"], slots[10]["slot_start"]
        receipt = (await client.post("/appointments", json=booking(first))).json()
        manage = f"/appointments/by-token/{receipt['token']}/reschedule"

        for target in (second, first):
            assert (await client.post(manage, json={"slot_start": target})).status_code == 200
        refused = await client.post(manage, json={"slot_start": second})
        assert refused.status_code == 429 and "moved 2 times today" in refused.json()["reason"]

        await events.wait_for(lambda e: e.event_type == "appointments.AppointmentRescheduled", count=2)
        assert len(events.of_type("appointments.AppointmentRescheduled")) == 2
        # The refused move kept the booking and its seat where they were.
        after = await free_slots(client)
        assert seats_at(after, first) == 1 and seats_at(after, second) == 2


async def test_metrics_label_only_offices_the_catalog_knows(infra: Infra, make_settings: Any) -> None:
    clock = ManualClock()
    app, _ = make_app(make_settings, clock)
    async with running(app) as client:
        await feed_catalog(app, client)
        invented = "invented-office-4711"
        await client.post("/checkin", json={"office_id": invented, "code": "AAAAAA"})
        await client.post(
            "/appointments", json={**booking("2030-01-01T10:00:00+03:00"), "office_id": invented}
        )
        metrics = (await client.get("/metrics")).text
        assert invented not in metrics
        assert 'office_id="unknown"' in metrics


async def test_booking_and_cancelling_again_and_again_cannot_flood_one_phone(
    infra: Infra, make_settings: Any
) -> None:
    clock = ManualClock()
    app, _ = make_app(make_settings, clock, max_messages_per_contact_per_day=3, max_moves_per_day=5)
    async with running(app) as client:
        await feed_catalog(app, client)
        slots = await free_slots(client)
        victim = "+7 917 555-44-33"
        first = (
            await client.post("/appointments", json=booking(slots[3]["slot_start"], phone=victim))
        ).json()
        manage = f"/appointments/by-token/{first['token']}"
        assert (
            await client.post(f"{manage}/reschedule", json={"slot_start": slots[4]["slot_start"]})
        ).status_code == 200
        assert (await client.post(f"{manage}/cancel")).status_code == 200  # cancelling is never refused
        second = await client.post("/appointments", json=booking(slots[5]["slot_start"], phone=victim))
        assert second.status_code == 201, second.text
        flood = await client.post("/appointments", json=booking(slots[6]["slot_start"], phone="89175554433"))
        assert flood.status_code == 429 and "tomorrow" in flood.json()["reason"]
        other = await client.post("/appointments", json=booking(slots[6]["slot_start"], phone="+79170001122"))
        assert other.status_code == 201, other.text


async def test_a_retried_booking_with_one_key_is_one_booking_and_one_message(
    infra: Infra, make_settings: Any
) -> None:
    clock = ManualClock()
    app, settings = make_app(make_settings, clock)
    async with running(app) as client, probe(infra, settings.topic("appointments.appointment")) as events:
        await feed_catalog(app, client)
        slots = await free_slots(client)
        body = booking(slots[2]["slot_start"])
        key = {"Idempotency-Key": uuid.uuid4().hex}
        at_once = await asyncio.gather(
            *(client.post("/appointments", json=body, headers=key) for _ in range(3))
        )
        later = await client.post("/appointments", json=body, headers=key)
        answers = [*at_once, later]
        assert all(a.status_code == 201 for a in answers), [
            (a.status_code, a.json().get("reason")) for a in answers
        ]
        receipts = {(a.json()["appointment_id"], a.json()["code"], a.json()["token"]) for a in answers}
        assert len(receipts) == 1, receipts
        [(apt, _, token)] = receipts
        assert (await client.get(f"/appointments/by-token/{token}")).json()["appointment_id"] == apt
        assert seats_at(await free_slots(client), slots[2]["slot_start"]) == slots[2]["seats_left"] - 1

        other = await client.post("/appointments", json=booking(slots[3]["slot_start"]), headers=key)
        assert other.status_code == 422 and "different request" in other.json()["reason"], other.text

        fresh = await client.post(
            "/appointments",
            json=booking(slots[4]["slot_start"]),
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert fresh.status_code == 201, fresh.text
        # One office's events keep their order: once the fresh booking's is there, a second
        # AppointmentBooked (a second message to the citizen) of the retried one would be too.
        await events.wait_for(
            of_appointment("appointments.AppointmentBooked", fresh.json()["appointment_id"])
        )
        booked = [e.aggregate_id for e in events.of_type("appointments.AppointmentBooked")]
        assert booked.count(apt) == 1


async def test_a_citizen_s_contact_data_is_erased_on_request_and_after_the_retention_period(
    infra: Infra, make_settings: Any
) -> None:
    clock = ManualClock()
    app, settings = make_app(make_settings, clock)
    admin = staff_headers(settings, "admin", None, "dpo")
    office_admin = staff_headers(settings, "admin", OFFICE, "a2")
    async with running(app) as client:
        await feed_catalog(app, client)
        slots = await free_slots(client)
        mine = [
            (await client.post("/appointments", json=booking(s["slot_start"]))).json() for s in slots[1:3]
        ]
        theirs = (
            await client.post("/appointments", json=booking(slots[3]["slot_start"], phone="+79170001122"))
        ).json()
        bookings = app.state.appointments.store.bookings

        refused = await client.post(
            "/admin/erasure",
            json={"phone": "8 900 123 45 67"},
            headers=office_admin,
        )
        assert refused.status_code == 403 and "city-wide" in refused.json()["reason"]
        assert (await client.post("/admin/erasure", json={}, headers=admin)).status_code == 422
        erased = await client.post("/admin/erasure", json={"phone": "8 900 123 45 67"}, headers=admin)
        assert erased.status_code == 200 and erased.json()["bookings"] == 2, erased.text
        for receipt in mine:
            doc = await bookings.load(receipt["appointment_id"])
            assert (
                doc["name_sealed"] is None and doc["contact_sealed"] is None and doc["contact_hash"] is None
            )
            assert doc["state"] == "booked"  # the booking stays; nobody is messaged about it
        assert (await bookings.load(theirs["appointment_id"]))["contact_sealed"] is not None
        # The per-contact limit forgot the erased contact: it may book this service again.
        again = await client.post("/appointments", json=booking(slots[4]["slot_start"]))
        assert again.status_code == 201, again.text

        clock.set(datetime.fromisoformat(slots[3]["slot_end"]) + timedelta(days=2, hours=1))
        assert await app.state.appointments.forget_past_contacts() >= 1
        kept = await bookings.load(theirs["appointment_id"])
        assert kept["contact_sealed"] is None and kept["name_sealed"] is None
