"""Where messages leave the notifier: an HTTP SMS gateway, SMTP e-mail, or a masked log file."""

from __future__ import annotations

import asyncio
import json
import re
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

import aiosmtplib
import httpx
from servicekit.clock import SYSTEM_CLOCK
from servicekit.logging import mask_text

from notifier.settings import Settings

# Capability tokens in links (>= 20 URL-safe characters after a slash) are cut in log lines.
_TOKEN_IN_LINK = re.compile(r"/([A-Za-z0-9_-]{6})[A-Za-z0-9_-]{14,}")


def mask_links(text: str) -> str:
    return _TOKEN_IN_LINK.sub(lambda m: f"/{m.group(1)}…", text)


class DeliveryError(Exception):
    """The channel did not take the message (gateway 5xx, timeout, SMTP refusal); worth retrying."""


class Channel(Protocol):
    async def send(self, address: str, text: str) -> None: ...


class SmsGateway:
    """POST {"to", "text"} as JSON with a bearer token; any 2xx means the gateway took it."""

    def __init__(self, settings: Settings) -> None:
        self.url = settings.sms_url
        self.token = settings.sms_token.get_secret_value()
        self.timeout = settings.sms_timeout_seconds

    async def send(self, address: str, text: str) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(self.url, json={"to": address, "text": text}, headers=headers)
        except httpx.HTTPError as error:
            raise DeliveryError(f"sms gateway unreachable: {type(error).__name__}") from error
        if not response.is_success:
            raise DeliveryError(f"sms gateway answered {response.status_code}")


class SmtpMailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, address: str, text: str) -> None:
        subject, _, body = text.partition("\n")
        message = EmailMessage()
        message["From"] = self.settings.smtp_from
        message["To"] = address
        message["Subject"] = subject if body else "OneWindow"
        message.set_content(body or text)
        try:
            await aiosmtplib.send(
                message,
                hostname=self.settings.smtp_host,
                port=self.settings.smtp_port,
                username=self.settings.smtp_user or None,
                password=self.settings.smtp_password.get_secret_value() or None,
                start_tls=self.settings.smtp_starttls,
                timeout=self.settings.smtp_timeout_seconds,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise DeliveryError(f"smtp: {type(error).__name__}: {mask_text(str(error))[:200]}") from error


class LogFileChannel:
    """For local runs: one masked JSON line per message in a file, nothing leaves the machine."""

    def __init__(self, path: str, kind: str) -> None:
        self.path = Path(path)
        self.kind = kind

    async def send(self, address: str, text: str) -> None:
        line = json.dumps(
            {
                "at": SYSTEM_CLOCK.now().isoformat(),
                "channel": self.kind,
                "to": mask_text(address),
                "text": mask_links(mask_text(text)),
            },
            ensure_ascii=False,
        )
        await asyncio.to_thread(self._append, line)

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as file:
            file.write(line + "\n")


def build_channels(settings: Settings) -> dict[str, Channel]:
    if settings.channel == "log":
        return {
            "sms": LogFileChannel(settings.log_path, "sms"),
            "email": LogFileChannel(settings.log_path, "email"),
        }
    return {"sms": SmsGateway(settings), "email": SmtpMailer(settings)}
