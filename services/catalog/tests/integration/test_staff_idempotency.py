"""Idempotency-Key on creating a staff account: a retried request is the first one's account."""

from __future__ import annotations

import uuid
from typing import Any

from catalog.main import create_app
from catalog.settings import Settings
from servicekit.testing import running, staff_headers


async def test_a_retried_staff_creation_with_one_key_answers_as_the_first_did(make_settings: Any) -> None:
    settings: Settings = make_settings(Settings)
    city = staff_headers(settings, "admin", None)
    body = {"username": f"deputy-{uuid.uuid4().hex[:6]}", "password": "a long passphrase", "role": "admin"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    async with running(create_app(settings)) as client:
        first = await client.post("/admin/staff", json=body, headers={**city, **key})
        again = await client.post("/admin/staff", json=body, headers={**city, **key})
        assert first.status_code == again.status_code == 201, (first.text, again.text)
        assert again.json() == first.json()
        unkeyed = await client.post("/admin/staff", json=body, headers=city)
        assert unkeyed.status_code == 409  # without the key it is a second request for a taken name
        other = await client.post(
            "/admin/staff", json={**body, "role": "supervisor"}, headers={**city, **key}
        )
        assert other.status_code == 422 and "different request" in other.json()["reason"]
