"""Events published by the feedback service: requests, ratings and low-rating alerts."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.common import Identifier, Language, Sealed
from contracts.envelope import EventData


class _FeedbackEvent(EventData):
    TOPIC = "feedback.feedback"

    request_id: Identifier
    ticket_id: Identifier
    service_id: Identifier


class FeedbackRequested(_FeedbackEvent):
    """A visit is over: its rating link, for the notifier to send to the contact the ticket left."""

    EVENT_TYPE = "feedback.FeedbackRequested"
    # v2: `token_sealed` may be null (the ticket left no contact). A v1 consumer dead-letters such an
    # event, so the notifier is deployed before feedback (docs/design.md, "Contract changes").
    EVENT_VERSION = 2

    expires_at: AwareDatetime
    language: Language = "ru"
    token_sealed: Sealed | None = Field(
        default=None,
        description=(
            "The link's token, sealed for the notifier. Null: the ticket's TicketIssued carried no "
            "contact, so there is nobody to send a link to (the ticket's printed link and the "
            "window's rating screen still answer the request). Sealed whenever feedback did not "
            "see the TicketIssued."
        ),
    )


class FeedbackGiven(_FeedbackEvent):
    EVENT_TYPE = "feedback.FeedbackGiven"

    rating: int = Field(ge=1, le=5)
    tags: list[str] = Field(default_factory=list)
    has_comment: bool = False
    window_no: int | None = None
    operator_ref: str | None = None


class TimelineEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: AwareDatetime
    what: str = Field(examples=["ticketing.TicketCalled"])
    detail: str = ""


class FeedbackAlertRaised(_FeedbackEvent):
    EVENT_TYPE = "feedback.FeedbackAlertRaised"

    alert_id: Identifier
    rating: int = Field(ge=1, le=5)
    tags: list[str] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)


class FeedbackAlertResolved(_FeedbackEvent):
    EVENT_TYPE = "feedback.FeedbackAlertResolved"

    alert_id: Identifier
    resolved_by: str
    has_note: bool = Field(
        default=False,
        description="The supervisor wrote a note; the note itself stays in feedback (personal data)",
    )
    note: str = Field(
        default="",
        max_length=2000,
        description=(
            "Always empty: a supervisor's free text may name the citizen, so it never travels in "
            "events (docs/privacy.md). Kept so consumers of the first schema still read the event."
        ),
    )
