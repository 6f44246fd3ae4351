"""Passwords, the sign-in limit, the printable checklist and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from catalog.main import create_app
from catalog.printable import render_checklist
from catalog.settings import Settings
from catalog.staff import (
    SignInLimiter,
    TooManyAttempts,
    hash_password,
    password_matches,
    password_problem,
)
from contracts.common import LocalizedText
from contracts.samples import sample_service


def test_a_password_matches_only_itself() -> None:
    hashed = hash_password("correct horse")
    assert password_matches("correct horse", hashed.salt, hashed.digest)
    assert not password_matches("correct horsE", hashed.salt, hashed.digest)
    assert hash_password("correct horse").salt != hashed.salt


def test_failed_sign_ins_lock_only_that_username_from_that_client_for_the_window() -> None:
    limiter = SignInLimiter(max_failures=3, window_seconds=60)
    for second in range(3):
        limiter.check("op", "10.0.0.66", now=second)
        limiter.failed("op", "10.0.0.66", now=second)
    try:
        limiter.check("op", "10.0.0.66", now=10)
        raise AssertionError("the fourth attempt should be refused")
    except TooManyAttempts as refused:
        assert refused.details["retry_after_seconds"] == 51
    limiter.check("someone-else", "10.0.0.66", now=10)
    limiter.check("op", "10.0.0.66", now=61)


def test_an_attacker_guessing_wrong_cannot_lock_the_operator_out_elsewhere() -> None:
    limiter = SignInLimiter(max_failures=3, window_seconds=300)
    for second in range(50):
        limiter.failed("operator-kzn-1", "203.0.113.9", now=second)
    with pytest.raises(TooManyAttempts):
        limiter.check("operator-kzn-1", "203.0.113.9", now=60)
    limiter.check("operator-kzn-1", "10.1.2.3", now=60)  # the operator at the office signs in


def test_a_client_spraying_many_usernames_is_slowed_down_on_all_of_them() -> None:
    limiter = SignInLimiter(max_failures=3, window_seconds=300, max_client_failures=10)
    for n in range(10):
        limiter.failed(f"operator-kzn-{n}", "203.0.113.9", now=n)
    with pytest.raises(TooManyAttempts):
        limiter.check("operator-kzn-99", "203.0.113.9", now=20)
    limiter.check("operator-kzn-99", "10.1.2.3", now=20)


def test_the_limiter_keeps_a_bounded_number_of_keys() -> None:
    limiter = SignInLimiter(max_failures=3, window_seconds=300, max_keys=100)
    for n in range(1000):
        limiter.failed(f"random-{n}", f"198.51.100.{n % 250}", now=n / 100)
    assert len(limiter._failures) <= 100


def test_the_printable_checklist_escapes_every_text() -> None:
    service = sample_service().model_copy(
        update={"title": LocalizedText(ru="<script>alert(1)</script>", en="Certificate")}
    )
    page = render_checklist(service, "ru")
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page
    assert "@media print" in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page  # phones
    assert "Паспорт" in page


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if schema.get("type") == "array":
        return _resolve(schema["items"], spec)
    return schema


def _has_example(schema: dict[str, Any], spec: dict[str, Any]) -> bool:
    resolved = _resolve(schema, spec)
    return bool(resolved.get("examples") or resolved.get("example"))


def test_the_openapi_document_lists_every_endpoint_with_a_summary_and_examples() -> None:
    spec = create_app(Settings()).openapi()
    expected = {
        ("get", "/offices"),
        ("get", "/offices/{office_id}"),
        ("get", "/offices/{office_id}/services"),
        ("get", "/services/search"),
        ("get", "/services/{service_id}"),
        ("get", "/services/{service_id}/checklist"),
        ("get", "/services/{service_id}/checklist.html"),
        ("post", "/auth/token"),
        ("post", "/admin/offices"),
        ("put", "/admin/offices/{office_id}"),
        ("post", "/admin/services"),
        ("put", "/admin/services/{service_id}"),
        ("post", "/admin/services/{service_id}/retire"),
        ("post", "/admin/staff"),
    }
    operations = {(method, path): op for path, item in spec["paths"].items() for method, op in item.items()}
    assert expected <= set(operations)
    for (method, path), operation in operations.items():
        if "operations" in operation.get("tags", []):
            continue  # the kit's health, metrics and AsyncAPI routes
        assert operation.get("summary"), (method, path)
        success = next(code for code in operation["responses"] if code.startswith("2"))
        content = operation["responses"][success]["content"]
        media = next(iter(content.values()))
        assert "example" in media or _has_example(media["schema"], spec), (method, path)
        body = operation.get("requestBody")
        if body:
            assert _has_example(body["content"]["application/json"]["schema"], spec), (method, path)


async def test_an_office_with_an_unknown_time_zone_is_refused_with_a_clear_422() -> None:
    import httpx
    from contracts.samples import sample_office
    from servicekit.auth import issue_token

    settings = Settings.model_validate({"ONEWINDOW_JWT_SECRET": "test-secret-" + "x" * 32})
    app = create_app(settings)  # no lifespan: the body is refused before any store is asked
    admin = issue_token(settings.jwt_secret.get_secret_value(), subject="a", role="admin", office_id=None)
    body = {
        "office_id": "kzn-typo",
        **sample_office("kzn-typo").model_dump(mode="json", exclude={"office_id", "version", "retired"}),
        "timezone": "Europe/Moskow",
    }
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        refused = await client.post("/admin/offices", json=body, headers={"Authorization": f"Bearer {admin}"})
    assert refused.status_code == 422, refused.text
    assert "Europe/Moskow" in refused.text and "IANA time zone" in refused.text


def test_new_passwords_get_owasp_scrypt_cost_and_old_hashes_still_sign_in() -> None:
    import hashlib

    hashed = hash_password("correct horse")
    assert hashed.as_document()["hash_scheme"] == "scrypt-16384-8-5"
    old = hashlib.scrypt(b"correct horse", salt=b"s" * 16, n=2**14, r=8, p=1, dklen=32).hex()
    assert password_matches("correct horse", (b"s" * 16).hex(), old, "scrypt-16384-8-1")
    assert not password_matches("correct horse", (b"s" * 16).hex(), old)  # not under the new cost


async def test_weak_passwords_for_new_staff_are_refused_with_the_reason() -> None:
    import httpx
    from servicekit.auth import issue_token

    settings = Settings.model_validate({"ONEWINDOW_JWT_SECRET": "test-secret-" + "x" * 32})
    app = create_app(settings)
    admin = issue_token(settings.jwt_secret.get_secret_value(), subject="a", role="admin", office_id=None)
    headers = {"Authorization": f"Bearer {admin}"}
    weak = {
        "short-one1": "too short",
        "operator-kzn-7": "xoperator-kzn-7x",
        "operator-kzn-8": "aaaaaaaaaaaaaaab",
    }
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for username, password in weak.items():
            body = {"username": username, "password": password, "role": "operator", "office_id": "kzn"}
            refused = await client.post("/admin/staff", json=body, headers=headers)
            assert refused.status_code == 422, (username, refused.text)
    assert "username" in (password_problem("xoperator-kzn-7x", "operator-kzn-7") or "")
    assert password_problem("correct horse battery", "operator-kzn-7") is None
