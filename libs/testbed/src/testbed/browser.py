"""The running OneWindow system for browser tests and screenshots: start what is not up, a test office
open around the clock, an SMS inbox standing in for the gateway, and Chromium launch settings."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from contracts import calendar
from contracts.samples import sample_office
from pymongo import MongoClient

from testbed import ROOT, two_services

VAR = Path(os.environ.get("ONEWINDOW_VAR", ROOT / "var"))
BASE_URL = os.environ.get("ONEWINDOW_WEB_URL", "http://127.0.0.1:8080")
# nginx's internal listener: admin paths are not reachable on the public port.
INTERNAL_URL = os.environ.get("ONEWINDOW_WEB_INTERNAL_URL", "http://127.0.0.1:8081")
SERVICE_PORTS = {"catalog": 8001, "ticketing": 8002, "appointments": 8003, "feedback": 8004, "notifier": 8005}
SMS_PORT = 9025  # the notifier's default SMS gateway address (NOTIFIER_SMS_URL)
# Services the tests start themselves run on their own topics and databases: the demo that a later
# `make up` shows never lists a test office.
TEST_TOPIC_PREFIX = "e2e."
TEST_DATABASES = {service: f"e2e_onewindow_{service}" for service in SERVICE_PORTS}
MONGO_URL = os.environ.get("ONEWINDOW_MONGO_URL", "mongodb://127.0.0.1:27017")

CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium on a machine whose network refuses everything but loopback: no background traffic.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def screenshot(target: Any, name: str) -> None:
    """With ONEWINDOW_SCREENSHOTS=1, a page or element the test reached goes to docs/screenshots/
    (screens that need a past, like last week's history, are photographed where a test makes one)."""
    if os.environ.get("ONEWINDOW_SCREENSHOTS") == "1":
        target.screenshot(path=str(ROOT / "docs" / "screenshots" / name))


# The narrowest phone the citizen screens are checked on (360 px wide, touch, a mobile viewport).
PHONE_DEVICE = "Galaxy S8"

_OVERFLOW = """() => {
  const root = document.documentElement, width = Math.min(root.clientWidth, screen.width);
  const wide = [...document.querySelectorAll("body *")]
    .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > width + 1)
    .map((e) => `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}${e.className ? "." + e.className : ""}`);
  return {screen: screen.width, layout: root.clientWidth, content: root.scrollWidth, wide: wide.slice(0, 8)};
}"""


def fits_the_screen(page: Any) -> None:
    """Nothing on `page` is wider than the phone's screen: a wider page is zoomed out or scrolls sideways
    (and a tap meant for one button can land on what is next to it)."""
    seen = page.evaluate(_OVERFLOW)
    fits = seen["content"] <= seen["screen"] and seen["layout"] <= seen["screen"]
    assert fits, f"wider than the phone: {seen}"


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.25) -> None:
    """Polls `check` until it holds; fails with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def services_up() -> bool:
    return all(_ready(port) for port in SERVICE_PORTS.values())


def web_up() -> bool:
    try:
        return httpx.get(f"{BASE_URL}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def secrets_env() -> dict[str, str]:
    path = subprocess.run(
        [str(ROOT / "deploy/local/secrets.sh")], check=True, capture_output=True, text=True
    ).stdout.strip()
    values: dict[str, str] = {}
    for line in Path(path).read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


# ------------------------------------------------------------------ the SMS inbox


class SmsInbox:
    """A stand-in SMS gateway on 127.0.0.1:9025: keeps every {"to", "text"} the notifier posts."""

    def __init__(self, port: int = SMS_PORT) -> None:
        self.messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    message = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    message = {}
                with inbox._lock:
                    inbox.messages.append(message)
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"accepted": true}')

            def log_message(self, *args: Any) -> None:  # quiet: test output stays readable
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 60) -> dict[str, Any]:
        found: list[dict[str, Any]] = []

        def check() -> bool:
            with self._lock:
                found[:] = [m for m in self.messages if predicate(m)]
            return bool(found)

        wait_until(check, timeout, "an SMS to arrive at the test gateway")
        return found[-1]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------ starting and stopping


@dataclass
class System:
    started_services: bool = False
    started_web: bool = False
    password: str = ""
    # Topics of the running services: the tests' own when this run started them.
    topic_prefix: str = field(default_factory=lambda: os.environ.get("ONEWINDOW_TOPIC_PREFIX", ""))
    log: list[str] = field(default_factory=list)

    def stop(self) -> None:
        if self.started_web:
            subprocess.run([str(ROOT / "deploy/local/web.sh"), "down"], check=False)
        if self.started_services:
            subprocess.run([str(ROOT / "deploy/local/services.sh"), "down"], check=False)
            mongo: MongoClient[dict[str, Any]]
            with MongoClient(MONGO_URL, serverSelectionTimeoutMS=5000) as mongo:
                for database in TEST_DATABASES.values():
                    mongo.drop_database(database)


def test_environment() -> dict[str, str]:
    """Topics and databases of the tests' own run (never the demo's)."""
    env = {"ONEWINDOW_TOPIC_PREFIX": TEST_TOPIC_PREFIX}
    env.update({f"{service.upper()}_MONGO_DB": name for service, name in TEST_DATABASES.items()})
    return env


def start_system() -> System:
    """Starts the services (after seeding the catalog) and nginx when they are not up already."""
    system = System()
    env = {**os.environ, **secrets_env()}
    # The test office's staff are created by the tests, with a password of this run.
    system.password = secrets.token_urlsafe(12)
    # Only what this call starts is stopped at the end; a slow readiness probe is no reason to restart.
    status = subprocess.run([str(ROOT / "deploy/local/services.sh"), "status"], capture_output=True)
    already = status.returncode == 0 or services_up()
    if already:
        wait_until(services_up, 120, "the running services to be ready")
    else:
        env.update(test_environment())
        system.topic_prefix = TEST_TOPIC_PREFIX
        subprocess.run(
            [str(ROOT / ".venv/bin/python"), "-m", "contracts.topics", "create"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        subprocess.run(
            [str(ROOT / ".venv/bin/python"), "-m", "catalog.seed"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        # SMS go to the test inbox (its default address), at any hour: the journey reads its links.
        env.update(
            {
                "NOTIFIER_CHANNEL": "live",
                "NOTIFIER_QUIET_HOURS": "",
                "NOTIFIER_NIGHT_HOURS": "",
                "NOTIFIER_SMS_URL": f"http://127.0.0.1:{SMS_PORT}/sms",
            }
        )
        env.setdefault("ONEWINDOW_READY_TIMEOUT", "150")
        subprocess.run([str(ROOT / "deploy/local/services.sh"), "up"], cwd=ROOT, env=env, check=True)
        system.started_services = True
    if not web_up():
        subprocess.run([str(ROOT / "deploy/local/web.sh"), "up"], cwd=ROOT, check=True)
        system.started_web = True
    return system


# ------------------------------------------------------------------ a test office, open around the clock


@dataclass(frozen=True)
class OfficeUnderTest:
    office_id: str
    service_id: str  # online too, with a checklist
    other_service_id: str
    password: str

    @property
    def kiosk(self) -> str:
        return f"kiosk-{self.office_id}"

    @property
    def reception(self) -> str:
        return f"reception-{self.office_id}"

    @property
    def supervisor(self) -> str:
        return f"supervisor-{self.office_id}"

    def operator(self, window_no: int) -> str:
        return f"operator-{self.office_id}-{window_no}"


def _api(
    client: httpx.Client, method: str, path: str, token: str | None = None, **kwargs: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    base = INTERNAL_URL if path.startswith("/catalog/admin/") else BASE_URL
    return client.request(method, f"{base}/api{path}", headers=headers, timeout=30, **kwargs)


def _admin_token(client: httpx.Client) -> httpx.Response:
    """The demo admin signs in with its own password (var/secrets.env), never the operators'."""
    env = secrets_env()
    signed = _api(
        client,
        "POST",
        "/catalog/auth/token",
        json={"username": "admin", "password": env["ONEWINDOW_DEMO_PASSWORD_ADMIN"]},
    )
    if signed.status_code == 401 and env.get("ONEWINDOW_DEMO_PASSWORD"):
        # A catalog seeded before every account had its own password keeps the old shared one.
        signed = _api(
            client,
            "POST",
            "/catalog/auth/token",
            json={"username": "admin", "password": env["ONEWINDOW_DEMO_PASSWORD"]},
        )
    return signed


