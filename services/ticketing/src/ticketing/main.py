"""create_app(settings): the ticketing service: runtime, office owners, event router, HTTP routes, jobs."""

from __future__ import annotations

from contracts.catalog import OfficeConfigured
from fastapi import FastAPI, Request, Response
from servicekit.catalog_view import CatalogView
from servicekit.clock import SYSTEM_CLOCK, Clock
from servicekit.kafka import _consumer_security as consumer_security
from servicekit.runtime import ServiceRuntime

from ticketing import api
from ticketing.forwarding import Forwarder, unavailable
from ticketing.handlers import build_event_router
from ticketing.owner import NotOwner, Offices, OfficeUnavailable, Ownership, OwnershipCollector
from ticketing.projections import ReadModels
from ticketing.settings import Settings
from ticketing.store import OfficeLog
from ticketing.usecases import TicketDesk


def create_app(settings: Settings | None = None, *, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    settings = settings or Settings()
    runtime = ServiceRuntime(settings)
    catalog = CatalogView(runtime.db)
    models = ReadModels(runtime.db)
    offices = Offices(settings, OfficeLog(runtime.db), models, runtime.producer, clock)
    desk = TicketDesk(offices, models, catalog, runtime.producer, settings, clock)
    forwarder = Forwarder(offices, settings)
    runtime.idempotency()

    async def known_offices() -> list[OfficeConfigured]:
        return [OfficeConfigured.model_validate(doc["data"]) async for doc in catalog.offices.find({})]

    ownership = Ownership(settings, offices, known_offices, consumer_security(settings))
    runtime.registry.register(OwnershipCollector(offices))
    runtime.consume(build_event_router(catalog, desk, forwarder))
    runtime.on_start.append(models.ensure_indexes)
    runtime.on_start.append(offices.publisher_start)
    runtime.on_start.append(ownership.start)
    runtime.on_stop.append(ownership.stop)
    runtime.on_stop.append(offices.stop)
    runtime.on_stop.append(desk.queue_status.stop)
    runtime.on_stop.append(forwarder.close)
    runtime.every(settings.sla_check_seconds, desk.watch_sla)
    runtime.every(settings.end_of_day_check_seconds, desk.close_day)
    app = runtime.create_app(
        title="OneWindow ticketing",
        description="Electronic queue: tickets, windows, calling, wait estimates, queue status.",
        routers=[api.router],
        errors=api.ERRORS,
    )

    async def to_owner(request: Request, error: Exception) -> Response:
        assert isinstance(error, NotOwner)
        return await forwarder.forward(request, error)

    async def retry_later(_: Request, error: Exception) -> Response:
        return unavailable(str(error))

    app.add_exception_handler(NotOwner, to_owner)
    app.add_exception_handler(OfficeUnavailable, retry_later)
    app.state.desk = desk
    app.state.revocations = catalog  # staff tokens revoked before expiry (servicekit.auth)
    app.state.forwarder = forwarder
    app.state.ownership = ownership
    return app
