"""OneWindow event contracts: pure pydantic models shared by every service and outside consumer."""

from contracts.envelope import Envelope, EventData, new_event
from contracts.registry import (
    REGISTRY,
    TOPICS,
    TopicSpec,
    UnknownEvent,
    decode,
    encode,
    event_class,
    topic_for,
)

__all__ = [
    "REGISTRY",
    "TOPICS",
    "Envelope",
    "EventData",
    "TopicSpec",
    "UnknownEvent",
    "decode",
    "encode",
    "event_class",
    "new_event",
    "topic_for",
]
