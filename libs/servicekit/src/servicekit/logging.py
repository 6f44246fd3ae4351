"""structlog JSON logging; personal data is masked before it reaches a log line."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# Russian numbers (+7 / 8 and ten digits, spaced or not) and any international "+<10-14 digits>".
_PHONE = re.compile(
    r"(?<![\w.:-])(?:(?:\+7|8)[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}|\+\d{10,14})(?![\w:-])"
)
_NEVER_MASKED = {"timestamp", "event_id", "correlation_id", "causation_id", "level", "service"}
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_SENSITIVE_KEYS = {"phone", "email", "contact", "token", "citizen_token", "password", "authorization"}


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return f"+***{digits[-2:]}" if len(digits) >= 2 else "***"


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_text(text: str) -> str:
    """Masks phone numbers and e-mail addresses inside free text."""
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), text)


def _mask_personal_data(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if key in _SENSITIVE_KEYS and value:
            event_dict[key] = "***"
        elif isinstance(value, str) and key not in _NEVER_MASKED:
            event_dict[key] = mask_text(value)
    return event_dict


def configure_logging(service: str, level: str = "INFO") -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stdout, level=level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _mask_personal_data,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
