"""The public operations of every service (what nginx's public listener passes on), fuzzed from
the service's OpenAPI with schemathesis: no 5xx, and every answer fits the documented schema, 2xx
bodies and the error bodies ({reason, error, fields}, documented once in servicekit.runtime) alike.
Each service runs on real Kafka and the store; requests go anonymous or with a city-wide admin token
(who passes every role check), a bounded number of examples each.

    ONEWINDOW_FUZZ_EXAMPLES=50 uv run pytest tests/test_api_fuzz.py   # deeper, locally
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from servicekit.auth import issue_token
from servicekit.testing import running

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("ONEWINDOW_FUZZ_EXAMPLES", "5"))
# Streams never end: an ASGI client would wait for the whole body.
SKIPPED = ("/stream",)
NGINX = Path(__file__).resolve().parents[1] / "deploy/nginx/compose.conf"


def public_paths(service: str) -> list[tuple[bool, str]]:
    """(exact, service path) of every public nginx location of `service`."""
    routes = NGINX.read_text().split("# --- routes begin")[1].split("# --- routes end")[0]
    found = re.findall(
        rf"location (=\s+)?/api/{service}(/\S*)\s*{{\s*(?:[^}}]*?)proxy_pass http://{service}(\S*);", routes
    )
    return [(bool(exact), target.rstrip(";")) for exact, _, target in found]


def is_public(path: str, public: list[tuple[bool, str]]) -> bool:
    return any(path == target if exact else path.startswith(target) for exact, target in public)


def app_of(service: str, make_settings: Callable[..., Any], keypair: tuple[str, str]) -> FastAPI:
    if service == "catalog":
        from catalog.main import create_app as catalog_app
        from catalog.settings import Settings as CatalogSettings

        return catalog_app(make_settings(CatalogSettings))
    if service == "ticketing":
        from ticketing.main import create_app as ticketing_app
        from ticketing.settings import Settings as TicketingSettings

        return ticketing_app(make_settings(TicketingSettings))
    if service == "appointments":
        from appointments.main import create_app as appointments_app
        from appointments.settings import Settings as AppointmentsSettings

        return appointments_app(make_settings(AppointmentsSettings))
    if service == "feedback":
        from feedback.main import create_app as feedback_app
        from feedback.settings import Settings as FeedbackSettings

        return feedback_app(make_settings(FeedbackSettings))
    from notifier.main import create_app as notifier_app
    from notifier.settings import Settings as NotifierSettings

    return notifier_app(make_settings(NotifierSettings, private_key=keypair[1]))


SERVICES = ("catalog", "ticketing", "appointments", "feedback", "notifier")


def draw(operation: Any) -> list[tuple[Any, bool]]:
    """EXAMPLES cases of an operation (each anonymous or as admin), drawn before any is sent:
    hypothesis runs in this thread only (it and `ast` misbehave beside a running event loop's
    threads), and a request needs the loop."""
    drawn: list[tuple[Any, bool]] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), as_admin=st.booleans())
    def collect(case: Any, as_admin: bool) -> None:
        drawn.append((case, as_admin))

    collect()
    return drawn


async def fuzz_service(app: FastAPI, service: str, admin: dict[str, str]) -> list[str]:
    """Failures (operation: what broke) of `service`'s public operations."""
    failures: list[str] = []
    async with running(app) as client:
        schema = schemathesis.openapi.from_dict((await client.get("/openapi.json")).json())
        public = public_paths(service)
        operations = [
            result.ok()
            for result in schema.get_all_operations()
            if is_public(result.ok().path, public) and not any(part in result.ok().path for part in SKIPPED)
        ]
        assert operations, f"no public operation of {service} found"
        for operation in operations:
            for case, as_admin in draw(operation):
                kwargs = case.as_transport_kwargs(base_url="http://test")
                kwargs.pop("cookies", None)
                headers = {**(kwargs.pop("headers", None) or {}), **(admin if as_admin else {})}
                try:
                    response = await client.request(headers=headers, **kwargs)
                except httpx.InvalidURL:
                    continue  # a generated path httpx itself refuses to send
                try:
                    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
                except (Exception, BaseExceptionGroup) as failure:  # all reported at the end
                    failures.append(
                        f"{service}: {operation.method.upper()} {operation.path}: {failure}"[:2000]
                    )
                    break
    return failures


async def test_no_public_operation_answers_5xx_or_breaks_its_documented_schema(
    make_settings: Callable[..., Any], keypair: tuple[str, str]
) -> None:
    apps = {service: app_of(service, make_settings, keypair) for service in SERVICES}
    secret = apps["catalog"].state.settings.jwt_secret.get_secret_value()
    admin = {"Authorization": "Bearer " + issue_token(secret, subject="fuzz", role="admin", office_id=None)}
    # The five at once: most of the time is spent waiting on the store, not in the fuzzer.
    found = await asyncio.gather(*(fuzz_service(app, service, admin) for service, app in apps.items()))
    failures = [failure for failures in found for failure in failures]
    assert not failures, "\n\n".join(failures)
