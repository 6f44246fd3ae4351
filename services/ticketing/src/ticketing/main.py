"""create_app(settings): the ticketing service: runtime, stores, event router, HTTP routes, periodic jobs."""

from __future__ import annotations

from fastapi import FastAPI
from servicekit.catalog_view import CatalogView
from servicekit.runtime import ServiceRuntime

from ticketing import api
from ticketing.desk import TicketDesk
from ticketing.handlers import build_event_router
from ticketing.settings import TicketingSettings
from ticketing.store import TicketStore


def create_app(settings: TicketingSettings | None = None) -> FastAPI:
    settings = settings or TicketingSettings()
    runtime = ServiceRuntime(settings)
    store = TicketStore(runtime.db)
    catalog = CatalogView(runtime.db)
    desk = TicketDesk(store, catalog, settings)
    runtime.add_aggregates(*store.aggregates)
    runtime.consume(build_event_router(catalog, desk))
    runtime.on_start.append(store.ensure_indexes)
    runtime.on_stop.append(desk.queue_status.stop)
    runtime.every(settings.sla_check_seconds, desk.watch_sla)
    runtime.every(settings.end_of_day_check_seconds, desk.close_day)
    app = runtime.create_app(
        title="OneWindow ticketing",
        description="Electronic queue: tickets, windows, calling, wait estimates, queue status.",
        routers=[api.router],
        errors=api.ERRORS,
    )
    app.state.desk = desk
    return app
