"""Personal data never reaches a log line in clear."""

import logging

import pytest
from servicekit.logging import configure_logging, mask_email, mask_phone, mask_text


def test_phone_numbers_in_free_text_are_masked() -> None:
    text = mask_text("call +7 (917) 123-45-67 or 89171234567 about A017 at 2026-11-28T10:00:00")
    assert "123-45-67" not in text and "89171234567" not in text
    assert "A017" in text and "2026-11-28T10:00:00" in text


def test_email_keeps_only_first_letter_and_domain() -> None:
    assert mask_email("ivanov@mail.ru") == "i***@mail.ru"
    assert "ivanov" not in mask_text("write to ivanov@mail.ru")


def test_phone_mask_keeps_last_two_digits() -> None:
    assert mask_phone("+79171234567") == "+***67"


def test_bare_ten_digit_numbers_as_citizens_type_them_are_masked() -> None:
    for phone in ("9171234567", "917 123 45 67", "(843) 123-45-67", "79171234567"):
        masked = mask_text(f"booking for {phone} confirmed")
        assert "123" not in masked and masked.endswith("+***67 confirmed"), (phone, masked)


def test_timestamps_ids_and_times_are_not_taken_for_phones() -> None:
    text = "at 1764472900 ticket A-017 booking 2026-11-30 10:00 seq 123456789012345"
    assert mask_text(text) == text


def test_access_log_lines_hide_citizen_tokens_and_phones(caplog: pytest.LogCaptureFixture) -> None:
    configure_logging("test")
    token = "I7Ihy77CPf183gz1QanjU3V-f5q_IfD2irH4E97WHoU"
    access = logging.getLogger("uvicorn.access")
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        # The arguments uvicorn's access logger passes: client, method, path, HTTP version, status.
        for path in (
            f"/tickets/by-token/{token}",
            f"/appointments/by-token/{token}/cancel",
            f"/feedback/{token}?lang=en",
            "/offices/kzn/appointments?phone=9171234567",
        ):
            access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", path, "1.1", 200)
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 4
    assert not any(token in line or "9171234567" in line for line in lines), lines
    assert '"GET /appointments/by-token/***/cancel HTTP/1.1" 200' in lines[1]
    assert "/feedback/***?lang=en" in lines[2]
