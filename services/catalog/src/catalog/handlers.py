"""What the catalog consumes: its own audit stream, projected into the audit log admins read.

Every AuditRecorded leaves through the outbox of the change it records (one write), so the log is
built from the stream and cannot miss a change that happened.
"""

from __future__ import annotations

from collections.abc import Sequence

from contracts.catalog import AuditRecorded
from servicekit.kafka import EventRouter, Received

from catalog.usecases import Catalog


def build_event_router(catalog: Catalog) -> EventRouter:
    router = EventRouter()

    @router.on_batch(AuditRecorded)
    async def project_audit(received: Sequence[Received]) -> None:
        await catalog.project_audit([(item.envelope, item.data) for item in received])

    return router
