"""Requests for an office another replica owns go to that replica; its answer is returned as it is.

Any replica answers any request: the web front and kiosks never know who owns an office. A
forwarded request carries an HMAC of its method and path under the shared JWT secret, so the owner
knows it came from a replica (it skips the per-address rate limit the first replica applied) and
never forwards it again: during a handover the answer is 503 with Retry-After.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time

import httpx
import structlog
from contracts import Envelope
from contracts.registry import encode
from fastapi import Request, Response
from fastapi.responses import JSONResponse

from ticketing.owner import NotOwner, Offices, OfficeUnavailable
from ticketing.settings import Settings

log = structlog.get_logger("ticketing.forwarding")
FORWARDED = "x-onewindow-forwarded"
PASSED_ON = ("authorization", "content-type", "accept", "accept-language", "idempotency-key")
CHECK_IN_PATH = "/internal/check-ins"


def unavailable(reason: str, retry_after: int = 1) -> JSONResponse:
    return JSONResponse(
        {"reason": reason, "error": "office_unavailable"},
        status_code=503,
        headers={"Retry-After": str(retry_after)},
    )


class Forwarder:
    def __init__(self, offices: Offices, settings: Settings) -> None:
        self.offices = offices
        self.settings = settings
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=2.0))
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def signature(self, method: str, path: str) -> str:
        key = self.settings.jwt_secret.get_secret_value().encode()
        return hmac.new(key, f"forward:{method.upper()} {path}".encode(), hashlib.sha256).hexdigest()

    def is_forwarded(self, request: Request) -> bool:
        given = request.headers.get(FORWARDED, "")
        return bool(given) and hmac.compare_digest(given, self.signature(request.method, request.url.path))

    async def _owner(self, office_id: str, fresh: bool = False) -> str | None:
        """The owner's URL; this replica's own URL only if it owns the office by now (a rebalance
        gave it here while the request waited), so the request runs again, as a forwarded one."""
        if fresh:
            self.offices.forget_owner(office_id)
        url = await self.offices.owner_url(office_id)
        if url == self.settings.advertised_url and not self.offices.owns(office_id):
            return None
        return url

    async def forward(self, request: Request, error: NotOwner) -> Response:
        """The owner's answer to this request; during a handover it waits a little, then 503."""
        if self.is_forwarded(request):
            return unavailable(f"office {error.office_id} is changing owner; retry")
        headers = {name: request.headers[name] for name in PASSED_ON if name in request.headers}
        headers[FORWARDED] = self.signature(request.method, request.url.path)
        body = await request.body()
        deadline = time.monotonic() + self.settings.handover_wait_seconds
        attempt = 0
        while True:
            url = await self._owner(error.office_id, fresh=attempt > 0)
            attempt += 1
            answer: httpx.Response | None = None
            if url is not None:
                try:
                    answer = await self.client.request(
                        request.method,
                        url + request.url.path,
                        params=request.query_params,
                        content=body,
                        headers=headers,
                    )
                except (httpx.ConnectError, httpx.ConnectTimeout) as failure:  # not delivered: try again
                    log.info(
                        "owner unreachable",
                        office_id=error.office_id,
                        owner=url,
                        error=type(failure).__name__,
                    )
                except httpx.HTTPError as failure:
                    # Sent, but no answer: the owner may have applied it. Resending could issue a
                    # second ticket, so the client decides (it sees the state when it asks again).
                    log.warning(
                        "owner did not answer", office_id=error.office_id, owner=url, error=repr(failure)
                    )
                    self.offices.forget_owner(error.office_id)
                    return unavailable(
                        f"the owner of office {error.office_id} did not answer; check before retrying"
                    )
            if answer is not None and answer.status_code != 503:
                kept = {
                    k: v for k, v in answer.headers.items() if k.lower() in ("content-type", "retry-after")
                }
                return Response(answer.content, status_code=answer.status_code, headers=kept)
            if time.monotonic() >= deadline:
                return unavailable(f"office {error.office_id} is changing owner; retry")
            await asyncio.sleep(0.2)

    async def check_in(self, office_id: str, envelope: Envelope) -> None:
        """Hand a check-in event to the office's owner; OfficeUnavailable if it cannot take it now."""
        url = await self._owner(office_id, fresh=True)
        if url is None:
            raise OfficeUnavailable(f"office {office_id} has no owner yet")
        try:
            answer = await self.client.post(
                url + CHECK_IN_PATH,
                content=encode(envelope),
                headers={
                    "content-type": "application/json",
                    FORWARDED: self.signature("POST", CHECK_IN_PATH),
                },
            )
        except httpx.HTTPError as failure:
            self.offices.forget_owner(office_id)
            raise OfficeUnavailable(
                f"owner of {office_id} unreachable: {type(failure).__name__}"
            ) from failure
        if answer.status_code >= 300:
            raise OfficeUnavailable(f"owner of {office_id} answered {answer.status_code}")
