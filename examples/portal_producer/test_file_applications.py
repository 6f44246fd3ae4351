"""The portal example: CSV rows become valid, stable events (no broker needed)."""

from __future__ import annotations

import pytest
from contracts import decode, encode
from contracts.portal import OnlineApplicationFiled

from .file_applications import application_event

ROW = {
    "application_id": "rt-2026-0002",
    "service_id": "household-certificate",
    "office_id": "kzn-kirov-moskov",
    "filed_at": "2026-03-02T09:40:00+00:00",
    "channel": "mobile_app",
    "after_office_visit": "true",
}


def test_a_row_is_an_event_with_a_stable_id() -> None:
    envelope = application_event(ROW)
    parsed, data = decode(encode(envelope))
    assert isinstance(data, OnlineApplicationFiled)
    assert parsed.office_id == "kzn-kirov-moskov" and data.after_office_visit and data.channel == "mobile_app"
    assert application_event(ROW).event_id == envelope.event_id


def test_a_bad_row_is_refused_with_a_reason() -> None:
    with pytest.raises(ValueError, match="filed_at"):
        application_event({**ROW, "filed_at": "2026-03-02T09:40:00"})  # no zone
