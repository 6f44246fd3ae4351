"""Nearby offices: suggested only when the wait here is over the target and the trip saves real time."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.catalog import GeoPoint
from contracts.samples import sample_office
from notifier.nearby import Candidate, distance_km, suggest

NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # a Tuesday, noon in Kazan


def office(office_id: str, lat: float, lon: float, *, all_day: bool = True):  # type: ignore[no-untyped-def]
    return sample_office(office_id, all_day=all_day).model_copy(
        update={"location": GeoPoint(lat=lat, lon=lon)}
    )


def line(estimate: int, open_windows: int = 1) -> dict[str, int | str]:
    return {"service_id": "s", "waiting": 3, "estimated_wait_minutes": estimate, "open_windows": open_windows}


HERE = office("kirov", 55.8040, 49.0580)
NOVO = office("novo-savin", 55.8251, 49.1403)  # 5.7 km away
VAKHITOV = office("vakhitov", 55.7887, 49.1221)  # 4.4 km away


def test_distance_between_two_kazan_offices() -> None:
    assert round(distance_km(HERE.location, NOVO.location), 1) == 5.7  # type: ignore[arg-type]


def test_a_faster_office_is_suggested_with_its_distance_and_the_time_it_saves() -> None:
    here, offices = suggest(
        HERE,
        line(45),
        [Candidate(NOVO, line(5)), Candidate(VAKHITOV, line(20)), Candidate(HERE, line(0))],
        NOW,
    )
    assert here == {"estimated_wait_minutes": 45, "sla_minutes": 15, "over_sla": True}
    # Novo-Savinovsky: 5.7 km x 4 = 23 min on the way + 5 waiting = 28, saves 17 (>= 10 and >= 15)
    # Vakhitovsky: 4.4 km -> 18 min + 20 = 38, saves 7: not worth the trip
    assert [(o["office_id"], o["distance_km"], o["total_minutes"], o["saves_minutes"]) for o in offices] == [
        ("novo-savin", 5.7, 28, 17)
    ]


def test_nothing_is_suggested_within_the_target_or_where_no_window_is_open() -> None:
    assert suggest(HERE, line(15), [Candidate(NOVO, line(1))], NOW)[1] == []
    assert (
        suggest(HERE, line(60), [Candidate(NOVO, line(1, open_windows=0)), Candidate(VAKHITOV, None)], NOW)[1]
        == []
    )


def test_an_office_that_is_closed_is_not_suggested() -> None:
    closed = office("closed", 55.80, 49.06, all_day=False)
    night = datetime(2026, 3, 3, 21, 0, tzinfo=UTC)  # midnight in Kazan
    assert suggest(HERE, line(60), [Candidate(closed, line(1))], night)[1] == []
