"""The supervisor's live dashboard in Chromium, driven through the real services: a queue that will pass
the wait target brings an SLA forecast and an "open one more window" suggestion over the notifier's
stream without a reload; a low rating given from the ticket's link opens on the visit's timeline."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, expect
from testbed.browser import (
    BASE_URL,
    INTERNAL_URL,
    OfficeUnderTest,
    System,
    create_test_office,
    retire_test_office,
    screenshot,
    secrets_env,
    wait_until,
)

from .test_citizen_journey import sign_in, take_ticket_at_kiosk

BUSY_AT = (55.8040, 49.0580)
QUIET_AT = (55.8100, 49.0800)  # 1.5 km away: 6 min on the way


def at(point: tuple[float, float]) -> dict[str, object]:
    return {"location": {"lat": point[0], "lon": point[1]}}


@pytest.fixture(scope="module")
def busy_office(system: System) -> Iterator[OfficeUnderTest]:
    """An office of its own: the tickets left waiting here would be called elsewhere's operators."""
    office = create_test_office(system.password, overrides=at(BUSY_AT))
    yield office
    retire_test_office(office)


def api(method: str, path: str, token: str | None = None, **kwargs: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.request(method, f"{BASE_URL}/api{path}", headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]
    assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
    return response


def token_of(username: str, password: str) -> str:
    signed = api("POST", "/catalog/auth/token", json={"username": username, "password": password})
    return str(signed.json()["access_token"])


def take_ticket(office: OfficeUnderTest, kiosk: str) -> dict[str, str]:
    body = {
        "office_id": office.office_id,
        "service_id": office.service_id,
        "language": "en",
        "channel": "kiosk",
    }
    return dict(api("POST", "/ticketing/tickets", kiosk, json=body).json())


def test_an_sla_forecast_appears_live_and_a_low_rating_opens_on_its_timeline(
    browser: Browser, busy_office: OfficeUnderTest
) -> None:
    office = busy_office
    kiosk = token_of(office.kiosk, office.password)
    operator = token_of(office.operator(7), office.password)
    # One visit served and rated 1 from the ticket's own link: an alert with the visit's timeline.
    served = take_ticket(office, kiosk)
    window = f"/ticketing/windows/{office.office_id}/7"
    api(
        "POST",
        "/ticketing/windows/open",
        operator,
        json={"office_id": office.office_id, "window_no": 7, "service_ids": [office.service_id]},
    )
    api("POST", f"{window}/call-next", operator)
    api("POST", f"{window}/start", operator)
    api("POST", f"{window}/complete", operator, json={"outcome": "served"})
    api("POST", f"{window}/close", operator)
    token = served["link"].rstrip("/").split("/")[-1].split("?")[0]

    def rate() -> bool:  # feedback learns of the visit from the stream: 404 until then
        answer = httpx.post(
            f"{BASE_URL}/api/feedback/feedback/by-ticket/{token}",
            json={"rating": 1, "tags": ["waiting_time"]},
            timeout=30,
        )
        assert answer.status_code in (201, 404), answer.text
        return answer.status_code == 201

    wait_until(rate, 60, "the rating from the ticket's link to be taken")

    context = browser.new_context(base_url=BASE_URL, viewport={"width": 1366, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.goto("/supervisor/?lang=en")
    sign_in(page, office.supervisor, office.password)
    expect(page.locator("#sla-feed")).to_have_attribute("data-state", "live")
    expect(page.locator("#sla-feed li.muted")).to_have_text("None yet")

    # Three waiting and no window open: the third will wait about 25 min against a 15 min target.
    for _ in range(3):
        take_ticket(office, kiosk)
    forecast = page.locator("#sla-feed li[data-kind=predicted]").first
    expect(forecast).to_be_visible(timeout=90_000)
    expect(forecast).to_contain_text("forecast")
    expect(page.locator(f"#suggestions li[data-service-id='{office.service_id}']")).to_contain_text(
        "Open 1 more window(s)", timeout=60_000
    )

    alert = page.locator("#alerts li[data-rating='1']")
    alert.get_by_role("button", name="Rating 1/5", exact=False).click()
    timeline = alert.locator("ol.timeline")
    expect(timeline.locator("li[data-what='ticketing.TicketIssued']")).to_contain_text("Ticket issued")
    expect(timeline.locator("li[data-what='ticketing.ServiceCompleted']")).to_contain_text("served")
    screenshot(page, "supervisor-live.png")
    context.close()


def offer_also_at(service_id: str, office: OfficeUnderTest) -> None:
    """The admin adds an office to a service's offerings (zone z1), as the catalog's screens would;
    the office's own service with the same ticket letter is retired first."""
    admin = token_of("admin", secrets_env()["ONEWINDOW_DEMO_PASSWORD_ADMIN"])
    headers = {"Authorization": f"Bearer {admin}"}
    own = api("GET", f"/catalog/services/{office.service_id}").json()
    retired = httpx.post(
        f"{INTERNAL_URL}/api/catalog/admin/services/{office.service_id}/retire",
        json={"version": own["version"], "reason": "the office takes the shared service instead"},
        headers=headers,
        timeout=30,
    )
    assert retired.status_code == 200, retired.text
    office_id = office.office_id
    published = api("GET", f"/catalog/services/{service_id}").json()["published"]
    body = {key: value for key, value in published.items() if key not in ("service_id", "version")}
    body["offerings"] = [*published["offerings"], {"office_id": office_id, "zone_id": "z1"}]
    changed = httpx.put(
        f"{INTERNAL_URL}/api/catalog/admin/services/{service_id}",
        json={**body, "version": published["version"]},
        headers=headers,
        timeout=30,
    )
    assert changed.status_code == 200, changed.text


def test_a_faster_office_nearby_is_suggested_on_the_kiosk_and_the_web_ticket_moves_there(
    browser: Browser, system: System, busy_office: OfficeUnderTest
) -> None:
    busy = busy_office
    quiet = create_test_office(system.password, overrides=at(QUIET_AT))
    try:
        offer_also_at(busy.service_id, quiet)
        # The quiet office opens a window for the service (ticketing knows the new offering once it can).
        operator = token_of(quiet.operator(7), quiet.password)
        window = {"office_id": quiet.office_id, "window_no": 7, "service_ids": [busy.service_id]}
        wait_until(
            lambda: (
                httpx.post(
                    f"{BASE_URL}/api/ticketing/windows/open",
                    json=window,
                    headers={"Authorization": f"Bearer {operator}"},
                    timeout=30,
                ).is_success
            ),
            60,
            "the quiet office to open a window for the shared service",
        )
        # The busy one: nobody serving it and people waiting, so about half an hour.
        kiosk = token_of(busy.kiosk, busy.password)
        for _ in range(3):
            take_ticket(busy, kiosk)

        def suggested() -> bool:
            found = api(
                "GET", f"/notifier/offices/{busy.office_id}/nearby", params={"service_id": busy.service_id}
            )
            return any(o["office_id"] == quiet.office_id for o in found.json()["offices"])

        wait_until(suggested, 60, "the notifier to see both offices' queues")

        desk = browser.new_context(base_url=BASE_URL, viewport={"width": 1366, "height": 900}, locale="en-GB")
        kiosk_page = desk.new_page()
        _, link = take_ticket_at_kiosk(kiosk_page, busy)
        nearby = kiosk_page.locator("#nearby")
        expect(nearby).to_have_attribute("data-office-id", quiet.office_id)
        expect(nearby).to_contain_text("Faster nearby")
        expect(nearby).to_contain_text("1.5 km")
        screenshot(kiosk_page, "kiosk-nearby.png")
        desk.close()

        phone = browser.new_context(
            base_url=BASE_URL,
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            locale="en-GB",
        )
        ticket_page = phone.new_page()
        ticket_page.goto(link.replace(BASE_URL, ""))
        box = ticket_page.locator("#nearby")
        expect(box).to_have_attribute("data-office-id", quiet.office_id)
        screenshot(ticket_page, "t-nearby.png")
        old_token = link.split("/t/")[1].split("?")[0]
        box.get_by_role("button", name="Take a ticket there").click()
        expect(ticket_page).not_to_have_url(re.compile(old_token))
        expect(ticket_page.locator("#number")).to_have_text(re.compile(r"^А\d{3}$"))
        new_token = ticket_page.url.split("/t/")[1].split("?")[0]
        moved = api("GET", f"/ticketing/tickets/by-token/{new_token}").json()
        assert (moved["office_id"], moved["service_id"], moved["state"]) == (
            quiet.office_id,
            busy.service_id,
            "waiting",
        )
        assert api("GET", f"/ticketing/tickets/by-token/{old_token}").json()["state"] == "cancelled"
        phone.close()
    finally:
        retire_test_office(quiet)
