"""The city's digital share across offices against a fixture computed by hand.

Office A offers s1 and s2 online (s3 only in the office); office B offers s1 and s2 online;
office C had nothing in the period.

    office A  s1: online 4 (1 after a visit), in office 1, could 2, sent online 1  -> 4/5 = 0.8  meets
              s2: online 1, in office 1, could 1                                   -> 1/2 = 0.5  below
              s3: in office 1 (no online alternative)                              -> 0.0, not held
              total: online 5, in office 3, could 3, sent 1, after 1               -> 5/8 = 0.625
    office B  s1: in office 2, could 2                                             -> 0.0  below
              s2: online 7, in office 1, could 1                                   -> 7/8 = 0.875 meets
              total: online 7, in office 3, could 3                                -> 7/10 = 0.7
    city      s1: online 4, in office 3, could 4, sent 1, after 1, 2 offices       -> 4/7 = 0.5714
              s2: online 8, in office 2, could 2, 2 offices                        -> 8/10 = 0.8
              s3: in office 1, 1 office                                            -> 0.0, not held
              total: online 12, in office 6, could 6, sent 1, after 1              -> 12/18 = 0.6667
"""

from __future__ import annotations

from feedback.domain import compute_city_digital_share, compute_digital_share

from .test_digital_share import filed, visit  # legs of a visit, applications filed online

OFFICE_A = compute_digital_share(
    [visit(("s1", "served")), visit(("s1", "sent_online")), visit(("s2", "served")), visit(("s3", "served"))],
    filed("s1", 4, after_visit=1) + filed("s2", 1),
    online_services={"s1", "s2"},
)
OFFICE_B = compute_digital_share(
    [visit(("s1", "served")), visit(("s2", "served"), ("s1", "served"))],
    filed("s2", 7),
    online_services={"s1", "s2"},
)
OFFICE_C = compute_digital_share([], [], online_services={"s1"})


def test_the_city_sums_its_offices_per_office_and_per_service_against_the_goal() -> None:
    city = compute_city_digital_share({"b": OFFICE_B, "a": OFFICE_A, "c": OFFICE_C})
    assert city["goal"] == 0.78
    assert {k: city[k] for k in ("online", "in_office", "could_have_been_online", "sent_online")} == {
        "online": 12,
        "in_office": 6,
        "could_have_been_online": 6,
        "sent_online": 1,
    }
    assert (city["online_after_office_visit"], city["share_online"], city["meets_goal"]) == (1, 0.6667, False)

    offices = {row["office_id"]: row for row in city["offices"]}
    assert [row["office_id"] for row in city["offices"]] == ["a", "b", "c"]
    assert (offices["a"]["online"], offices["a"]["in_office"], offices["a"]["share_online"]) == (5, 3, 0.625)
    assert (offices["a"]["meets_goal"], offices["a"]["services_below_goal"]) == (False, 1)
    assert (offices["b"]["online"], offices["b"]["in_office"], offices["b"]["share_online"]) == (7, 3, 0.7)
    assert offices["b"]["services_below_goal"] == 1
    assert (
        offices["c"]["share_online"],
        offices["c"]["meets_goal"],
        offices["c"]["services_below_goal"],
    ) == (
        None,
        None,
        0,
    )

    services = {row["service_id"]: row for row in city["services"]}
    assert services["s1"] == {
        "service_id": "s1",
        "has_online_alternative": True,
        "offices": 2,
        "online": 4,
        "in_office": 3,
        "could_have_been_online": 4,
        "sent_online": 1,
        "online_after_office_visit": 1,
        "share_online": 0.5714,
        "meets_goal": False,
    }
    assert (services["s2"]["online"], services["s2"]["in_office"], services["s2"]["share_online"]) == (
        8,
        2,
        0.8,
    )
    assert (services["s2"]["meets_goal"], services["s2"]["offices"]) == (True, 2)
    # Only in the office: counted, never held to the goal.
    assert (services["s3"]["share_online"], services["s3"]["meets_goal"], services["s3"]["offices"]) == (
        0.0,
        None,
        1,
    )


def test_a_city_without_offices_has_no_share() -> None:
    city = compute_city_digital_share({})
    assert (city["share_online"], city["meets_goal"], city["offices"], city["services"]) == (
        None,
        None,
        [],
        [],
    )
