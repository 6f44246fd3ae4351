"""An operator's free text (transfer and pause reasons) goes into events: contacts typed into it are
masked at the edge, so they never reach Kafka, feedback's alert timelines or supervisors' e-mails."""

from __future__ import annotations

from ticketing.api import PauseBody, TransferBody


def test_a_phone_or_e_mail_typed_into_a_reason_is_masked_before_it_becomes_an_event() -> None:
    moved = TransferBody.model_validate(
        {"to_service_id": "social-benefit", "reason": "call her back on 89171234567 or anna.k@example.org"}
    )
    assert moved.reason is not None
    assert "89171234567" not in moved.reason and "anna.k@" not in moved.reason
    assert moved.reason.startswith("call her back on ")
    paused = PauseBody.model_validate({"reason": "+7 917 123-45-67 asked to wait"})
    assert paused.reason is not None and "123-45-67" not in paused.reason
    assert PauseBody.model_validate({"reason": "break"}).reason == "break"
    assert PauseBody.model_validate({}).reason is None
