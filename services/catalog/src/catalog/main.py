"""create_app(settings): the catalog's runtime, store and routes; nothing else."""

from __future__ import annotations

from fastapi import FastAPI
from servicekit.runtime import ServiceRuntime

from catalog import api
from catalog.settings import Settings
from catalog.store import CatalogStore
from catalog.usecases import Catalog

DESCRIPTION = (
    "Offices (zones, windows, hours, SLA targets) and the services citizens come for, with their "
    "document checklists. Publishes OfficeConfigured, ServicePublished and ServiceRetired; consumes nothing."
)


def create_app(settings: Settings) -> FastAPI:
    runtime = ServiceRuntime(settings)
    runtime.idempotency()
    store = CatalogStore(runtime.db)
    runtime.add_aggregates(store.offices, store.services, store.audit, store.office_settings)
    runtime.on_start.append(store.ensure_indexes)
    app = runtime.create_app(
        title="OneWindow catalog", description=DESCRIPTION, routers=api.ROUTERS, errors=api.ERRORS
    )
    app.state.catalog = Catalog(store, settings)
    return app
