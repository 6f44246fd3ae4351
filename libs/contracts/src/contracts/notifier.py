"""Events published by the notifier service: what was delivered and what could not be."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from contracts.common import Identifier
from contracts.envelope import EventData

NotificationChannel = Literal["sms", "email", "board", "log"]


class _NotificationEvent(EventData):
    TOPIC = "notifier.notification"

    notification_id: Identifier
    channel: NotificationChannel
    template: str
    cause_event_id: str
    recipient_ref: str = Field(description="A keyed hash of the recipient, never the address itself")


class NotificationSent(_NotificationEvent):
    EVENT_TYPE = "notifier.NotificationSent"

    attempts: int = Field(ge=1)


class NotificationFailed(_NotificationEvent):
    EVENT_TYPE = "notifier.NotificationFailed"

    attempts: int = Field(ge=1)
    error: str
