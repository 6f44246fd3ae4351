"""The city administration's view across offices: the digital share per office and per service
against the city's goal (78% of applications filed online), over a period.

Its own router beside the office routes of `feedback.api`: the figures are each office's
`Monitoring.digital_share`, summed by `domain.compute_city_digital_share`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from servicekit.auth import Principal, require
from servicekit.runtime import from_app_state

from feedback import domain
from feedback.usecases import Monitoring

router = APIRouter(tags=["city"])
Monitor = Annotated[Monitoring, Depends(from_app_state("monitoring", Monitoring))]
# Supervisors of any office and admins: the figures are counts, no person in them.
CityReader = Annotated[Principal, require("supervisor")]

CITY_SHARE_EXAMPLE = {
    "from": "2025-03-03",
    "to": "2025-03-09",
    "goal": 0.78,
    "online": 9,
    "in_office": 5,
    "could_have_been_online": 4,
    "sent_online": 1,
    "online_after_office_visit": 1,
    "share_online": 0.6429,
    "meets_goal": False,
    "offices": [
        {
            "office_id": "kzn-kirov-moskov",
            "name": {"ru": "Экспресс-офис", "en": "Express office"},
            "online": 7,
            "in_office": 3,
            "could_have_been_online": 3,
            "sent_online": 1,
            "online_after_office_visit": 1,
            "share_online": 0.7,
            "meets_goal": False,
            "services_below_goal": 1,
        }
    ],
    "services": [
        {
            "service_id": "household-certificate",
            "title": {"ru": "Справка о составе семьи", "en": "Household certificate"},
            "has_online_alternative": True,
            "offices": 2,
            "online": 9,
            "in_office": 5,
            "could_have_been_online": 4,
            "sent_online": 1,
            "online_after_office_visit": 1,
            "share_online": 0.6429,
            "meets_goal": False,
        }
    ],
}


async def city_digital_share(monitoring: Monitoring, start: date, end: date) -> dict[str, Any]:
    """Every office the catalog lists (retired ones too: their past counts), one after another."""
    catalog = monitoring.store.catalog
    offices = await catalog.offices_all()
    per_office = {
        office.office_id: await monitoring.digital_share(office.office_id, start, end) for office in offices
    }
    figures = domain.compute_city_digital_share(per_office)
    names = {office.office_id: office.name.model_dump(exclude_none=True) for office in offices}
    for row in figures["offices"]:
        row["name"] = names.get(row["office_id"])
    for row in figures["services"]:
        service = await catalog.service(row["service_id"], include_retired=True)
        row["title"] = service.title.model_dump(exclude_none=True) if service else None
    return {"from": start.isoformat(), "to": end.isoformat(), **figures}


@router.get(
    "/city/digital-share",
    summary="The city's digital share over a period, per office and per service, against the 78% goal",
    responses={200: {"content": {"application/json": {"example": CITY_SHARE_EXAMPLE}}}},
)
async def get_city_digital_share(
    principal: CityReader,
    monitoring: Monitor,
    start: Annotated[date, Query(alias="from", examples=["2025-03-03"])],
    end: Annotated[date, Query(alias="to", examples=["2025-03-09"])],
) -> dict[str, Any]:
    return await city_digital_share(monitoring, start, end)
