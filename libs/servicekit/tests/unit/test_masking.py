"""Personal data never reaches a log line in clear."""

from servicekit.logging import mask_email, mask_phone, mask_text


def test_phone_numbers_in_free_text_are_masked() -> None:
    text = mask_text("call +7 (917) 123-45-67 or 89171234567 about A017 at 2026-11-28T10:00:00")
    assert "123-45-67" not in text and "89171234567" not in text
    assert "A017" in text and "2026-11-28T10:00:00" in text


def test_email_keeps_only_first_letter_and_domain() -> None:
    assert mask_email("ivanov@mail.ru") == "i***@mail.ru"
    assert "ivanov" not in mask_text("write to ivanov@mail.ru")


def test_phone_mask_keeps_last_two_digits() -> None:
    assert mask_phone("+79171234567") == "+***67"
