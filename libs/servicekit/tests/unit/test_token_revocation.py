"""Staff tokens ended before their expiry: the CatalogView keeps the latest revocation per staff
pseudonym (in any order, replays included) and servicekit.auth refuses what was issued until then."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import cast

import pytest
from contracts.catalog import StaffAccessRevoked
from fastapi import HTTPException, Request
from pydantic import SecretStr
from servicekit.auth import check_not_revoked, issue_token, revoked_since, subject_ref, verify_token
from servicekit.catalog_view import CatalogView
from servicekit.fakes import feed, memory_db

SECRET = "revocation-tests-" + "x" * 32


async def test_a_token_issued_before_the_latest_revocation_is_refused_and_a_later_one_is_not() -> None:
    view = CatalogView(memory_db())
    ref = subject_ref(SECRET, "operator-7")
    assert ref != subject_ref(SECRET, "operator-8") and len(ref) == 32 and "operator" not in ref
    before = verify_token(SECRET, issue_token(SECRET, subject="operator-7", role="operator", office_id="o"))
    await check_not_revoked(view, SECRET, before)  # nothing revoked yet

    revoked_at = datetime.now(UTC) + timedelta(milliseconds=5)
    earlier = StaffAccessRevoked(
        subject_ref=ref, revoked_at=revoked_at - timedelta(hours=1), reason="disabled"
    )
    latest = StaffAccessRevoked(subject_ref=ref, revoked_at=revoked_at, reason="password_reset")
    await feed(view, latest, earlier)  # an older revocation arriving later does not win
    stored = await view.revoked_at("operator-7", ref)  # as the store keeps it: milliseconds
    assert stored == revoked_at.replace(microsecond=revoked_at.microsecond // 1000 * 1000)

    with pytest.raises(HTTPException) as refused:
        await check_not_revoked(view, SECRET, before)
    assert refused.value.status_code == 401 and str(refused.value.detail).startswith("token revoked")
    others = verify_token(SECRET, issue_token(SECRET, subject="operator-8", role="operator", office_id="o"))
    await check_not_revoked(view, SECRET, others)
    later = replace(before, issued_at=revoked_at.timestamp() + 0.002)
    await check_not_revoked(view, SECRET, later)


async def test_a_long_stream_learns_that_its_token_was_ended() -> None:
    """What the supervisor's SSE stream asks on each poll (servicekit.auth.revoked_since)."""
    view = CatalogView(memory_db())
    settings = SimpleNamespace(jwt_secret=SecretStr(SECRET))
    request = cast(Request, SimpleNamespace(app=SimpleNamespace(state=SimpleNamespace(settings=settings))))
    who = verify_token(SECRET, issue_token(SECRET, subject="supervisor-1", role="supervisor", office_id="o"))
    assert not await revoked_since(request, who)  # a service without revocations: nothing to ask
    request.app.state.revocations = view
    assert not await revoked_since(request, who)
    ended = datetime.now(UTC) + timedelta(milliseconds=5)
    await feed(
        view,
        StaffAccessRevoked(
            subject_ref=subject_ref(SECRET, "supervisor-1"), revoked_at=ended, reason="disabled"
        ),
    )
    assert await revoked_since(request, who)
