"""Wiring of the appointments service: runtime, stores, catalog view, consumers, periodic sweep, routes."""

from __future__ import annotations

from fastapi import FastAPI
from servicekit.catalog_view import CatalogView
from servicekit.clock import SYSTEM_CLOCK, Clock
from servicekit.privacy import erasure_router
from servicekit.runtime import ServiceRuntime

from appointments import api
from appointments.guard import FailureLimiter
from appointments.handlers import build_event_router
from appointments.metrics import AppointmentMetrics
from appointments.settings import Settings
from appointments.store import AppointmentStore
from appointments.usecases import Appointments


def create_app(settings: Settings, *, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    runtime = ServiceRuntime(settings)
    store = AppointmentStore(runtime.db)
    view = CatalogView(runtime.db)
    appointments = Appointments(store, view, settings, clock, AppointmentMetrics(runtime.registry))
    runtime.add_aggregates(store.bookings)
    runtime.idempotency()
    runtime.on_start.append(store.ensure_indexes)
    runtime.consume(build_event_router(view, appointments))
    runtime.every(settings.sweep_seconds, appointments.sweep)
    runtime.every(3600, appointments.forget_past_contacts)
    app = runtime.create_app(
        title="OneWindow appointments",
        description="Book a time with a specialist, check in at the kiosk, manage the booking by its link.",
        routers=[api.router, erasure_router(appointments.erase_contact)],
        errors=api.ERRORS,
    )
    app.state.appointments = appointments
    app.state.revocations = view  # staff tokens revoked before expiry (servicekit.auth)
    app.state.checkin_limiter = FailureLimiter(
        settings.checkin_max_failures, settings.checkin_failure_window_seconds
    )
    app.state.checkin_code_limiter = FailureLimiter(
        settings.checkin_max_code_failures, settings.checkin_failure_window_seconds
    )
    return app