def closing_soon_today(minutes: int = 30) -> dict[str, Any]:
    """Office settings that close it `minutes` from now (local time) with a cut-off longer than that:
    open now, but kiosks no longer issue tickets."""
    office = sample_office("x", all_day=True)
    local = calendar.local_now(office, datetime.now(UTC))
    soon = local + timedelta(minutes=minutes)
    close = "24:00" if soon.date() != local.date() else f"{soon:%H:%M}"
    today = {"date": local.date().isoformat(), "open": "00:00", "close": close, "note": "short day"}
    # Only today's hours: tomorrow it does not open at midnight, so today's closing is a real one.
    return {
        "exceptions": [today],
        "hours": [{"weekday": local.weekday(), "open": "00:00", "close": "24:00"}],
        "issue_cutoff_minutes": 2 * minutes,
    }


def create_test_office(
    password: str, office_id: str | None = None, overrides: dict[str, Any] | None = None
) -> OfficeUnderTest:
    """A fresh office open 00:00-24:00 every day (tests run at any hour), two services, its staff;
    `overrides` change its settings (e.g. `closing_soon_today()`)."""
    office_id = office_id or f"e2e-{secrets.token_hex(3)}"
    office = OfficeUnderTest(office_id, f"{office_id}-cert", f"{office_id}-benefit", password)
    with httpx.Client() as client:
        token = _admin_token(client)
        token.raise_for_status()
        admin = token.json()["access_token"]
        spec = sample_office(office_id, all_day=True).model_dump(
            mode="json", exclude={"office_id", "version", "retired"}
        )
        spec.update(overrides or {})
        spec["name"] = {
            "ru": "Экспресс-офис (тестовый, круглосуточный)",
            "tt": "Экспресс-офис (сынау)",
            "en": "Express office (test, open 24/7)",
        }
        created = _api(client, "POST", "/catalog/admin/offices", admin, json={"office_id": office_id, **spec})
        assert created.status_code in (201, 409), created.text
        services = two_services(office_id, office.service_id, office.other_service_id)
        for service in services:
            body = service.model_dump(mode="json", exclude={"service_id", "version"})
            body["code"] = service.service_id.upper()
            if service.service_id == office.other_service_id:
                body["category"] = "social"
                body["title"] = {
                    "ru": "Единовременное пособие",
                    "tt": "Бер тапкыр бирелә торган пособие",
                    "en": "One-off allowance",
                }
            made = _api(
                client,
                "POST",
                "/catalog/admin/services",
                admin,
                json={"service_id": service.service_id, **body},
            )
            assert made.status_code in (201, 409), made.text
        accounts = [
            (office.kiosk, "kiosk"),
            (office.reception, "reception"),
            (office.supervisor, "supervisor"),
            (office.operator(1), "operator"),
            (office.operator(7), "operator"),
        ]
        for username, role in accounts:
            made = _api(
                client,
                "POST",
                "/catalog/admin/staff",
                admin,
                json={"username": username, "password": password, "role": role, "office_id": office_id},
            )
            assert made.status_code in (201, 409), made.text
        # The other services learn the office from catalog events: wait until each of them knows it.
        wait_until(
            lambda: (
                _api(client, "GET", f"/ticketing/offices/{office_id}/queue").status_code == 200
                and _known_to_ticketing(client, office, password)
            ),
            60,
            "ticketing to know the test office",
        )
        wait_until(
            lambda: _api(client, "GET", f"/notifier/boards/{office_id}").status_code == 200,
            60,
            "the notifier to know the test office",
        )
        wait_until(
            lambda: (
                _api(
                    client,
                    "GET",
                    f"/appointments/offices/{office_id}/services/{office.service_id}/slots",
                    params={"days": 1},
                ).status_code
                == 200
            ),
            60,
            "appointments to know the test office",
        )
    return office


