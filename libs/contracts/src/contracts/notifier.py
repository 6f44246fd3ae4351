"""Events published by the notifier service: what was delivered and what could not be."""

from __future__ import annotations

from datetime import date
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


class NotificationWithheld(_NotificationEvent):
    """A citizen message that was not sent, on purpose: the recipient had all the messages one
    office-local day allows (`daily_cap`). It is not sent later either: a call, a reminder or a
    confirmation is stale by the next day, and a flood would only move to the next morning."""

    EVENT_TYPE = "notifier.NotificationWithheld"

    reason: Literal["daily_cap"]
    day: date = Field(description="The office-local day whose cap was reached")
    allowed: int = Field(ge=0, description="Messages one recipient may get that day")
