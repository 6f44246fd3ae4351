"""The one way a service builds the events it emits: its producer name and clock, and the cause
(same correlation, causation = the cause's id) when the event answers another one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from contracts import Envelope, EventData, new_event

from servicekit.clock import SYSTEM_CLOCK, Clock


@dataclass(frozen=True)
class Emitter:
    producer: str
    clock: Clock = SYSTEM_CLOCK

    def event(
        self,
        data: EventData,
        *,
        office_id: str,
        aggregate_id: str,
        aggregate_version: int,
        cause: Envelope | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> Envelope:
        """A fresh envelope for `data`: caused by `cause` when given, else with the ids given
        (a correlation of its own when none)."""
        return new_event(
            data,
            producer=self.producer,
            office_id=office_id,
            aggregate_id=aggregate_id,
            aggregate_version=aggregate_version,
            correlation_id=cause.correlation_id if cause is not None else correlation_id,
            causation_id=str(cause.event_id) if cause is not None else causation_id,
            occurred_at=occurred_at or self.clock.now(),
        )
