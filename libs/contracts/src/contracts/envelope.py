"""The envelope every OneWindow event travels in, and the base class of event payloads."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Self, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator


class EventData(BaseModel):
    """Payload of one event type. Subclasses set the class variables below."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    EVENT_TYPE: ClassVar[str]
    EVENT_VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str]


D = TypeVar("D", bound=EventData)


class Envelope(BaseModel):
    """Metadata common to every event; `data` holds the payload in wire form."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: uuid.UUID = Field(description="Stable across retries and republishing")
    event_type: str = Field(examples=["ticketing.TicketCalled"])
    event_version: int = Field(ge=1)
    occurred_at: AwareDatetime
    producer: str
    correlation_id: str
    causation_id: str | None = None
    office_id: str
    aggregate_id: str
    aggregate_version: int = Field(ge=0)
    data: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    def payload(self, model: type[D]) -> D:
        """The payload parsed as `model` (which must match `event_type`)."""
        if model.EVENT_TYPE != self.event_type:
            raise TypeError(f"{self.event_type} is not {model.EVENT_TYPE}")
        return model.model_validate(self.data)

    def headers(self) -> dict[str, str]:
        """Envelope fields that also travel as Kafka headers (everything but `data`)."""
        return {
            "event_id": str(self.event_id),
            "event_type": self.event_type,
            "event_version": str(self.event_version),
            "occurred_at": self.occurred_at.isoformat(),
            "producer": self.producer,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id or "",
            "office_id": self.office_id,
            "aggregate_id": self.aggregate_id,
            "aggregate_version": str(self.aggregate_version),
        }

    def caused(self, data: EventData, **fields: Any) -> Envelope:
        """A new event caused by this one: same correlation, causation = this event."""
        fields.setdefault("office_id", self.office_id)
        return new_event(
            data,
            correlation_id=self.correlation_id,
            causation_id=str(self.event_id),
            **fields,
        )

    def with_id(self, event_id: uuid.UUID) -> Self:
        return self.model_copy(update={"event_id": event_id})


def new_event(
    data: EventData,
    *,
    producer: str,
    office_id: str,
    aggregate_id: str,
    aggregate_version: int,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    occurred_at: datetime | None = None,
) -> Envelope:
    """Wrap a payload in a fresh envelope (new stable event_id)."""
    event_id = uuid.uuid4()
    return Envelope(
        event_id=event_id,
        event_type=data.EVENT_TYPE,
        event_version=data.EVENT_VERSION,
        occurred_at=occurred_at or datetime.now(UTC),
        producer=producer,
        correlation_id=correlation_id or str(event_id),
        causation_id=causation_id,
        office_id=office_id,
        aggregate_id=aggregate_id,
        aggregate_version=aggregate_version,
        data=data.model_dump(mode="json"),
    )
