"""The digital share against a fixture computed by hand (below each figure: how it was counted)."""

from __future__ import annotations

from datetime import UTC, datetime

from feedback import domain
from feedback.domain import Leg, OnlineApplication, Visit

ONLINE = {"household-certificate", "kindergarten-queue"}  # "burial-plot" has no online alternative

AT = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)


def visit(*legs: tuple[str, str]) -> Visit:
    """A visit with these (service, outcome) legs; only the legs count here."""
    served = tuple(
        Leg(f"e{n}", AT, service, 1, "op-1", outcome, 0, 0, next_service_id=None, appointment=False)
        for n, (service, outcome) in enumerate(legs)
    )
    return Visit("t1", "o1", AT.date(), "A001", "s1", ("s1",), legs=served)


VISITS = [
    visit(("household-certificate", "served")),
    visit(("household-certificate", "served")),
    visit(("household-certificate", "sent_online")),
    visit(("household-certificate", "documents_missing"), ("kindergarten-queue", "served")),
    visit(("burial-plot", "served")),
    visit(),  # a no-show: no leg, counts nowhere
]


def filed(service: str, times: int, after_visit: int = 0) -> list[OnlineApplication]:
    """`times` applications filed online, the first `after_visit` of them after an office visit."""
    return [
        OnlineApplication(f"{service}-{n}", "o1", service, "regional_portal", n < after_visit, AT, AT.date())
        for n in range(times)
    ]


APPLICATIONS = filed("household-certificate", 7, after_visit=1) + filed("kindergarten-queue", 4)


def test_online_and_in_office_applications_per_service_and_in_total() -> None:
    share = domain.compute_digital_share(VISITS, APPLICATIONS, online_services=ONLINE)
    by_service = {row["service_id"]: row for row in share["services"]}

    household = by_service["household-certificate"]
    # in the office: 2 served (sent_online and documents_missing are not applications); online: 7
    assert (household["in_office"], household["online"]) == (2, 7)
    assert household["share_online"] == 0.7778 and household["meets_goal"] is False  # 7/9 < 0.78
    assert household["could_have_been_online"] == 4  # every leg of an online service
    assert household["sent_online"] == 1 and household["online_after_office_visit"] == 1

    kindergarten = by_service["kindergarten-queue"]
    assert (kindergarten["in_office"], kindergarten["online"]) == (1, 4)
    assert kindergarten["share_online"] == 0.8 and kindergarten["meets_goal"] is True  # 4/5

    burial = by_service["burial-plot"]
    assert burial["has_online_alternative"] is False and burial["could_have_been_online"] == 0
    assert (burial["in_office"], burial["online"], burial["share_online"]) == (1, 0, 0.0)
    assert burial["meets_goal"] is None  # not held to the goal: it cannot be done online

    # the office: 11 online / (11 + 4 in office) = 0.7333
    assert (share["online"], share["in_office"]) == (11, 4)
    assert share["share_online"] == 0.7333 and share["goal"] == 0.78 and share["meets_goal"] is False
    assert share["could_have_been_online"] == 5 and share["sent_online"] == 1
    assert [row["service_id"] for row in share["services"]] == sorted(by_service)


def test_a_period_with_nothing_has_no_share() -> None:
    share = domain.compute_digital_share([], [], online_services=ONLINE)
    assert share["share_online"] is None and share["meets_goal"] is None and share["services"] == []
