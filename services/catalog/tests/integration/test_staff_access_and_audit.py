"""A disabled account stops working at once, everywhere; an audit entry cannot be lost.

Real Kafka and FerretDB: the catalog and ticketing run side by side on the test's topics. The
operator's token, still valid for hours, is refused by ticketing as soon as the StaffAccessRevoked
the admin's change wrote has reached ticketing's catalog view.
"""

from __future__ import annotations

from typing import Any

import httpx
from catalog.settings import Settings
from catalog.usecases import Catalog
from contracts.samples import sample_office
from fastapi import FastAPI
from servicekit.auth import subject_ref
from servicekit.testing import Infra, eventually, probe, running, staff_headers
from ticketing.main import create_app as create_ticketing
from ticketing.settings import Settings as TicketingSettings

OFFICE = "kzn-kirov-moskov"


def office_body() -> dict[str, Any]:
    return {
        "office_id": OFFICE,
        **sample_office(OFFICE).model_dump(mode="json", exclude={"office_id", "version", "retired"}),
    }


def admin_headers(settings: Settings) -> dict[str, str]:
    return staff_headers(settings, "admin", None, "test-admin")


async def _operator_token(client: httpx.AsyncClient, city: dict[str, str], username: str) -> str:
    password = "a rather long passphrase"
    made = await client.post(
        "/admin/staff",
        json={"username": username, "password": password, "role": "operator", "office_id": OFFICE},
        headers=city,
    )
    assert made.status_code == 201, made.text
    signed_in = await client.post("/auth/token", json={"username": username, "password": password})
    assert signed_in.status_code == 200, signed_in.text
    return str(signed_in.json()["access_token"])


async def test_a_disabled_operators_token_is_refused_by_ticketing_within_seconds(
    infra: Infra, make_settings: Any, catalog: tuple[Settings, FastAPI, httpx.AsyncClient]
) -> None:
    settings, _, client = catalog
    city = admin_headers(settings)
    ticketing_settings: TicketingSettings = make_settings(TicketingSettings)
    async with running(create_ticketing(ticketing_settings)) as ticketing:
        assert (await client.post("/admin/offices", json=office_body(), headers=city)).status_code == 201
        token = await _operator_token(client, city, "op-revoked-1")
        bearer = {"Authorization": f"Bearer {token}"}
        other = {"Authorization": f"Bearer {await _operator_token(client, city, 'op-kept-1')}"}
        windows = f"/offices/{OFFICE}/windows"
        await eventually(
            lambda: ticketing.get(windows, headers=bearer),
            lambda r: r.status_code == 200,
            what="ticketing knows the office and takes the operator's token",
        )

        async with probe(infra, settings.topic("catalog.staff")) as watcher:
            disabled = await client.post("/admin/staff/op-revoked-1/disable", headers=city)
            assert disabled.status_code == 200, disabled.text
            (revoked,) = await watcher.wait_for(lambda e: e.event_type == "catalog.StaffAccessRevoked")
        # Only a pseudonym on the topic: the username travels nowhere.
        secret = settings.jwt_secret.get_secret_value()
        assert revoked.data["subject_ref"] == subject_ref(secret, "op-revoked-1") == revoked.aggregate_id
        assert revoked.data["reason"] == "disabled" and "op-revoked-1" not in revoked.model_dump_json()

        refused = await eventually(
            lambda: ticketing.get(windows, headers=bearer),
            lambda r: r.status_code == 401,
            within=15,
            what="ticketing refuses the disabled operator's token",
        )
        assert refused.json()["reason"].startswith("token revoked")
        # The catalog refuses it too, and everyone else's token goes on working.
        assert (await client.get(f"/offices/{OFFICE}/staff", headers=bearer)).status_code == 401
        assert (await ticketing.get(windows, headers=other)).status_code == 200

        # A password reset ends the old token too; signing in with the new password works.
        kept_password = (await client.post("/admin/staff/op-kept-1/reset-password", headers=city)).json()
        await eventually(
            lambda: ticketing.get(windows, headers=other),
            lambda r: r.status_code == 401,
            within=15,
            what="ticketing refuses a token from before the password reset",
        )
        fresh = await eventually(
            lambda: client.post(
                "/auth/token", json={"username": "op-kept-1", "password": kept_password["password"]}
            ),
            lambda r: r.status_code == 200,
            what="a sign-in after the reset's second",
        )
        renewed = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
        await eventually(
            lambda: ticketing.get(windows, headers=renewed),
            lambda r: r.status_code == 200,
            what="the new token works (issued after the revocation's second)",
        )

        # A role change: the old operator token no longer carries the old role.
        supervisor = staff_headers(settings, "supervisor", OFFICE, "test-supervisor")
        moved = await client.put(
            "/admin/staff/op-kept-1/role", json={"role": "supervisor", "office_id": OFFICE}, headers=city
        )
        assert moved.status_code == 200 and moved.json()["role"] == "supervisor", moved.text
        await eventually(
            lambda: ticketing.get(windows, headers=renewed),
            lambda r: r.status_code == 401,
            within=15,
            what="the token with the old role is refused",
        )
        assert (await ticketing.get(windows, headers=supervisor)).status_code == 200
        bad = await client.put("/admin/staff/op-kept-1/role", json={"role": "operator"}, headers=city)
        assert bad.status_code == 422 and "office" in bad.text

    actions = await eventually(
        lambda: client.get("/admin/audit?target_id=op-kept-1", headers=city),
        lambda r: len(r.json()) == 3,
        what="the audit log shows the account's three changes",
    )
    assert [a["action"] for a in actions.json()] == [
        "staff.role_changed",
        "staff.password_reset",
        "staff.created",
    ]
    assert actions.json()[0]["before"] == {"role": "operator", "office_id": OFFICE}


async def test_a_crash_right_after_the_change_loses_no_audit_entry(
    catalog: tuple[Settings, FastAPI, httpx.AsyncClient],
) -> None:
    """The change and its AuditRecorded are one write (the account's outbox): a process that dies
    right after it still leaves the entry to be published and projected into the audit log."""
    settings, app, client = catalog
    city = admin_headers(settings)
    assert (await client.post("/admin/offices", json=office_body(), headers=city)).status_code == 201
    await _operator_token(client, city, "op-crash-1")
    use_cases: Catalog = app.state.catalog
    staff_store = use_cases.store.staff
    written = staff_store.commit

    async def write_then_crash(*args: Any, **kwargs: Any) -> Any:
        await written(*args, **kwargs)
        raise RuntimeError("the process died right after the write")

    staff_store.commit = write_then_crash  # type: ignore[method-assign]
    try:
        crashed = await client.post("/admin/staff/op-crash-1/disable", headers=city)
        assert crashed.status_code == 500
    except RuntimeError:
        pass  # the in-process client may re-raise the server's error instead
    finally:
        staff_store.commit = written  # type: ignore[method-assign]

    account = await use_cases.store.staff_account("op-crash-1")
    assert account is not None and account["disabled"] is True
    entries = await eventually(
        lambda: client.get("/admin/audit?target_id=op-crash-1&action=staff.disabled", headers=city),
        lambda r: len(r.json()) == 1,
        what="the audit entry of the change, published from the outbox and projected",
    )
    assert entries.json()[0]["after"] == {"disabled": True} and entries.json()[0]["actor"] == "test-admin"
