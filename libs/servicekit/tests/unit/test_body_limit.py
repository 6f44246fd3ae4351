"""Every service refuses oversized request bodies with 413 and a reason, declared or streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI, Request
from servicekit.runtime import install_error_handlers, limit_body_size

LIMIT = 1024


def service() -> FastAPI:
    app = FastAPI()

    @app.post("/things")
    async def create(body: dict[str, Any]) -> dict[str, int]:
        return {"keys": len(body)}

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    install_error_handlers(app, {})
    limit_body_size(app, LIMIT)
    return app


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=service()), base_url="http://test")


async def test_a_body_declared_too_large_is_refused_before_it_is_read() -> None:
    async with client() as http:
        answer = await http.post("/things", json={"x": "y" * LIMIT})
    assert answer.status_code == 413
    assert answer.json()["reason"] == f"the request body is larger than {LIMIT} bytes"


async def test_a_streamed_body_is_refused_once_it_passes_the_limit() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b"x" * 256

    async with client() as http:
        for path in ("/things", "/raw"):
            answer = await http.post(path, content=chunks(), headers={"content-type": "application/json"})
            assert answer.status_code == 413, (path, answer.text)
            assert "larger than" in answer.json()["reason"]


async def test_bodies_within_the_limit_pass() -> None:
    async with client() as http:
        answer = await http.post("/things", json={"a": 1, "b": 2})
    assert answer.status_code == 200 and answer.json() == {"keys": 2}
