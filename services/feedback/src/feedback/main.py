"""create_app(settings): the feedback service's runtime, stores, consumers and HTTP routes."""

from __future__ import annotations

from fastapi import FastAPI
from servicekit.clock import SYSTEM_CLOCK, Clock
from servicekit.runtime import ServiceRuntime

from feedback import api, city
from feedback.handlers import build_event_router
from feedback.settings import Settings
from feedback.store import FeedbackStore
from feedback.usecases import Feedback, Monitoring


def create_app(settings: Settings | None = None, *, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    settings = settings or Settings()
    runtime = ServiceRuntime(settings)
    runtime.idempotency()
    store = FeedbackStore(runtime.db)
    runtime.add_aggregates(store.requests, store.alerts)
    runtime.on_start.append(store.ensure_indexes)
    feedback = Feedback(store, settings, clock, publish_all=runtime.producer.publish_all)
    runtime.consume(build_event_router(feedback), group_id=settings.consumer_group or None)
    runtime.every(3600, feedback.forget_old_texts)
    runtime.every(3600, feedback.fold_visit_facts)
    app = runtime.create_app(
        title="OneWindow feedback",
        description="Visit ratings, low-rating alerts and the office's numbers, built from the event stream.",
        routers=[api.citizens, api.supervisors, city.router],
        errors=api.ERRORS,
    )
    app.state.store = store
    app.state.revocations = store.catalog  # staff tokens revoked before expiry (servicekit.auth)
    app.state.feedback = feedback
    app.state.monitoring = Monitoring(
        store, expires_days=settings.expires_days, max_export_days=settings.max_export_days, clock=clock
    )
    return app
