"""The contracts: committed schemas match the code, changes stay compatible, decoding is tolerant."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from contracts import REGISTRY, TOPICS, Envelope, decode, encode, new_event
from contracts.compat import incompatibilities
from contracts.registry import MalformedEvent, UnknownEvent, partition_key, schemas_as_json
from contracts.samples import sample_office, sample_service
from contracts.ticketing import TicketCalled

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


def ticket_called() -> Envelope:
    return new_event(
        TicketCalled(
            ticket_id="t1",
            number="А017",
            service_id="s",
            window_no=3,
            zone_id="z1",
            call_no=1,
            operator_ref="op",
            waited_seconds=60,
        ),
        producer="ticketing",
        office_id="o1",
        aggregate_id="t1",
        aggregate_version=3,
    )


def test_every_event_has_a_topic_in_the_registry() -> None:
    for event_type, model in REGISTRY.items():
        assert model.TOPIC in TOPICS, event_type
        assert event_type.split(".")[0] == model.TOPIC.split(".")[0], "an event lives in its producer's topic"


def test_committed_schemas_are_current() -> None:
    stale = [
        name
        for name, text in schemas_as_json().items()
        if not (SCHEMAS / name).exists() or (SCHEMAS / name).read_text() != text
    ]
    assert not stale, f"run `uv run python -m contracts.schemas` and commit: {stale}"


@pytest.mark.parametrize("path", sorted(SCHEMAS.glob("*.v*.json")), ids=lambda p: p.name)
def test_a_committed_schema_version_only_changes_compatibly(path: Path) -> None:
    committed = json.loads(path.read_text())
    current = json.loads(schemas_as_json().get(path.name, "{}"))
    if not current:
        # The version was bumped (a new file exists): old versions stay committed for consumers.
        assert any(name.startswith(committed["x-event-type"] + ".v") for name in schemas_as_json()), path.name
        return
    assert incompatibilities(committed, current) == []


def test_compatibility_check_catches_removed_renamed_narrowed_and_new_required() -> None:
    old = {
        "properties": {"a": {"type": "string"}, "b": {"anyOf": [{"type": "integer"}, {"type": "null"}]}},
        "required": ["a"],
    }
    assert incompatibilities(old, {"properties": {"b": old["properties"]["b"]}, "required": []}) == [
        "a: removed"
    ]
    narrowed = {"properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "required": ["a"]}
    assert incompatibilities(old, narrowed) == ["b: type ['integer', 'null'] -> ['integer']"]
    required = {"properties": {**old["properties"], "c": {"type": "string"}}, "required": ["a", "c"]}
    assert incompatibilities(old, required) == ["c: new required property"]
    widened = {"properties": {**old["properties"], "c": {"type": "string", "default": ""}}, "required": ["a"]}
    assert incompatibilities(old, widened) == []


def test_decode_round_trip_and_keys() -> None:
    called = ticket_called()
    envelope, data = decode(encode(called))
    assert envelope == called and isinstance(data, TicketCalled) and data.window_no == 3
    assert partition_key(called) == b"o1"
    office = new_event(
        sample_office(), producer="catalog", office_id="o1", aggregate_id="o1", aggregate_version=1
    )
    service = new_event(
        sample_service(),
        producer="catalog",
        office_id="kazan",
        aggregate_id="housing-certificate",
        aggregate_version=1,
    )
    assert partition_key(office) == b"o1" and partition_key(service) == b"housing-certificate"


def test_unknown_event_types_are_told_apart_from_malformed_bytes() -> None:
    called = ticket_called()
    future = encode(called).replace(b"ticketing.TicketCalled", b"ticketing.TicketTeleported")
    with pytest.raises(UnknownEvent):
        decode(future)
    with pytest.raises(MalformedEvent):
        decode(b"\x00garbage")
    with pytest.raises(MalformedEvent):
        decode(encode(called).replace(b'"window_no":3', b'"window_no":"three"'))


def test_new_fields_from_a_newer_producer_are_ignored() -> None:
    called = ticket_called()
    raw = json.loads(encode(called))
    raw["data"]["floor"] = 2
    raw["trace_parent"] = "00-abc"
    _, data = decode(json.dumps(raw))
    assert isinstance(data, TicketCalled)
