"""The supervisor's live dashboard in Chromium, driven through the real services: a queue that will pass
the wait target brings an SLA forecast and an "open one more window" suggestion over the notifier's
stream without a reload; a low rating given from the ticket's link opens on the visit's timeline."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, expect
from testbed.browser import (
    BASE_URL,
    OfficeUnderTest,
    System,
    create_test_office,
    retire_test_office,
    screenshot,
    wait_until,
)

from .test_citizen_journey import sign_in


@pytest.fixture(scope="module")
def busy_office(system: System) -> Iterator[OfficeUnderTest]:
    """An office of its own: the tickets left waiting here would be called elsewhere's operators."""
    office = create_test_office(system.password)
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
