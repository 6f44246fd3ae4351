"""create_app(settings): the catalog's runtime, store and routes; nothing else."""

from __future__ import annotations

from fastapi import FastAPI
from servicekit.runtime import ServiceRuntime

from catalog import api
from catalog.handlers import build_event_router
from catalog.settings import Settings
from catalog.store import CatalogStore
from catalog.usecases import Catalog

DESCRIPTION = (
    "Offices (zones, windows, hours, SLA targets) and the services citizens come for, with their "
    "document checklists; staff accounts and sign-in. Publishes OfficeConfigured, ServicePublished, "
    "ServiceRetired, StaffAccessRevoked and the audit log (AuditRecorded), which it also reads back "
    "into the log admins search."
)


def create_app(settings: Settings) -> FastAPI:
    runtime = ServiceRuntime(settings)
    runtime.idempotency()
    store = CatalogStore(runtime.db)
    runtime.add_aggregates(store.offices, store.services, store.staff, store.office_settings)
    runtime.on_start.append(store.ensure_indexes)
    catalog = Catalog(store, settings)
    runtime.consume(build_event_router(catalog))
    app = runtime.create_app(
        title="OneWindow catalog", description=DESCRIPTION, routers=api.ROUTERS, errors=api.ERRORS
    )
    app.state.catalog = catalog
    app.state.revocations = catalog  # a disabled admin's token stops working here too
    return app