def _known_to_ticketing(client: httpx.Client, office: OfficeUnderTest, password: str) -> bool:
    """Both services reached ticketing's catalog copy (a window for them opens; it is closed again)."""
    signed = _api(
        client, "POST", "/catalog/auth/token", json={"username": office.operator(7), "password": password}
    )
    if signed.status_code != 200:
        return False
    token = signed.json()["access_token"]
    opened = _api(
        client,
        "POST",
        "/ticketing/windows/open",
        token,
        json={
            "office_id": office.office_id,
            "window_no": 7,
            "service_ids": [office.service_id, office.other_service_id],
        },
    )
    if opened.status_code != 200:
        return False
    _api(client, "POST", f"/ticketing/windows/{office.office_id}/7/close", token)
    return True


def retire_test_office(office: OfficeUnderTest) -> None:
    """Retires the test office and its services so pages listing offices do not offer it."""
    with httpx.Client() as client:
        token = _admin_token(client)
        if token.status_code != 200:
            return
        admin = token.json()["access_token"]
        for service_id in (office.service_id, office.other_service_id):
            _retire(client, admin, f"services/{service_id}", reason="browser test finished")
        _retire(client, admin, f"offices/{office.office_id}")


def _retire(client: httpx.Client, admin: str, entry: str, **body: str) -> None:
    """Retires a catalog entry (`services/{id}`, `offices/{id}`) at its current version, if it is there."""
    current = _api(client, "GET", f"/catalog/{entry}")
    if current.status_code == 200:
        version = current.json()["version"]
        _api(client, "POST", f"/catalog/admin/{entry}/retire", admin, json={"version": version, **body})
