"""structlog JSON logging; personal data is masked before it reaches a log line."""

from __future__ import annotations

import io
import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# Russian numbers (+7 / 7 / 8 and ten digits, spaced or not), the ten digits alone as citizens type
# them ("9171234567", "(843) 123-45-67": mobile 9xx and city codes 3xx-8xx; a leading 1 or 2 is left,
# so Unix timestamps and years stay readable) and any international "+<10-14 digits>".
_PHONE = re.compile(
    r"(?<![\w.:-])(?:"
    r"(?:\+7|7|8)[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}"
    r"|\(?[3-9]\d{2}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}"
    r"|\+\d{10,14})(?![\w:-])"
)
# Paths whose last segments are citizen capability tokens (whoever holds one can cancel the ticket or
# booking): access logs keep the path with the token replaced.
_TOKEN_PATH = re.compile(
    r"(/(?:t|r|a|feedback/by-ticket|feedback|appointments/manage|tickets/by-token|appointments/by-token)/)"
    r"[^/?#\s\"]+"
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


def mask_token_paths(text: str) -> str:
    """ "/tickets/by-token/Abc.../cancel" -> "/tickets/by-token/***/cancel" (and /t/, /feedback/, ...)."""
    return _TOKEN_PATH.sub(r"\1***", text)


class AccessLogMasking(logging.Filter):
    """uvicorn's access log line carries the request path: tokens and personal data are masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                mask_text(mask_token_paths(arg)) if isinstance(arg, str) else arg for arg in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = mask_text(mask_token_paths(record.msg))
        return True


_ACCESS_LOG_MASKING = AccessLogMasking()


def _mask_personal_data(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if key in _SENSITIVE_KEYS and value:
            event_dict[key] = "***"
        elif isinstance(value, str) and key not in _NEVER_MASKED:
            event_dict[key] = mask_text(mask_token_paths(value))
    return event_dict


def configure_logging(service: str, level: str = "INFO") -> None:
    # A line is in the log when the call returns, into a file or a pipe too (Python buffers those by
    # blocks): a crash loses nothing, and whoever reads the log reads everything written so far.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(line_buffering=True)
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
    access = logging.getLogger("uvicorn.access")
    if _ACCESS_LOG_MASKING not in access.filters:
        access.addFilter(_ACCESS_LOG_MASKING)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
