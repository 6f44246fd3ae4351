"""The routing rule and the lifecycle, pinned without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from ticketing import domain
from ticketing.domain import InvalidTransition, QueueRules, RecallLimitReached, Ticket, TicketState
from ticketing.store import ticket_document, ticket_from

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
SLA = 15 * 60
RULES = QueueRules()


def ticket(seq: int, minutes_ago: float, **fields: object) -> Ticket:
    at = NOW - timedelta(minutes=minutes_ago)
    base = Ticket(
        ticket_id=f"t{seq}",
        office_id="o",
        number=domain.format_number("А", seq),
        seq=seq,
        local_day=date(2025, 3, 3),
        service_ids=["s1"],
        zone_id="z1",
        channel="kiosk",
        issued_at=at,
        queued_at=at,
        token_digest="d",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def called_order(*tickets: Ticket, services: tuple[str, ...] = ("s1",)) -> list[str]:
    return [t.ticket_id for t in domain.order_for_call(tickets, list(services), NOW, SLA, RULES)]


def test_first_come_first_served_among_plain_tickets() -> None:
    assert called_order(ticket(2, 3), ticket(1, 5), ticket(3, 1)) == ["t1", "t2", "t3"]


def test_a_priority_category_goes_before_plain_tickets_that_came_earlier() -> None:
    assert called_order(ticket(1, 5), ticket(2, 1, priority_category="pregnant")) == ["t2", "t1"]


def test_a_due_appointment_goes_first_even_before_priority() -> None:
    appointment = ticket(3, 0.5, appointment_id="ap1", appointment_at=NOW - timedelta(minutes=1))
    priority = ticket(2, 4, priority_category="veteran")
    assert called_order(ticket(1, 6), priority, appointment) == ["t3", "t2", "t1"]


def test_an_appointment_checked_in_long_before_its_slot_waits_like_everyone_else() -> None:
    early = ticket(2, 1, appointment_id="ap1", appointment_at=NOW + timedelta(minutes=40))
    assert called_order(ticket(1, 3), early) == ["t1", "t2"]


def test_an_appointment_is_due_a_few_minutes_before_its_slot() -> None:
    soon = ticket(2, 1, appointment_id="ap1", appointment_at=NOW + timedelta(minutes=4))
    assert called_order(ticket(1, 3), soon) == ["t2", "t1"]


def test_ageing_calls_a_long_waiting_plain_ticket_before_fresh_priority_ones() -> None:
    aged = ticket(1, 11)  # 11 of 15 minutes: past two thirds of the SLA
    fresh_priority = [ticket(n, 1, priority_category="disability") for n in range(2, 6)]
    assert called_order(*fresh_priority, aged)[0] == "t1"


def test_a_transferred_ticket_keeps_its_issue_time_and_is_raised() -> None:
    transferred = ticket(1, 8, raised=True, queued_at=NOW)
    assert called_order(ticket(2, 7), ticket(3, 2, priority_category="infant"), transferred) == [
        "t1",
        "t3",
        "t2",
    ]


def test_only_tickets_for_the_windows_services_are_candidates() -> None:
    other = ticket(1, 9, service_ids=["s2"])
    assert called_order(other, ticket(2, 1)) == ["t2"]
    assert called_order(other, ticket(2, 1), services=("s1", "s2")) == ["t1", "t2"]


def test_called_and_finished_tickets_are_not_candidates() -> None:
    assert called_order(ticket(1, 9, state=TicketState.CALLED), ticket(2, 1, state=TicketState.DONE)) == []


def test_numbers_have_three_digits_and_grow_to_four_after_999() -> None:
    assert domain.format_number("А", 17) == "А017"
    assert domain.format_number("Б", 999) == "Б999"
    assert domain.format_number("Б", 1000) == "Б1000"


def test_recall_is_limited_then_no_show_is_the_way() -> None:
    called, event = domain.call(ticket(1, 3), 4, "op", NOW)
    assert event.call_no == 1 and event.waited_seconds == 180
    for call_no in (2, 3):
        called, event = domain.recall(called, 4, "op", NOW, RULES)
        assert event.call_no == call_no
    with pytest.raises(RecallLimitReached):
        domain.recall(called, 4, "op", NOW, RULES)
    gone, no_show = domain.no_show(called, 4, NOW)
    assert gone.state == TicketState.NO_SHOW and no_show.calls == 3


def test_completing_twice_is_refused() -> None:
    called, _ = domain.call(ticket(1, 3), 4, "op", NOW)
    serving, _ = domain.start(called, 4, "op", NOW + timedelta(minutes=1))
    done, event = domain.complete(serving, 4, "op", "served", NOW + timedelta(minutes=9))
    assert done.state == TicketState.DONE and event.service_seconds == 480 and event.next_service_id is None
    with pytest.raises(InvalidTransition):
        domain.complete(done, 4, "op", "served", NOW + timedelta(minutes=10))
    with pytest.raises(InvalidTransition):
        domain.recall(done, 4, "op", NOW, RULES)


def test_an_operator_cannot_act_on_a_ticket_called_to_another_window() -> None:
    called, _ = domain.call(ticket(1, 3), 4, "op", NOW)
    with pytest.raises(InvalidTransition):
        domain.start(called, 5, "op", NOW)


def test_a_multi_service_visit_goes_back_to_the_queue_for_the_next_service() -> None:
    visit = ticket(1, 10, service_ids=["s1", "s2"])
    called, _ = domain.call(visit, 4, "op", NOW)
    serving, _ = domain.start(called, 4, "op", NOW)
    later = NOW + timedelta(minutes=5)
    requeued, event = domain.complete(serving, 4, "op", "served", later, next_zone_id="z2")
    assert event.next_service_id == "s2"
    assert requeued.state == TicketState.WAITING and requeued.service_id == "s2" and requeued.zone_id == "z2"
    assert requeued.raised and requeued.issued_at == visit.issued_at and requeued.queued_at == later
    assert requeued.at_window is None


def test_transfer_changes_the_service_and_keeps_the_ticket() -> None:
    called, _ = domain.call(ticket(1, 3), 4, "op", NOW)
    moved, event = domain.transfer(called, 4, "s9", "z3", NOW)
    assert (moved.state, moved.service_id, moved.zone_id, moved.number) == (
        TicketState.WAITING,
        "s9",
        "z3",
        "А001",
    )
    assert event.to_service_id == "s9" and event.service_id == "s1"


def test_a_citizen_cannot_cancel_a_ticket_already_being_served() -> None:
    called, _ = domain.call(ticket(1, 3), 4, "op", NOW)
    serving, _ = domain.start(called, 4, "op", NOW)
    with pytest.raises(InvalidTransition):
        domain.cancel(serving, "citizen", NOW)
    cancelled, event = domain.cancel(ticket(2, 1), "office_closed", NOW)
    assert cancelled.state == TicketState.CANCELLED and event.reason == "office_closed"


def test_a_ticket_survives_the_round_trip_through_its_document() -> None:
    original = ticket(7, 2, priority_category="veteran", service_ids=["s1", "s2"])
    assert ticket_from(ticket_document(original)) == original
