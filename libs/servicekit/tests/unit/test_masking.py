"""Personal data never reaches a log line in clear."""

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

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


def test_the_ticket_token_of_a_rating_link_is_masked_too() -> None:
    from servicekit.logging import mask_token_paths

    token = "I7Ihy77CPf183gz1QanjU3V-f5q_IfD2irH4E97WHoU"
    for path in (f"/feedback/by-ticket/{token}", f"/r/{token}?lang=en", f"/feedback/{token}"):
        masked = mask_token_paths(f'"GET {path} HTTP/1.1" 200')
        assert token not in masked and "***" in masked, masked


def test_a_service_s_log_line_is_in_its_file_as_soon_as_it_is_logged(tmp_path: Path) -> None:
    """Into a file Python buffers stdout by blocks: a line could wait there while a check (or an
    operator) reads the log, or be lost in a crash. structlog and logging flush each record; the kit
    makes stdout line-buffered, so whatever else writes there (a print, a library) is written at once."""
    log = tmp_path / "service.log"
    program = (
        "import sys, time; from servicekit.logging import configure_logging, get_logger; "
        "configure_logging('probe'); get_logger().info('logged'); print('ready for reading'); time.sleep(60)"
    )
    with log.open("wb") as out:
        environment = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
        process = subprocess.Popen(
            [sys.executable, "-c", program], stdout=out, stderr=subprocess.STDOUT, env=environment
        )
    try:
        deadline = time.monotonic() + 30
        while "ready for reading" not in log.read_text():
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the line stayed in the process's buffer"
            time.sleep(0.05)
    finally:
        process.kill()
        process.wait()
