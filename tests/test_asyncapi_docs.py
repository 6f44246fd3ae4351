"""The committed AsyncAPI 3 documents (docs/asyncapi) describe what each service really sends and receives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from servicekit.asyncapi import main as export_asyncapi
from servicekit.sealing import generate_keypair

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ["catalog", "ticketing", "appointments", "feedback", "notifier"]


def test_committed_asyncapi_documents_are_current(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    public, private = generate_keypair()
    monkeypatch.setenv("ONEWINDOW_NOTIFIER_PUBLIC_KEY", public)
    monkeypatch.setenv("NOTIFIER_PRIVATE_KEY", private)
    monkeypatch.setenv("ONEWINDOW_JWT_SECRET", "asyncapi-test")
    assert export_asyncapi([*SERVICES, "--out", str(tmp_path)]) == 0
    for service in SERVICES:
        fresh = json.loads((tmp_path / f"{service}.json").read_text())
        committed = json.loads((ROOT / "docs" / "asyncapi" / f"{service}.json").read_text())
        assert fresh == committed, f"run `make asyncapi` and commit docs/asyncapi/{service}.json"


def test_ticketing_receives_check_ins_and_sends_every_ticket_event() -> None:
    document = json.loads((ROOT / "docs" / "asyncapi" / "ticketing.json").read_text())
    receives = {name for name, op in document["operations"].items() if op["action"] == "receive"}
    sends = {name for name, op in document["operations"].items() if op["action"] == "send"}
    assert "receiveAppointmentCheckedIn" in receives
    assert {"sendTicketIssued", "sendTicketCalled", "sendServiceCompleted", "sendQueueStatus"} <= sends
    assert document["channels"]["ticketing_ticket"]["address"] == "ticketing.ticket"
