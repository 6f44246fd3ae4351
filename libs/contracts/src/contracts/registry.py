"""The registry: event type -> model, topic specs, and wire encoding/decoding."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError

from contracts import appointments, catalog, feedback, notifier, portal, ticketing
from contracts.envelope import Envelope, EventData


@dataclass(frozen=True)
class TopicSpec:
    name: str
    compacted: bool = False
    # "office": key = office_id, so one office's events stay in order; "aggregate": key = aggregate_id
    key: Literal["office", "aggregate"] = "office"

    @property
    def dead_letters(self) -> str:
        return f"{self.name}.dlt"


TOPICS: dict[str, TopicSpec] = {
    spec.name: spec
    for spec in (
        TopicSpec("catalog.office", compacted=True, key="aggregate"),
        TopicSpec("catalog.service", compacted=True, key="aggregate"),
        # The audit log of administrative changes: keyed by office, kept (never compacted).
        TopicSpec("catalog.audit"),
        # Staff tokens revoked before their expiry (keyed by the staff member's pseudonym, compacted).
        TopicSpec("catalog.staff", compacted=True, key="aggregate"),
        TopicSpec("ticketing.ticket"),
        TopicSpec("ticketing.window"),
        TopicSpec("ticketing.queue", compacted=True),
        TopicSpec("appointments.appointment"),
        TopicSpec("feedback.feedback"),
        TopicSpec("notifier.notification"),
        # Outside producers: the city portal reports applications filed online (keyed by office).
        TopicSpec("portal.application"),
    )
}

_MODULES = (catalog, ticketing, appointments, feedback, notifier, portal)


def _collect() -> dict[str, type[EventData]]:
    found: dict[str, type[EventData]] = {}
    for module in _MODULES:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, EventData)
                and "EVENT_TYPE" in vars(value)
                and value.__module__ == module.__name__
            ):
                found[value.EVENT_TYPE] = value
    return found


REGISTRY: dict[str, type[EventData]] = _collect()


class UnknownEvent(Exception):
    """An envelope whose event_type this version of the contracts does not know."""

    def __init__(self, envelope: Envelope) -> None:
        super().__init__(envelope.event_type)
        self.envelope = envelope


class MalformedEvent(ValueError):
    """Bytes that are not a valid envelope, or a payload that does not match its type."""


def event_class(event_type: str) -> type[EventData]:
    return REGISTRY[event_type]


def topic_for(event_type: str) -> TopicSpec:
    return TOPICS[REGISTRY[event_type].TOPIC]


def partition_key(envelope: Envelope) -> bytes:
    spec = TOPICS[REGISTRY[envelope.event_type].TOPIC]
    return (envelope.office_id if spec.key == "office" else envelope.aggregate_id).encode()


def encode(envelope: Envelope) -> bytes:
    return envelope.model_dump_json().encode()


def decode(raw: bytes | str) -> tuple[Envelope, EventData]:
    """Parse and validate an envelope and its payload.

    Raises MalformedEvent for bytes that are not a valid event, UnknownEvent for a type this
    version does not know (consumers skip those: forward compatibility).
    """
    try:
        envelope = Envelope.model_validate_json(raw)
    except (ValidationError, ValueError) as error:
        raise MalformedEvent(str(error)[:500]) from error
    model = REGISTRY.get(envelope.event_type)
    if model is None:
        raise UnknownEvent(envelope)
    try:
        return envelope, model.model_validate(envelope.data)
    except ValidationError as error:
        raise MalformedEvent(f"{envelope.event_type}: {str(error)[:500]}") from error


def json_schema(model: type[EventData]) -> dict[str, object]:
    schema = model.model_json_schema(mode="serialization")
    schema["x-event-type"] = model.EVENT_TYPE
    schema["x-event-version"] = model.EVENT_VERSION
    schema["x-topic"] = model.TOPIC
    return schema


def schemas_as_json() -> dict[str, str]:
    """File name -> JSON text, for every event and the envelope."""
    files = {
        f"{model.EVENT_TYPE}.v{model.EVENT_VERSION}.json": json.dumps(
            json_schema(model), indent=2, sort_keys=True
        )
        + "\n"
        for model in REGISTRY.values()
    }
    files["envelope.json"] = json.dumps(Envelope.model_json_schema(), indent=2, sort_keys=True) + "\n"
    return files
