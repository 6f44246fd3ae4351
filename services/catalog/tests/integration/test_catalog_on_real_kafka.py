"""The catalog against the real broker and store: events, republish, search, sign-in, bad input."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from catalog import republish
from catalog.demo import demo_offices, demo_services
from catalog.main import create_app
from catalog.seed import SeedReport, seed
from catalog.settings import Settings
from catalog.store import CatalogStore
from catalog.usecases import Catalog
from contracts.catalog import OfficeConfigured, ServicePublished
from contracts.samples import sample_office, sample_service
from contracts.topics import create_topics
from fastapi import FastAPI
from servicekit.auth import Role
from servicekit.catalog_view import CatalogView
from servicekit.kafka import EventRouter
from servicekit.runtime import ServiceRuntime
from servicekit.settings import ServiceSettings
from servicekit.store import connect
from servicekit.testing import Infra, eventually, probe, running, staff_headers

DEMO_PASSWORD = "demo-" + uuid.uuid4().hex
ADMIN_PASSWORD = "admin-" + uuid.uuid4().hex


def office_body(office_id: str = "kzn-kirov-moskov") -> dict[str, Any]:
    return {
        "office_id": office_id,
        **sample_office(office_id).model_dump(mode="json", exclude={"office_id", "version", "retired"}),
    }


def service_body(service_id: str = "household-certificate", **changes: Any) -> dict[str, Any]:
    body = sample_service(service_id).model_dump(mode="json", exclude={"version"})
    return {**body, **changes}


def admin_headers(settings: Settings, role: Role = "admin") -> dict[str, str]:
    return staff_headers(settings, role, None if role == "admin" else "kzn-kirov-moskov", f"test-{role}")


@pytest.fixture(scope="module")
async def seeded_db(infra: Infra) -> AsyncIterator[tuple[str, SeedReport]]:
    """The demo catalog seeded once for the tests that only read it (seeding is the slow part)."""
    name = f"catalog_seeded_{uuid.uuid4().hex[:8]}"
    settings = Settings.model_validate(
        {"ONEWINDOW_KAFKA": infra.kafka, "ONEWINDOW_MONGO_URL": infra.mongo_url, "mongo_db": name}
    )
    client = connect(infra.mongo_url, app_name="tests")
    store = CatalogStore(client[name])
    await store.ensure_indexes()
    report = await seed(Catalog(store, settings), DEMO_PASSWORD, {"admin": ADMIN_PASSWORD})
    try:
        yield name, report
    finally:
        await client.drop_database(name)
        await client.close()


@pytest.fixture
async def seeded(
    make_settings: Any, seeded_db: tuple[str, SeedReport]
) -> AsyncIterator[tuple[Settings, FastAPI, httpx.AsyncClient]]:
    """A running catalog on the shared seeded database (its own topics)."""
    settings: Settings = make_settings(Settings).model_copy(update={"mongo_db": seeded_db[0]})
    app = create_app(settings)
    async with running(app) as client:
        yield settings, app, client


async def test_creating_changing_and_retiring_a_service_publishes_its_states_in_order(
    infra: Infra, catalog: tuple[Settings, FastAPI, httpx.AsyncClient]
) -> None:
    settings, _, client = catalog
    admin = admin_headers(settings)
    async with probe(infra, settings.topic("catalog.service"), settings.topic("catalog.office")) as watcher:
        assert (await client.post("/admin/offices", json=office_body(), headers=admin)).status_code == 201
        created = await client.post("/admin/services", json=service_body(), headers=admin)
        assert created.status_code == 201, created.text
        update = {**service_body(expected_minutes=12), "version": 1}
        del update["service_id"]
        changed = await client.put("/admin/services/household-certificate", json=update, headers=admin)
        assert changed.json()["version"] == 2, changed.text
        retired = await client.post(
            "/admin/services/household-certificate/retire",
            json={"version": 2, "reason": "moved"},
            headers=admin,
        )
        assert retired.json()["retired"] is True

        events = await watcher.wait_for(lambda e: e.aggregate_id == "household-certificate", count=3)
        assert [(e.event_type, e.aggregate_version, e.data["version"]) for e in events] == [
            ("catalog.ServicePublished", 1, 1),
            ("catalog.ServicePublished", 2, 2),
            ("catalog.ServiceRetired", 3, 3),
        ]
        assert events[1].data["expected_minutes"] == 12
        assert {e.office_id for e in events} == {settings.city_id}
        service_keys = {record.key for record in watcher.raw if record.topic.endswith("catalog.service")}
        assert service_keys == {b"household-certificate"}
        office_event = (await watcher.wait_for(lambda e: e.event_type == "catalog.OfficeConfigured"))[0]
        assert (office_event.office_id, office_event.aggregate_id) == ("kzn-kirov-moskov", "kzn-kirov-moskov")
        assert {r.key for r in watcher.raw if r.topic.endswith("catalog.office")} == {b"kzn-kirov-moskov"}

    history = (await client.get("/services/household-certificate/history")).json()
    assert [entry["version"] for entry in history] == [1, 2, 3]
    assert (await client.get("/services/household-certificate")).json()["retired"] is True
    assert (await client.get("/offices/kzn-kirov-moskov/services")).json() == []


async def test_republish_rebuilds_a_fresh_consumers_view_exactly(
    infra: Infra, make_settings: Any, catalog: tuple[Settings, FastAPI, httpx.AsyncClient]
) -> None:
    settings, app, client = catalog
    admin = admin_headers(settings)
    for office_id in ("kzn-kirov-moskov", "kzn-vakhitov"):
        assert (
            await client.post("/admin/offices", json=office_body(office_id), headers=admin)
        ).status_code == 201
    for service_id, letter in (("household-certificate", "А"), ("egrn-extract", "Б"), ("fair-stall", "В")):
        body = service_body(service_id, letter=letter)
        assert (await client.post("/admin/services", json=body, headers=admin)).status_code == 201
    changed = {**service_body("egrn-extract", letter="Б", expected_minutes=7), "version": 1}
    del changed["service_id"]
    assert (await client.put("/admin/services/egrn-extract", json=changed, headers=admin)).status_code == 200
    retire = await client.post("/admin/services/fair-stall/retire", json={"version": 1}, headers=admin)
    assert retire.status_code == 200

    # A new consumer on topics that hold nothing but what republish sends.
    fresh_prefix = f"r{uuid.uuid4().hex[:10]}."
    await create_topics(infra.kafka, partitions=3, prefix=fresh_prefix)
    republish_settings = make_settings(
        Settings, ONEWINDOW_TOPIC_PREFIX=fresh_prefix, mongo_db=settings.database_name
    )
    assert await republish.run(republish_settings) == 2 + 3 + 1  # offices, services, one retirement

    view_settings = make_settings(
        ServiceSettings, service_name="rebuild", ONEWINDOW_TOPIC_PREFIX=fresh_prefix
    )
    consumer = ServiceRuntime(view_settings)
    view = CatalogView(consumer.db)
    router = EventRouter()
    view.subscribe(router)
    consumer.consume(router)
    await consumer.start()
    try:

        async def rebuilt() -> bool:
            return (
                await view.services.count_documents({}) == 3
                and await view.offices.count_documents({}) == 2
                and await view.services.count_documents({"retired": True}) == 1
            )

        await eventually(rebuilt, within=60)
        store = app.state.catalog.store
        for record in await store.all_offices():
            doc = await view.offices.find_one({"_id": record.office.office_id})
            assert OfficeConfigured.model_validate(doc["data"]) == record.office
        for service_record in await store.all_services():
            doc = await view.services.find_one({"_id": service_record.service.service_id})
            assert ServicePublished.model_validate(doc["data"]) == service_record.service
            assert (doc["retired"], doc["version"]) == (service_record.retired, service_record.version)
        assert (await view.service("egrn-extract")).expected_minutes == 7  # type: ignore[union-attr]
        assert await view.service("fair-stall") is None
    finally:
        await consumer.stop()


async def test_search_finds_services_by_a_misspelt_russian_word_and_an_english_one(
    seeded: tuple[Settings, FastAPI, httpx.AsyncClient],
) -> None:
    _, _, client = seeded
    russian = (await client.get("/services/search", params={"q": "спрвка о составе семи"})).json()
    assert russian[0]["service_id"] == "household-certificate"
    assert russian[0]["title"] == "Справка о составе семьи"
    english = (
        await client.get(
            "/services/search", params={"q": "kindergarden", "lang": "en", "office_id": "kzn-vakhitov"}
        )
    ).json()
    assert english[0]["service_id"] == "kindergarten-queue"
    assert english[0]["title"] == "Place in the kindergarten queue"
    assert english[0]["zone_id"] == "z1"
    # Land is decided by district administrations: not offered in the Vakhitovsky office.
    land = (
        await client.get("/services/search", params={"q": "land lease", "office_id": "kzn-vakhitov"})
    ).json()
    assert "land-lease" not in [hit["service_id"] for hit in land]


async def test_the_public_pages_show_hours_services_and_a_printable_checklist(
    seeded: tuple[Settings, FastAPI, httpx.AsyncClient],
) -> None:
    _, _, client = seeded
    offices = (await client.get("/offices")).json()
    assert {office["office_id"] for office in offices} >= {"kzn-kirov-moskov", "kzn-vakhitov"}
    office = (await client.get("/offices/kzn-kirov-moskov", params={"lang": "tt"})).json()
    assert office["zones"] == 4 and isinstance(office["open_now"], bool)
    assert office["name"] == "Киров һәм Мәскәү районнары экспресс-офисы"
    social = (await client.get("/offices/kzn-kirov-moskov/services", params={"category": "social"})).json()
    assert social and all(
        service["category"] == "social" and service["zone_id"] == "z3" for service in social
    )
    checklist = (await client.get("/services/household-certificate/checklist", params={"lang": "en"})).json()
    assert checklist["items"][0]["title"] == "Russian citizen's passport"
    page = await client.get("/services/household-certificate/checklist.html", params={"lang": "ru"})
    assert page.headers["content-type"].startswith("text/html")
    assert "Справка о составе семьи" in page.text and "@media print" in page.text
    assert (await client.get("/offices/nowhere")).status_code == 404


async def test_seeding_twice_changes_nothing_the_second_time(
    seeded: tuple[Settings, FastAPI, httpx.AsyncClient], seeded_db: tuple[str, SeedReport]
) -> None:
    _, app, _ = seeded
    first = seeded_db[1]
    second = await seed(app.state.catalog, None)
    assert len(first.offices_created) == len(demo_offices())
    assert len(first.services_created) == len(demo_services()) and first.staff_created
    assert (second.offices_created, second.services_created, second.staff_created) == ([], [], [])
    assert second.generated_passwords == {}
    assert first.generated_passwords == {}


async def test_staff_sign_in_gives_a_token_and_repeated_failures_are_slowed_down(
    seeded: tuple[Settings, FastAPI, httpx.AsyncClient],
) -> None:
    settings, _, client = seeded
    new_operator = f"operator-{uuid.uuid4().hex[:8]}"
    shared = await client.post("/auth/token", json={"username": "admin", "password": DEMO_PASSWORD})
    assert shared.status_code == 401  # the operators' password does not open the admin account
    signed_in = await client.post("/auth/token", json={"username": "admin", "password": ADMIN_PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["access_token"]
    created = await client.post(
        "/admin/staff",
        json={
            "username": new_operator,
            "password": "a long passphrase",
            "role": "operator",
            "office_id": "kzn-vakhitov",
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201, created.text
    operator = (
        await client.post("/auth/token", json={"username": new_operator, "password": "a long passphrase"})
    ).json()
    assert (operator["role"], operator["office_id"]) == ("operator", "kzn-vakhitov")

    wrong = {"username": "kiosk-kzn-vakhitov", "password": "guess"}
    statuses = [
        (await client.post("/auth/token", json=wrong)).status_code
        for _ in range(settings.signin_max_failures)
    ]
    assert statuses == [401] * settings.signin_max_failures
    locked = await client.post("/auth/token", json={**wrong, "password": DEMO_PASSWORD})
    assert locked.status_code == 429 and "reason" in locked.json()
    # The guesses came from one client (the test's address): from another, the kiosk signs in.
    elsewhere = await client.post(
        "/auth/token", json={**wrong, "password": DEMO_PASSWORD}, headers={"X-Forwarded-For": "10.9.8.7"}
    )
    assert elsewhere.status_code == 200, elsewhere.text


async def test_bad_writes_are_refused_with_a_reason(
    catalog: tuple[Settings, FastAPI, httpx.AsyncClient],
) -> None:
    settings, _, client = catalog
    admin = admin_headers(settings)
    assert (await client.post("/admin/offices", json=office_body(), headers=admin)).status_code == 201
    assert (
        await client.post("/admin/services", json=service_body(letter="П"), headers=admin)
    ).status_code == 201

    no_token = await client.post("/admin/services", json=service_body("other"))
    assert no_token.status_code == 401
    operator = await client.post(
        "/admin/services", json=service_body("other"), headers=admin_headers(settings, "operator")
    )
    assert operator.status_code == 403

    taken = await client.post("/admin/services", json=service_body("snils", letter="П"), headers=admin)
    assert taken.status_code == 409 and "П" in taken.json()["reason"]

    unknown_zone = await client.post(
        "/admin/services",
        json=service_body(
            "snils", letter="С", offerings=[{"office_id": "kzn-kirov-moskov", "zone_id": "z9"}]
        ),
        headers=admin,
    )
    assert unknown_zone.status_code == 422
    assert unknown_zone.json()["fields"][0]["field"] == "offerings.0.zone_id"

    no_title = service_body("snils", letter="С")
    no_title["checklist"] = [{"item_id": "passport", "original": True}]
    untitled = await client.post("/admin/services", json=no_title, headers=admin)
    assert untitled.status_code == 422
    assert any(problem["field"] == "checklist.0.title" for problem in untitled.json()["fields"])

    update = {**service_body(expected_minutes=20), "version": 1}
    del update["service_id"]
    assert (
        await client.put("/admin/services/household-certificate", json=update, headers=admin)
    ).status_code == 200
    stale = await client.put("/admin/services/household-certificate", json=update, headers=admin)
    assert stale.status_code == 409 and stale.json()["current_version"] == 2

    retire_busy_office = await client.post(
        "/admin/offices/kzn-kirov-moskov/retire", json={"version": 1}, headers=admin
    )
    assert retire_busy_office.status_code == 409 and retire_busy_office.json()["service_ids"] == [
        "household-certificate"
    ]


async def test_an_admin_bound_to_an_office_acts_only_on_that_office(
    catalog: tuple[Settings, FastAPI, httpx.AsyncClient],
) -> None:
    settings, _, client = catalog
    city = admin_headers(settings)
    for office_id in ("kzn-kirov-moskov", "kzn-vakhitov"):
        assert (
            await client.post("/admin/offices", json=office_body(office_id), headers=city)
        ).status_code == 201
    local = staff_headers(settings, "admin", "kzn-kirov-moskov", "office-admin")

    def update_of(office_id: str) -> dict[str, Any]:
        body = {**office_body(office_id), "version": 1}
        del body["office_id"]
        return body

    def staff(username: str, role: str, office_id: str | None) -> dict[str, Any]:
        return {"username": username, "password": "a long passphrase", "role": role, "office_id": office_id}

    refused = [
        await client.post("/admin/offices", json=office_body("kzn-new"), headers=local),
        await client.put("/admin/offices/kzn-vakhitov", json=update_of("kzn-vakhitov"), headers=local),
        await client.post("/admin/offices/kzn-vakhitov/retire", json={"version": 1}, headers=local),
        await client.post("/admin/services", json=service_body(), headers=local),
        await client.post("/admin/staff", json=staff("root-2", "admin", None), headers=local),
        await client.post("/admin/staff", json=staff("boss-2", "admin", "kzn-kirov-moskov"), headers=local),
        await client.post("/admin/staff", json=staff("op-v-1", "operator", "kzn-vakhitov"), headers=local),
        await client.post("/admin/republish", headers=local),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused), [r.text for r in refused]

    own = await client.put(
        "/admin/offices/kzn-kirov-moskov", json=update_of("kzn-kirov-moskov"), headers=local
    )
    assert own.status_code == 200, own.text
    made = await client.post(
        "/admin/staff", json=staff("op-k-9", "operator", "kzn-kirov-moskov"), headers=local
    )
    assert made.status_code == 201, made.text

    # A retired office is no longer offered to citizens (staff screens may still ask for it).
    retired = await client.post("/admin/offices/kzn-vakhitov/retire", json={"version": 1}, headers=city)
    assert retired.status_code == 200, retired.text
    listed = {office["office_id"] for office in (await client.get("/offices")).json()}
    assert listed == {"kzn-kirov-moskov"}
    everything = (await client.get("/offices", params={"include_retired": "true"})).json()
    assert {office["office_id"] for office in everything} == {"kzn-kirov-moskov", "kzn-vakhitov"}
    detail = (await client.get("/offices/kzn-kirov-moskov")).json()
    assert detail["issuing_now"] == detail["open_now"]


async def test_an_admin_disables_an_operator_who_then_cannot_sign_in_and_the_audit_tells_who_did_it(
    infra: Infra, catalog: tuple[Settings, FastAPI, httpx.AsyncClient]
) -> None:
    settings, _, client = catalog
    city = admin_headers(settings)
    assert (await client.post("/admin/offices", json=office_body(), headers=city)).status_code == 201
    operator = {"username": "op-audit-1", "password": "a long passphrase"}
    async with probe(infra, settings.topic("catalog.audit")) as watcher:
        made = await client.post(
            "/admin/staff",
            json={**operator, "role": "operator", "office_id": "kzn-kirov-moskov"},
            headers=city,
        )
        assert made.status_code == 201, made.text
        assert (await client.post("/auth/token", json=operator)).status_code == 200
        disabled = await client.post("/admin/staff/op-audit-1/disable", headers=city)
        assert disabled.status_code == 200 and disabled.json()["disabled"] is True, disabled.text
        refused = await client.post("/auth/token", json=operator)
        assert refused.status_code == 401 and refused.json()["reason"] == "wrong username or password"
        reset = await client.post("/admin/staff/op-audit-1/reset-password", headers=city)
        assert reset.status_code == 200 and len(reset.json()["password"]) >= 12
        assert (await client.post("/admin/staff/nobody/disable", headers=city)).status_code == 404
        assert (await client.post("/admin/staff/test-admin/disable", headers=city)).status_code == 404

        events = await watcher.wait_for(lambda e: e.event_type == "catalog.AuditRecorded", count=3)
        assert [e.data["action"] for e in events] == [
            "staff.created",
            "staff.disabled",
            "staff.password_reset",
        ]
        assert {(e.office_id, e.data["actor"], e.data["target_id"]) for e in events} == {
            ("kzn-kirov-moskov", "test-admin", "op-audit-1")
        }
        assert all("hash" not in str(e.data) and operator["password"] not in str(e.data) for e in events)

    staff_list = (await client.get("/admin/staff?office_id=kzn-kirov-moskov", headers=city)).json()
    assert [(s["username"], s["disabled"]) for s in staff_list] == [("op-audit-1", True)]
    await eventually(
        lambda: client.get("/admin/audit?target_id=op-audit-1", headers=city),
        lambda r: len(r.json()) == 3,
        what="the three changes projected into the audit log",
    )
    audit = (await client.get("/admin/audit?action=staff.disabled", headers=city)).json()
    assert [(a["actor"], a["target_id"], a["before"], a["after"]) for a in audit] == [
        ("test-admin", "op-audit-1", {"disabled": False}, {"disabled": True})
    ]
    whole = (await client.get("/admin/audit?target_id=op-audit-1", headers=city)).json()
    assert [a["action"] for a in whole] == ["staff.password_reset", "staff.disabled", "staff.created"]
    supervisor = admin_headers(settings, role="supervisor")
    assert (await client.get("/admin/audit", headers=supervisor)).status_code == 403
    seen = (await client.get("/offices/kzn-kirov-moskov/staff", headers=supervisor)).json()
    assert seen[0]["operator_ref"] and "password_hash" not in seen[0]


async def test_office_settings_are_audited_and_alert_recipients_reach_the_notifier_only_sealed(
    infra: Infra, catalog: tuple[Settings, FastAPI, httpx.AsyncClient]
) -> None:
    settings, _, client = catalog
    city = admin_headers(settings)
    assert (await client.post("/admin/offices", json=office_body(), headers=city)).status_code == 201
    async with probe(infra, settings.topic("catalog.office")) as watcher:
        saved = await client.put(
            "/admin/offices/kzn-kirov-moskov/alert-recipients",
            json={"recipients": ["Head@kzn.example.org", "deputy@kzn.example.org"]},
            headers=city,
        )
        assert saved.status_code == 200, saved.text
        assert saved.json()["recipients"] == ["head@kzn.example.org", "deputy@kzn.example.org"]
        event = (await watcher.wait_for(lambda e: e.event_type == "catalog.OfficeAlertRecipientsSet"))[0]
    assert (
        event.aggregate_id == "kzn-kirov-moskov.alert-recipients"
        and len(event.data["recipients_sealed"]) == 2
    )
    assert "kzn.example.org" not in str(event.data)
    bad = await client.put(
        "/admin/offices/kzn-kirov-moskov/alert-recipients",
        json={"recipients": ["not an address"]},
        headers=city,
    )
    assert bad.status_code == 422

    body = {**office_body(), "version": 1, "sla": {"max_wait_minutes": 12, "appointment_max_wait_minutes": 5}}
    del body["office_id"]
    changed = await client.put("/admin/offices/kzn-kirov-moskov", json=body, headers=city)
    assert changed.status_code == 200, changed.text
    # The audit log is the projection of catalog.audit: the entries arrive through the stream.
    audit = (
        await eventually(
            lambda: client.get("/admin/audit?office_id=kzn-kirov-moskov", headers=city),
            lambda r: len(r.json()) == 2,
            what="both changes in the audit log",
        )
    ).json()
    assert [a["action"] for a in audit] == ["office.settings_changed", "office.alert_recipients_set"]
    assert (
        audit[0]["before"]["sla"]["max_wait_minutes"] == 15
        and audit[0]["after"]["sla"]["max_wait_minutes"] == 12
    )
    assert audit[1]["after"] == {"alert_recipients": ["h***@kzn.example.org", "d***@kzn.example.org"]}
