"""A visit's and an alert's documents are the ones stored before they were typed: same fields, same
order (a visit's now without its None and empty fields; those stored with them read the same)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from feedback import domain
from feedback.store import (
    alert_document,
    alert_from,
    application_document,
    application_from,
    changed_fields,
    fact_document,
    fact_from,
    folded,
    rating_document,
    rating_from,
    request_document,
    request_from,
    visit_document,
    visit_from,
    window_document,
    window_from,
)

T0 = datetime(2025, 3, 10, 6, 0, tzinfo=UTC)
CALLED, DONE = T0 + timedelta(minutes=5), T0 + timedelta(minutes=16)

# A served visit as the feedback consumer stored it (the rating link's digest came with TicketIssued).
STORED: dict[str, Any] = {
    "_id": "t1",
    "office_id": "o1",
    "local_day": "2025-03-10",
    "number": "A001",
    "service_id": "s1",
    "service_ids": ["s1"],
    "channel": "kiosk",
    "appointment_id": None,
    "priority_category": None,
    "issued_at": T0,
    "calls": [
        {
            "event_id": "e2",
            "at": CALLED,
            "service_id": "s1",
            "call_no": 1,
            "window_no": 3,
            "operator_ref": "op",
            "waited_seconds": 300,
        }
    ],
    "starts": [],
    "legs": [
        {
            "event_id": "e3",
            "at": DONE,
            "service_id": "s1",
            "window_no": 3,
            "operator_ref": "op",
            "outcome": "served",
            "waited_seconds": 300,
            "service_seconds": 600,
            "next_service_id": None,
            "appointment": False,
        }
    ],
    "transfers": [],
    "sla_breaches": [],
    "no_show": None,
    "cancelled": {"event_id": "e4", "at": DONE, "service_id": "s1", "reason": "operator"},
    "status": "done",
    "waiting_since": None,
    "status_key": [3, DONE],
    "applied": ["e1", "e2", "e3", "e4"],
    "ticket_token_digest": "digest-of-the-ticket-token",
}


def written(stored: dict[str, Any]) -> dict[str, Any]:
    """A document as written now: the same fields in the same order, without None and empty ones
    (a fact's None fields too)."""

    def kept(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: v for k, v in value.items() if v is not None}
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return [kept(v) for v in value]
        return value

    return {k: kept(v) for k, v in stored.items() if v is not None and v != []}


def test_a_stored_visit_reads_as_a_visit_and_writes_back_without_its_empty_fields() -> None:
    visit = visit_from(STORED)
    assert (visit.ticket_id, visit.local_day, visit.status_key) == ("t1", date(2025, 3, 10), (3, DONE))
    assert visit.legs[0].outcome == "served" and visit.cancelled is not None
    document = visit_document(visit)
    assert document == written(STORED)
    assert list(document) == list(written(STORED))
    assert "next_service_id" not in document["legs"][0] and document["legs"][0]["appointment"] is False
    assert [list(leg) for leg in document["legs"]] == [list(leg) for leg in written(STORED)["legs"]]
    assert visit_from(document) == visit


def test_a_visit_without_the_ticket_token_digest_stores_no_such_field() -> None:
    visit = replace(visit_from(STORED), ticket_token_digest=None)
    assert "ticket_token_digest" not in visit_document(visit)
    assert visit_from(visit_document(visit)) == visit


def test_a_new_visit_is_stored_without_its_empty_fields() -> None:
    fact = domain.TicketFact(
        event_id="e2",
        event_type="ticketing.TicketCalled",
        occurred_at=CALLED,
        office_id="o1",
        aggregate_version=2,
        data={
            "ticket_id": "t1",
            "number": "A001",
            "service_id": "s1",
            "call_no": 1,
            "window_no": 3,
            "operator_ref": "op",
            "waited_seconds": 300,
        },
        local_day=date(2025, 3, 10),
    )
    visit = domain.apply_ticket_event(None, fact)
    assert visit is not None
    expected = {
        **STORED,
        "channel": None,
        "issued_at": None,
        "legs": [],
        "cancelled": None,
        "status": "called",
        "status_key": [2, CALLED],
        "applied": ["e2"],
    }
    del expected["ticket_token_digest"]
    assert visit_document(visit) == written(expected)
    assert list(visit_document(visit)) == list(written(expected))
    assert visit_from(expected) == visit_from(visit_document(visit)) == visit


# An alert as the feedback consumer raised it (`rev` and `outbox` are the aggregate store's).
RAISED: dict[str, Any] = {
    "_id": "al-t1",
    "alert_id": "al-t1",
    "request_id": "fr-t1",
    "ticket_id": "t1",
    "office_id": "o1",
    "service_id": "s1",
    "window_no": None,
    "operator_ref": "op",
    "rating": 1,
    "tags": ["waiting_time"],
    "timeline": [{"at": "2025-03-10T06:00:00Z", "what": "ticketing.TicketIssued", "detail": "ticket A001"}],
    "raised_at": DONE,
    "state": "open",
}


def test_an_alert_reads_and_writes_back_its_document_and_a_decision_sets_only_its_fields() -> None:
    alert = alert_from({**RAISED, "rev": 2, "outbox": []})
    assert (alert.rev, alert.tags, alert.window_no) == (2, ("waiting_time",), None)
    assert alert_document(alert) == RAISED and list(alert_document(alert)) == list(RAISED)
    acknowledged = domain.acknowledge(alert, by="sup", now=DONE)
    assert changed_fields(alert_document(alert), alert_document(acknowledged)) == {
        "state": "acknowledged",
        "acknowledged_by": "sup",
        "acknowledged_at": DONE,
    }
    resolved = domain.resolve(acknowledged, by="sup", note="called back", now=DONE)
    assert list(changed_fields(alert_document(acknowledged), alert_document(resolved)).items()) == [
        ("state", "resolved"),
        ("resolved_by", "sup"),
        ("resolved_at", DONE),
        ("note", "called back"),
    ]
    assert changed_fields(alert_document(acknowledged), alert_document(acknowledged)) == {}


# A request as the feedback consumer created it (CREATED_FROM, `rev`, the outbox: the aggregate store's).
REQUESTED: dict[str, Any] = {
    "_id": "fr-t1",
    "ticket_id": "t1",
    "office_id": "o1",
    "service_id": "s1",
    "visit_day": "2025-03-10",
    "window_no": 3,
    "number": "A001",
    "operator_ref": "op",
    "language": "ru",
    "token_digest": "digest-of-the-link-token",
    "ticket_token_digest": None,
    "expires_at": DONE + timedelta(days=3),
    "requested_at": DONE,
    "state": "requested",
    "correlation_id": "visit-t1",
}


def test_a_request_reads_and_writes_back_its_document_and_an_answer_sets_only_its_fields() -> None:
    request = request_from({**REQUESTED, "rev": 1, "outbox": [], "created_from": "feedback:0:7"})
    assert (request.request_id, request.visit_day, request.rev) == ("fr-t1", date(2025, 3, 10), 1)
    assert request_document(request) == REQUESTED and list(request_document(request)) == list(REQUESTED)
    answered = domain.answer(request, rating=4, tags=["speed", "politeness"], comment=" ", now=DONE)
    assert list(changed_fields(request_document(request), request_document(answered)).items()) == [
        ("state", "answered"),
        ("rating", 4),
        ("tags", ["politeness", "speed"]),
        ("comment", None),
        ("answered_at", DONE),
    ]
    stored = {**REQUESTED, "state": "answered", "rating": 4, "tags": ["politeness", "speed"]}
    stored |= {"comment": None, "answered_at": DONE}
    assert request_document(request_from(stored)) == stored


def test_a_window_keeps_the_state_of_its_newest_event_in_the_document_it_had() -> None:
    stored = {
        "_id": "o1:3",
        "office_id": "o1",
        "window_no": 3,
        "zone_id": "z1",
        "operator_ref": "op",
        "state": "open",
        "order": [2, "2025-03-10T06:05:00+00:00"],
    }
    window = window_from(stored)
    assert window_document(window) == stored and list(window_document(window)) == list(stored)
    paused = replace(window, state="paused", order=(3, "2025-03-10T06:30:00+00:00"))
    assert domain.window_after(window, paused) == paused
    assert domain.window_after(paused, window) is None  # an older state, read late
    assert domain.window_after(window, window) is None  # a duplicate
    assert domain.window_after(None, window) == window


def test_a_rating_and_an_application_filed_online_keep_their_documents() -> None:
    rating = {
        "_id": "t1",
        "event_id": "e9",
        "office_id": "o1",
        "request_id": "fr-t1",
        "service_id": "s1",
        "operator_ref": "op",
        "window_no": 3,
        "rating": 2,
        "tags": ["waiting_time"],
        "given_at": DONE,
        "given_day": "2025-03-10",
    }
    assert rating_document(rating_from(rating)) == rating
    assert list(rating_document(rating_from(rating))) == list(rating)
    application = {
        "_id": "app-1",
        "office_id": "o1",
        "service_id": "s1",
        "channel": "regional_portal",
        "after_office_visit": True,
        "filed_at": DONE,
        "local_day": "2025-03-10",
    }
    assert application_document(application_from(application)) == application
    assert list(application_document(application_from(application))) == list(application)


def test_a_fact_document_reads_back_as_the_fact_under_its_visit() -> None:
    issued = domain.TicketFact(
        "e1", "ticketing.TicketIssued", T0, "o1", 1, {"ticket_id": "t1"}, date(2025, 3, 10)
    )
    visit = domain.new_visit("t1", replace(issued, data={"number": "A001", "service_id": "s1"}))
    called = domain.TicketFact(
        "e2",
        "ticketing.TicketCalled",
        CALLED,
        "o1",
        2,
        {"ticket_id": "t1", "window_no": 3, "waited_seconds": 300, "operator_ref": None},
        date(2025, 3, 11),  # its own day: not stored, the visit's is
    )
    doc = fact_document(visit, called)
    assert (doc["_id"], doc["ticket_id"], doc["office_id"], doc["local_day"]) == (
        "e2",
        "t1",
        "o1",
        "2025-03-10",
    )
    assert fact_from(doc) == replace(called, local_day=date(2025, 3, 10))
    other = {**doc, "_id": "e3", "ticket_id": "t2"}  # a fact of a visit not among those read
    assert folded([visit_document(visit)], [other]) == [visit]
