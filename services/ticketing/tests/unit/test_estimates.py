"""Wait estimates, rolling service times, queue summaries and SLA warnings, pinned without I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from ticketing import domain
from ticketing.domain import Ticket

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def waiting_ticket(minutes_ago: float, **fields: object) -> Ticket:
    at = NOW - timedelta(minutes=minutes_ago)
    base = Ticket(
        ticket_id="t1",
        office_id="o",
        number="А001",
        seq=1,
        local_day=date(2025, 3, 3),
        service_ids=["s1"],
        zone_id="z1",
        channel="kiosk",
        issued_at=at,
        queued_at=at,
        token_digest="d",
    )
    return replace(base, **fields)  # type: ignore[arg-type]


def test_the_first_in_line_waits_half_a_service_on_average() -> None:
    assert domain.estimate_wait_minutes(1, 600, 1) == 5


def test_more_open_windows_shorten_the_wait() -> None:
    assert domain.estimate_wait_minutes(5, 600, 1) == 45
    assert domain.estimate_wait_minutes(5, 600, 3) == 15


def test_with_no_window_open_the_estimate_assumes_one_will_open() -> None:
    assert domain.estimate_wait_minutes(3, 600, 0) == domain.estimate_wait_minutes(3, 600, 1)


def test_the_rolling_mean_starts_from_the_first_sample_and_moves_a_fifth_toward_new_ones() -> None:
    assert domain.rolling_mean(None, 300) == 300
    assert domain.rolling_mean(600, 300) == 540
    assert domain.rolling_mean(600, 10**9) == 600 + 0.2 * (4 * 3600 - 600)


def test_queue_summary_counts_waiting_per_service_and_the_longest_wait() -> None:
    waiting = [("s1", NOW - timedelta(minutes=7)), ("s1", NOW - timedelta(minutes=2)), ("s2", NOW)]
    total, longest, lines = domain.summarize_queue(waiting, {"s1": 2, "s3": 1}, {"s1": 600.0}, NOW)
    assert (total, longest) == (3, 420)
    by_service = {line.service_id: line for line in lines}
    assert set(by_service) == {"s1", "s2", "s3"}
    assert by_service["s1"].waiting == 2 and by_service["s1"].open_windows == 2
    assert by_service["s1"].estimated_wait_minutes == domain.estimate_wait_minutes(3, 600, 2)
    assert by_service["s3"].waiting == 0


def test_sla_breach_is_predicted_once_before_it_happens_then_reported_once() -> None:
    ticket = waiting_ticket(10)
    ticket, events = domain.check_sla(ticket, NOW, 15 * 60, estimated_wait_seconds=6 * 60)
    assert [e.EVENT_TYPE for e in events] == ["ticketing.SlaBreachPredicted"]
    ticket, events = domain.check_sla(
        ticket, NOW + timedelta(minutes=1), 15 * 60, estimated_wait_seconds=6 * 60
    )
    assert events == []
    ticket, events = domain.check_sla(ticket, NOW + timedelta(minutes=5), 15 * 60, estimated_wait_seconds=60)
    assert [e.EVENT_TYPE for e in events] == ["ticketing.SlaBreached"]
    _, events = domain.check_sla(ticket, NOW + timedelta(minutes=9), 15 * 60, estimated_wait_seconds=60)
    assert events == []


def test_no_prediction_while_the_ticket_will_be_called_in_time() -> None:
    _, events = domain.check_sla(waiting_ticket(3), NOW, 15 * 60, estimated_wait_seconds=5 * 60)
    assert events == []


def test_appointment_tickets_have_the_shorter_sla() -> None:
    assert domain.sla_seconds_for(waiting_ticket(0, appointment_id="ap"), 15, 5) == 300
    assert domain.sla_seconds_for(waiting_ticket(0), 15, 5) == 900
