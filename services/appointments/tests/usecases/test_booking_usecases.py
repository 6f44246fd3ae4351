"""The booking use cases on in-memory stand-ins (servicekit.fakes): no broker, no store process.

The real `Appointments`, `AppointmentStore` and `CatalogView` run against `memory_db()`, with a
clock that stands still, so the rules that need no I/O are checked in milliseconds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from appointments.domain import BookingNotChangeable, SlotFull
from appointments.metrics import AppointmentMetrics
from appointments.settings import Settings
from appointments.store import AppointmentStore
from appointments.usecases import Appointments, BookingRequest
from contracts.samples import sample_office, sample_service
from prometheus_client import CollectorRegistry
from servicekit.catalog_view import CatalogView
from servicekit.clock import ManualClock
from servicekit.fakes import feed, memory_db
from servicekit.sealing import generate_keypair

OFFICE, SERVICE = "kzn-kirov-moskov", "housing-certificate"


@pytest.fixture
async def desk() -> tuple[Appointments, ManualClock]:
    db = memory_db()
    view = CatalogView(db)
    await feed(view, sample_office(OFFICE, all_day=True), sample_service(SERVICE, office_id=OFFICE))
    settings = Settings.model_validate(
        {
            "ONEWINDOW_JWT_SECRET": "usecase-tests-" + "x" * 32,
            "ONEWINDOW_NOTIFIER_PUBLIC_KEY": generate_keypair()[0],
        }
    )
    clock = ManualClock(datetime(2030, 3, 4, 6, 0, tzinfo=UTC))  # a Monday, 09:00 in Kazan
    store = AppointmentStore(db)
    await store.ensure_indexes()
    return Appointments(store, view, settings, clock, AppointmentMetrics(CollectorRegistry())), clock


def request(slot: dict[str, Any], n: int = 0, **changes: Any) -> BookingRequest:
    values: dict[str, Any] = {
        "office_id": OFFICE,
        "service_id": SERVICE,
        "slot_start": datetime.fromisoformat(slot["slot_start"]),
        "name": f"Citizen {n}",
        "phone": f"+7 900 000-{n // 100:02d}-{n % 100:02d}",
        "email": None,
        "language": "ru",
    }
    return BookingRequest(**{**values, **changes})


async def test_a_booking_takes_a_seat_and_its_cancellation_gives_it_back(
    desk: tuple[Appointments, ManualClock],
) -> None:
    appointments, _ = desk
    [slot, *_] = await appointments.free_slots(OFFICE, SERVICE, None, 1)
    receipt = await appointments.book(request(slot))
    assert receipt.booking.state == "booked" and receipt.token
    after = {
        s["slot_start"]: s["seats_left"] for s in await appointments.free_slots(OFFICE, SERVICE, None, 1)
    }
    assert after.get(slot["slot_start"], 0) == slot["seats_left"] - 1

    cancelled = await appointments.cancel(receipt.token)
    assert cancelled.state == "cancelled"
    again = {
        s["slot_start"]: s["seats_left"] for s in await appointments.free_slots(OFFICE, SERVICE, None, 1)
    }
    assert again[slot["slot_start"]] == slot["seats_left"]
    with pytest.raises(BookingNotChangeable):
        await appointments.cancel(receipt.token)


async def test_fifty_citizens_racing_for_the_last_seats_get_exactly_as_many_bookings(
    desk: tuple[Appointments, ManualClock],
) -> None:
    appointments, _ = desk
    [slot, *_] = await appointments.free_slots(OFFICE, SERVICE, None, 1)
    seats = slot["seats_left"]
    results = await asyncio.gather(
        *(appointments.book(request(slot, n)) for n in range(50)), return_exceptions=True
    )
    booked = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(booked) == seats and all(isinstance(r, SlotFull) for r in refused), refused[:3]
    assert slot["slot_start"] not in {
        s["slot_start"] for s in await appointments.free_slots(OFFICE, SERVICE, None, 1)
    }


async def test_a_slot_that_has_begun_is_no_longer_offered(desk: tuple[Appointments, ManualClock]) -> None:
    appointments, clock = desk
    [first, second, *_] = await appointments.free_slots(OFFICE, SERVICE, None, 1)
    clock.set(datetime.fromisoformat(first["slot_start"]) + timedelta(minutes=1))
    offered = [s["slot_start"] for s in await appointments.free_slots(OFFICE, SERVICE, None, 1)]
    assert first["slot_start"] not in offered and second["slot_start"] in offered
