"""Nearby offices: when the wait for a service here is over the office's target, another office that
offers the same service and is meaningfully faster, travel included ("Novo-Savinovsky, 2.1 km: ~5 min").

Every office's QueueStatus already reaches the notifier (it is on the hall boards: waiting, estimate
and open windows per service); the catalog copy says where each office is and what it offers. A
suggestion needs the other office to be issuing now and to have a window open for the service.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from contracts import calendar
from contracts.catalog import GeoPoint, OfficeConfigured
from fastapi import APIRouter, Depends, Query, Request
from servicekit.catalog_view import CatalogView
from servicekit.runtime import from_app_state

from notifier.api import UnknownBoard

# Across town by public transport: about four minutes a kilometre, never under five minutes.
MINUTES_PER_KM = 4.0
MIN_TRAVEL_MINUTES = 5
# "Meaningfully faster": the trip and the wait there save at least this much, and a third of the wait.
MIN_SAVING_MINUTES = 10
SUGGESTED = 3


def distance_km(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat, dlon = lat2 - lat1, math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


@dataclass(frozen=True)
class Candidate:
    office: OfficeConfigured
    line: Mapping[str, Any] | None  # the service's line of the office's last QueueStatus


def suggest(
    here: OfficeConfigured,
    here_line: Mapping[str, Any] | None,
    candidates: list[Candidate],
    now: datetime,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the wait here, the faster offices best first); none unless the wait here is over the target."""
    here_wait = int(here_line["estimated_wait_minutes"]) if here_line else 0
    over = here_wait > here.sla.max_wait_minutes
    status = {"estimated_wait_minutes": here_wait, "sla_minutes": here.sla.max_wait_minutes, "over_sla": over}
    if not over:
        return status, []
    found = []
    for candidate in candidates:
        office, line = candidate.office, candidate.line
        if office.office_id == here.office_id or office.retired or line is None or not line["open_windows"]:
            continue
        stops = calendar.issuing_stops_at(office, now)
        if not calendar.is_open(office, now) or (stops is not None and now >= stops):
            continue
        km = distance_km(here.location, office.location) if here.location and office.location else None
        travel = (
            max(MIN_TRAVEL_MINUTES, math.ceil(km * MINUTES_PER_KM)) if km is not None else MIN_TRAVEL_MINUTES
        )
        wait = int(line["estimated_wait_minutes"])
        total = travel + wait
        if here_wait - total < max(MIN_SAVING_MINUTES, here_wait / 3):
            continue
        found.append(
            {
                "office_id": office.office_id,
                "name": office.name.model_dump(),
                "address": office.address.model_dump(),
                "distance_km": round(km, 1) if km is not None else None,
                "travel_minutes": travel,
                "estimated_wait_minutes": wait,
                "total_minutes": total,
                "saves_minutes": here_wait - total,
            }
        )
    return status, sorted(found, key=lambda s: (s["total_minutes"], s["office_id"]))[:SUGGESTED]


router = APIRouter(tags=["nearby"])
Catalog = Annotated[CatalogView, Depends(from_app_state("catalog", CatalogView))]


def _line(board: Mapping[str, Any] | None, service_id: str) -> Mapping[str, Any] | None:
    services = (board or {}).get("waiting", {}).get("services", [])
    return next((s for s in services if s["service_id"] == service_id), None)


@router.get(
    "/offices/{office_id}/nearby",
    summary="Other offices offering the service with a meaningfully shorter wait, travel included",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "office_id": "kzn-kirov-moskov",
                        "service_id": "household-certificate",
                        "here": {"estimated_wait_minutes": 42, "sla_minutes": 15, "over_sla": True},
                        "offices": [
                            {
                                "office_id": "kzn-novo-savin",
                                "name": {"ru": "МФЦ Ново-Савиновского района", "tt": None, "en": None},
                                "address": {"ru": "Казань, ул. Карбышева, 37", "tt": None, "en": None},
                                "distance_km": 2.1,
                                "travel_minutes": 9,
                                "estimated_wait_minutes": 5,
                                "total_minutes": 14,
                                "saves_minutes": 28,
                            }
                        ],
                    }
                }
            }
        }
    },
)
async def nearby(
    office_id: str,
    request: Request,
    catalog: Catalog,
    service_id: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")],
) -> dict[str, Any]:
    here = await catalog.office(office_id)
    service = await catalog.service(service_id)
    if here is None or service is None:
        raise UnknownBoard(f"office {office_id!r} or service {service_id!r} is not known to the notifier")
    store = request.app.state.store
    candidates = []
    for offering in service.offerings:
        office = await catalog.office(offering.office_id)
        if office is not None and offering.office_id != office_id:
            candidates.append(Candidate(office, _line(await store.board(offering.office_id), service_id)))
    status, offices = suggest(
        here, _line(await store.board(office_id), service_id), candidates, datetime.now(UTC)
    )
    return {"office_id": office_id, "service_id": service_id, "here": status, "offices": offices}
