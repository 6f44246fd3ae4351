"""Stand-ins for the outside world of the notifier: an SMS gateway, an SMTP server, a real HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmsGateway:
    """Records every POST; `mode` = "ok", "fail" (503) or "hang" (answers after `hang_seconds`)."""

    url: str = ""
    mode: str = "ok"
    hang_seconds: float = 2.0
    requests: list[dict[str, Any]] = field(default_factory=list)

    def texts_to(self, phone: str) -> list[str]:
        return [
            r["body"]["text"] for r in self.requests if r["body"].get("to") == phone and r["status"] == 200
        ]


@pytest.fixture
def sms_gateway() -> Iterator[SmsGateway]:
    gateway = SmsGateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status = {"ok": 200, "fail": 503, "hang": 200}[gateway.mode]
            if gateway.mode == "hang":
                time.sleep(gateway.hang_seconds)
            gateway.requests.append(
                {"body": body, "auth": self.headers.get("Authorization"), "status": status}
            )
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(b'{"id": "m1"}')

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield gateway
    server.shutdown()
    server.server_close()


@dataclass
class Mailbox:
    port: int
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        mail = message_from_bytes(envelope.content, policy=email.policy.default)
        mail["X-Rcpt"] = ",".join(envelope.rcpt_tos)
        self.messages.append(mail)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    mailbox = Mailbox(free_port())
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    yield mailbox
    controller.stop()


@contextlib.asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """The app on a real HTTP server (streams need one: ASGITransport buffers the whole body)."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 30
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped while starting")
        assert time.monotonic() < deadline, "server did not start"
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class SseEvent:
    event: str
    data: Any
    id: int | None


class SseReader:
    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.aiter_lines()

    async def next(self, within: float = 15) -> SseEvent:
        return await asyncio.wait_for(self._read(), within)

    async def _read(self) -> SseEvent:
        fields: dict[str, str] = {}
        async for line in self.lines:
            if line.startswith(":"):
                continue
            if line == "":
                if "data" in fields:
                    return SseEvent(
                        fields.get("event", "message"),
                        json.loads(fields["data"]),
                        int(fields["id"]) if "id" in fields else None,
                    )
                fields = {}
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        raise EOFError("stream ended")

    async def until(self, predicate: Callable[[SseEvent], bool], within: float = 20) -> SseEvent:
        deadline = time.monotonic() + within
        while True:
            event = await self.next(max(0.1, deadline - time.monotonic()))
            if predicate(event):
                return event
