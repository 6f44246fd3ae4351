"""The supervisor's history against a fixture computed by hand (the sums are written beside each figure)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from feedback import domain

A, B = "household-certificate", "burial-plot"


def visit(
    ticket: str,
    day: str,
    service: str,
    wait: int = 0,
    serve: int = 0,
    operator: str = "op-1",
    outcome: str = "served",
) -> domain.Visit:
    at = datetime.fromisoformat(f"{day}T09:00:00+00:00")
    leg = domain.Leg(
        f"{ticket}-done", at, service, 1, operator, outcome, wait, serve, None, appointment=False
    )
    return domain.Visit(
        ticket,
        "o1",
        date.fromisoformat(day),
        "A001",
        service,
        (service,),
        legs=(leg,) if outcome != "no_show" else (),
        calls=(domain.Call(f"{ticket}-call", at, service, 1, 1, operator, wait),),
        no_show=domain.NoShow(f"{ticket}-no-show", at, service, 1, calls=3) if outcome == "no_show" else None,
    )


VISITS = [
    visit("v1", "2025-03-28", A, 300, 600, "op-1"),  # Friday, ISO week 13, March
    visit("v2", "2025-03-28", B, 1200, 300, "op-2"),  # 20 min: outside the 15 min target
    visit("v3", "2025-03-30", A, 600, 420, "op-1"),  # Sunday, still week 13
    visit("v4", "2025-03-31", A, 120, 240, "op-2"),  # Monday, week 14, still March
    visit("v5", "2025-04-01", B, 960, 480, "op-1", "documents_missing"),  # April; 16 min: outside
    visit("v6", "2025-04-02", A, operator="op-1", outcome="no_show"),
    visit("v0", "2025-03-27", A, 60, 60, "op-1"),  # the day before the period: not counted
]
RATINGS = {"v1": 5, "v2": 2, "v4": 4, "v0": 1}


def history() -> dict[str, Any]:
    return domain.compute_history(
        VISITS,
        RATINGS,
        start=date(2025, 3, 28),
        end=date(2025, 4, 2),
        sla=domain.SlaTargets(max_wait_minutes=15),
        online_services={A},
    )


def pick(figures: dict[str, Any], *keys: str) -> tuple[Any, ...]:
    return tuple(figures[key] for key in keys)


KEYS = ("visits", "wait_mean_seconds", "wait_p50_seconds", "wait_p90_seconds", "within_sla_share", "no_shows")


def test_the_period_in_total() -> None:
    total = history()["total"]
    # waits 300 1200 600 120 960 -> sorted 120 300 600 960 1200: mean 3180/5 = 636.0,
    # p50 = ceil(2.5) = 3rd = 600, p90 = ceil(4.5) = 5th = 1200; within 900 s: 300 600 120 = 3/5
    assert pick(total, *KEYS) == (6, 636.0, 600, 1200, 0.6, 1)
    assert total["service_mean_seconds"] == 408.0  # (600+300+420+240+480)/5
    assert total["no_show_rate"] == 0.1667  # 1 / (1 no-show + 5 served)
    assert (total["ratings"], total["rating_mean"]) == (3, 3.67)  # 5 2 4 (v0 is outside)


def test_per_service_and_per_operator() -> None:
    result = history()
    services = {row["service_id"]: row for row in result["services"]}
    # A: waits 300 600 120 -> mean 340.0, p50 2nd of 3 = 300, p90 3rd = 600; all within; 1 no-show of 4
    assert pick(services[A], *KEYS) == (4, 340.0, 300, 600, 1.0, 1)
    assert services[A]["rating_mean"] == 4.5  # 5 and 4
    # B: waits 1200 960 -> mean 1080.0, p50 1st = 960, p90 2nd = 1200; none within
    assert pick(services[B], *KEYS) == (2, 1080.0, 960, 1200, 0.0, 0)
    operators = {row["operator_ref"]: row for row in result["operators"]}
    # op-1: v1 v3 v5 served, v6 called and not come: waits 300 600 960 -> 620.0, p50 600; 2/3 within
    assert pick(operators["op-1"], *KEYS) == (4, 620.0, 600, 960, 0.6667, 1)
    # op-2: v2 v4: waits 1200 120 -> 660.0, p50 1st = 120; 1/2 within; ratings 2 and 4
    assert pick(operators["op-2"], *KEYS) == (2, 660.0, 120, 1200, 0.5, 0)
    assert operators["op-2"]["rating_mean"] == 3.0


def test_days_weeks_and_months() -> None:
    result = history()
    assert [(d["day"], d["visits"]) for d in result["days"]] == [
        ("2025-03-28", 2),
        ("2025-03-29", 0),
        ("2025-03-30", 1),
        ("2025-03-31", 1),
        ("2025-04-01", 1),
        ("2025-04-02", 1),
    ]
    assert result["days"][1]["wait_mean_seconds"] is None
    weeks = [(w["period"], w["from"], w["to"], w["visits"], w["wait_mean_seconds"]) for w in result["weeks"]]
    # week 13 (only 28-30 March inside): waits 300 1200 600 -> 700.0; week 14: waits 120 960 -> 540.0
    assert weeks == [
        ("2025-W13", "2025-03-28", "2025-03-30", 3, 700.0),
        ("2025-W14", "2025-03-31", "2025-04-02", 3, 540.0),
    ]
    months = [
        (m["period"], m["visits"], m["wait_mean_seconds"], m["wait_p50_seconds"]) for m in result["months"]
    ]
    # March: waits 300 1200 600 120 -> 555.0, p50 2nd of (120 300 600 1200) = 300; April: 960
    assert months == [("2025-03", 4, 555.0, 300), ("2025-04", 2, 960.0, 960)]
