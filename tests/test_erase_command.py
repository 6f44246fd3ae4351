"""ops/erase.py asks every service holding citizens' contacts to erase one, as a city-wide admin."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jwt
import pytest
from testbed import ops_command


def load_command() -> Any:
    return ops_command("erase")


def test_the_erase_command_reaches_appointments_and_the_notifier_and_reports_what_they_erased(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    command = load_command()
    monkeypatch.setenv("ONEWINDOW_JWT_SECRET", "test-secret-" + "x" * 32)
    calls: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    def service(request: httpx.Request) -> httpx.Response:
        claims = jwt.decode(request.headers["authorization"].split()[1], "test-secret-" + "x" * 32, ["HS256"])
        calls.append((str(request.url), json.loads(request.content), claims))
        return httpx.Response(
            200, json={"bookings": 2} if "appointments" in str(request.url) else {"contacts": 1}
        )

    code = command.main(["--phone", "+7 917 123-45-67"], transport=httpx.MockTransport(service))
    assert code == 0
    assert [url for url, _, _ in calls] == [
        "http://127.0.0.1:8081/api/appointments/admin/erasure",
        "http://127.0.0.1:8081/api/notifier/admin/erasure",
    ]
    assert all(body == {"phone": "+7 917 123-45-67"} for _, body, _ in calls)
    assert all(c["role"] == "admin" and c["office"] is None for _, _, c in calls)
    report = json.loads(capsys.readouterr().out)
    assert report["appointments"]["erased"] == {"bookings": 2}

    refused = command.main(
        ["--email", "a@b.org"], transport=httpx.MockTransport(lambda _: httpx.Response(403, json={}))
    )
    assert refused == 1
