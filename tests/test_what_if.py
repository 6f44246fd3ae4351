"""The what-if simulator (testbed.simday): exact waits on a hand-checked day, and more windows never hurt."""

from __future__ import annotations

import itertools

import pytest
from testbed.simday import OfficePlan, ServicePlan, Visit, default_office, schedule, simulate

ONE_SERVICE = (ServicePlan("housing-certificate", "А", "z1", 10, 1.0),)


def visit(n: int, arrival: int, service_seconds: int, **extra: object) -> Visit:
    fields: dict[str, object] = {
        "visit_id": f"v{n}",
        "office_id": "o",
        "arrival": arrival,
        "service_id": "housing-certificate",
        "kind": "walk_in",
        "service_seconds": service_seconds,
        "fate": "served",
        **extra,
    }
    return Visit(**fields)  # type: ignore[arg-type]


def test_one_window_serves_in_arrival_order_and_priority_goes_first() -> None:
    plan = OfficePlan("o", {"z1": 1}, ONE_SERVICE)
    day = [
        visit(1, arrival=0, service_seconds=600),  # served 0..600
        visit(2, arrival=60, service_seconds=300),  # passed by v4 (priority, v2 not yet aged): called at 900
        visit(3, arrival=120, service_seconds=600),  # called at 1200
        visit(4, arrival=200, service_seconds=300, kind="priority", priority_category="pregnant"),  # at 600
        visit(5, arrival=1300, service_seconds=60, fate="no_show"),  # window busy with v3 until 1800
    ]

    result = simulate(plan, day)

    waits = {v: [leg.waited for leg in legs] for v, legs in result.legs.items()}
    assert waits == {"v1": [0], "v4": [400], "v2": [840], "v3": [1080], "v5": [500]}
    assert [a.visit_id for a in result.actions if a.kind == "call"] == ["v1", "v4", "v2", "v3", "v5"]
    assert result.terminal("v5") == "no_show"
    figures = result.figures()
    assert figures["wait_mean_seconds"] == (0 + 400 + 840 + 1080) / 4  # the no-show is not a served leg
    assert figures["within_sla_share"] == 0.75  # 1080 s > 15 min
    assert result.closed_at == 1800 + 120  # three calls of a no-show keep the window two minutes


def test_a_transfer_waits_again_in_the_other_zone() -> None:
    services = (*ONE_SERVICE, ServicePlan("document-issue", "В", "z2", 5, 0.0))
    plan = OfficePlan("o", {"z1": 1, "z2": 1}, services)
    day = [
        visit(1, 0, 600, fate="transfer", transfer_to="document-issue", second_service_seconds=300),
        visit(2, 10, 600, service_id="document-issue"),
    ]

    result = simulate(plan, day)

    # v1 leaves window 1 after 180 s; window 2 is busy with v2 until 610.
    assert [(leg.window_no, leg.queued_at, leg.called_at) for leg in result.legs["v1"]] == [
        (1, 0, 0),
        (2, 180, 610),
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_more_windows_never_lengthen_the_mean_wait_on_the_same_arrivals(seed: int) -> None:
    plan = default_office("o", 300)
    means: list[float] = []
    for windows in range(3, 12):
        staffed = plan.with_windows(windows)
        day = simulate(staffed, schedule(staffed, 300, seed))
        means.append(float(day.figures()["wait_mean_seconds"] or 0))
    assert all(later <= earlier for earlier, later in itertools.pairwise(means)), means


def test_the_same_seed_gives_the_same_day_whatever_the_windows() -> None:
    plan = default_office("o", 200)
    assert schedule(plan.with_windows(3), 200, 7) == schedule(plan.with_windows(9), 200, 7)
