"""The feedback rules and the numbers, without I/O."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from feedback import domain

T0 = datetime(2025, 3, 10, 6, 0, tzinfo=UTC)


def fact(kind: str, version: int, minutes: int, **data: Any) -> domain.TicketFact:
    return domain.TicketFact(
        event_id=f"e{version}-{kind}",
        event_type=f"ticketing.{kind}",
        occurred_at=T0 + timedelta(minutes=minutes),
        office_id="o1",
        aggregate_version=version,
        data={"ticket_id": "t1", "number": "A001", "service_id": "s1", **data},
        local_day=date(2025, 3, 10),
    )


VISIT = [
    fact(
        "TicketIssued",
        1,
        0,
        service_ids=["s1"],
        zone_id="z1",
        channel="kiosk",
        local_day="2025-03-10",
        issued_at=T0.isoformat(),
        position=1,
        estimated_wait_minutes=3,
    ),
    fact("TicketCalled", 2, 5, window_no=3, zone_id="z1", call_no=1, operator_ref="op", waited_seconds=300),
    fact("ServiceStarted", 3, 6, window_no=3, operator_ref="op"),
    fact(
        "ServiceCompleted",
        4,
        16,
        window_no=3,
        zone_id="z1",
        operator_ref="op",
        outcome="served",
        waited_seconds=300,
        service_seconds=600,
        channel="kiosk",
    ),
]


def project(facts: list[domain.TicketFact]) -> domain.Visit:
    visit: domain.Visit | None = None
    for item in facts:
        visit = domain.apply_ticket_event(visit, item) or visit
    assert visit is not None
    return visit


def test_the_visit_is_the_same_whatever_the_order_and_duplicates_of_its_events() -> None:
    expected = project(VISIT)
    assert expected.status == "done" and len(expected.legs) == 1
    for order in itertools.permutations(VISIT):
        again = project([*order, *order[:2]])
        assert replace(again, applied=()) == replace(expected, applied=())
    assert domain.apply_ticket_event(expected, VISIT[1]) is None


def test_a_ticket_s_events_applied_together_make_the_visit_they_make_one_by_one() -> None:
    for order in itertools.permutations(VISIT):
        together = domain.apply_ticket_events(None, [*order, *order[:2]])
        assert together == project([*order, *order[:2]])
        assert together is not None and together.applied == tuple(item.event_id for item in order)
    known = project(VISIT[:2])
    assert domain.apply_ticket_events(known, VISIT[1:]) == project([*VISIT[:2], *VISIT[1:]])
    assert domain.apply_ticket_events(known, VISIT[:2]) is None
    issued = fact("TicketIssued", 1, 0, **{**VISIT[0].data, "citizen_token_digest": "d"})
    assert project([VISIT[3], issued]).ticket_token_digest == "d"


def test_a_late_republished_call_does_not_send_a_served_ticket_back_to_called() -> None:
    visit = project([VISIT[0], VISIT[2], VISIT[3]])
    assert project([*[VISIT[0], VISIT[2], VISIT[3]], VISIT[1]]).status == visit.status == "done"


def test_the_timeline_tells_the_visit_in_time_order() -> None:
    entries = domain.timeline(project(list(reversed(VISIT))))
    assert [e.what for e in entries] == [f.event_type for f in VISIT]
    assert "waited 5 min 00 s" in entries[1].detail


def test_p90_is_the_exact_nearest_rank() -> None:
    assert domain.percentile_nearest_rank(list(range(1, 11)), 0.9) == 9
    assert domain.percentile_nearest_rank([7], 0.9) == 7
    assert domain.percentile_nearest_rank(list(range(1, 12)), 0.9) == 10  # ceil(9.9) = 10th
    assert domain.percentile_nearest_rank([], 0.9) is None


def test_an_expired_a_used_and_an_unknown_link_fail_alike() -> None:
    live = domain.FeedbackRequest(
        "fr-t1", "t1", "o1", "s1", T0.date(), 3, "A001", "op", "ru", "d1", None, T0 + timedelta(days=3), T0
    )
    reasons = set()
    for request, now in ((None, T0), (live, T0 + timedelta(days=3)), (replace(live, state="answered"), T0)):
        with pytest.raises(domain.FeedbackLinkUnusable) as error:
            domain.ensure_usable(request, now)
        reasons.add(str(error.value))
    assert reasons == {domain.GENERIC_LINK_REASON}
    answered = domain.answer(live, rating=2, tags=["politeness", "politeness"], comment="  ", now=T0)
    assert answered.tags == ("politeness",) and answered.comment is None


def test_a_resolved_alert_stays_resolved() -> None:
    alert = domain.Alert("al-1", "fr-1", "t1", "o1", "s1", 3, "op", 1, (), (), raised_at=T0)
    acknowledged = domain.acknowledge(alert, by="sup", now=T0)
    assert domain.acknowledge(acknowledged, by="another", now=T0) == acknowledged
    resolved = domain.resolve(acknowledged, by="sup", note="called back", now=T0)
    assert resolved.state == "resolved"
    with pytest.raises(domain.AlertAlreadyResolved):
        domain.resolve(resolved, by="sup", note="again", now=T0)
    with pytest.raises(domain.AlertAlreadyResolved):
        domain.acknowledge(resolved, by="sup", now=T0)


def test_an_appointment_wait_is_held_to_the_appointment_target() -> None:
    def visit(tid: str, wait: int, appointment: bool) -> domain.Visit:
        leg = domain.Leg(f"{tid}-done", T0, "s1", 3, "op", "served", wait, 60, None, appointment=appointment)
        return domain.Visit(tid, "o1", T0.date(), "A001", "s1", ("s1",), legs=(leg,))

    figures = domain.compute_kpis(
        [visit("a", 360, True), visit("b", 360, False)],
        {"a": 5},
        sla=domain.SlaTargets(),
        online_services={"s1"},
    )
    assert (figures["within_sla"], figures["rating_mean"], figures["online_could_have_done"]) == (1, 5.0, 2)


def test_an_export_period_is_bounded() -> None:
    with pytest.raises(domain.BadPeriod):
        domain.days_between(date(2025, 3, 2), date(2025, 3, 1), limit=92)
    with pytest.raises(domain.BadPeriod):
        domain.days_between(date(2025, 1, 1), date(2025, 12, 31), limit=92)
    assert len(domain.days_between(date(2025, 3, 1), date(2025, 3, 31), limit=92)) == 31


def test_a_stored_visit_folded_with_its_later_facts_is_the_visit_of_all_its_events() -> None:
    expected = domain.apply_ticket_events(None, VISIT)
    stored = domain.apply_ticket_events(None, VISIT[:1])
    assert expected is not None and stored is not None
    for order in itertools.permutations(VISIT[1:]):
        # read in any order, with a redelivered fact and one folded into the visit already
        assert domain.fold(stored, [*order, order[0], VISIT[0]]) == expected
    assert domain.fold(expected, VISIT) == expected  # all of them folded in before
    after = domain.apply_ticket_events(stored, [VISIT[1], VISIT[0], VISIT[2], VISIT[1]])
    assert after is not None
    assert domain.new_facts(stored, after, [VISIT[1], VISIT[0], VISIT[2], VISIT[1]]) == VISIT[1:3]
