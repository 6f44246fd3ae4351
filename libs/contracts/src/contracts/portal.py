"""Events from outside producers: the city portal reports applications filed online.

The portal (uslugi.tatarstan.ru, or the federal Gosuslugi through it) is not a OneWindow service.
It publishes one `portal.OnlineApplicationFiled` per application it accepts for a municipal service,
on its own topic `portal.application`, keyed by the office the application belongs to (the envelope's
`office_id`: the district office that would have taken it in person). Feedback counts them against the
applications taken in the offices, for the city's digital-share goal. No applicant data travels:
`application_id` is the portal's own reference, never a name, phone or document number.

Rules for the producer: `event_id` stays the same when an application is sent again (consumers
deduplicate on `application_id`); `producer` is "portal"; `aggregate_id` is the `application_id`;
`occurred_at` is when the portal accepted the application.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from contracts.common import Identifier
from contracts.envelope import EventData


class OnlineApplicationFiled(EventData):
    EVENT_TYPE = "portal.OnlineApplicationFiled"
    TOPIC = "portal.application"

    application_id: Identifier = Field(
        description="The portal's reference of the application", examples=["rt-2025-0310-77412"]
    )
    service_id: Identifier = Field(description="The catalog's service id", examples=["household-certificate"])
    filed_at: AwareDatetime = Field(description="When the portal accepted the application")
    channel: Literal["regional_portal", "federal_portal", "mobile_app"] = Field(
        default="regional_portal", description="Where the citizen filed it"
    )
    after_office_visit: bool = Field(
        default=False,
        description="The citizen was sent online by an office (the portal saw a OneWindow referral code)",
    )
