"""`python tests/browser/screenshots.py`: a screenshot of every screen under docs/screenshots/.

Starts what is not running (like the browser tests), makes a test office open around the clock with a
little life in it (tickets, a call, a booking, a low rating), then photographs each page: desktop size,
a 360 px phone for the mobile ticket, the feedback page and the manage page. Stops what it started.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright
from testbed.browser import (
    BASE_URL,
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE_DEVICE,
    ROOT,
    OfficeUnderTest,
    SmsInbox,
    create_test_office,
    retire_test_office,
    start_system,
)

OUT = ROOT / "docs" / "screenshots"
DESKTOP: ViewportSize = {"width": 1366, "height": 900}
PHONES: dict[str, dict[str, Any]] = {}  # Playwright's device descriptors, filled in main()
expect.set_options(timeout=30_000)


def api(method: str, path: str, token: str | None = None, **kwargs: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.request(method, f"{BASE_URL}/api{path}", headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]
    response.raise_for_status()
    return response


def token_of(username: str, password: str) -> str:
    return str(
        api("POST", "/catalog/auth/token", json={"username": username, "password": password}).json()[
            "access_token"
        ]
    )


def new_page(browser: Browser, viewport: ViewportSize = DESKTOP, phone: bool = False) -> Page:
    if phone:  # the browser tests' phone: Playwright's emulation of a 360 px wide one
        device = {k: v for k, v in PHONES[PHONE_DEVICE].items() if k != "default_browser_type"}
        return browser.new_page(**device, base_url=BASE_URL, locale="ru-RU", timezone_id="Europe/Moscow")
    return browser.new_page(viewport=viewport, base_url=BASE_URL, locale="ru-RU", timezone_id="Europe/Moscow")


def shoot(page: Page, name: str, full_page: bool = False, streaming: bool = False) -> None:
    if not streaming:  # a page holding an event stream open is never network-idle
        page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready")
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full_page, animations="disabled")
    print(f"screenshots: {name}.png")


def sign_in(page: Page, username: str, password: str) -> None:
    page.locator("input[name=username]:visible").fill(username)
    page.locator("input[name=password]:visible").fill(password)
    page.locator("form:visible [type=submit]").click()


def some_life(office: OfficeUnderTest) -> dict[str, str]:
    """Tickets waiting for both services, one called at window 7: the board and dashboard show something."""
    kiosk = token_of(office.kiosk, office.password)
    links: dict[str, str] = {}
    for i, service in enumerate(
        [office.service_id, office.other_service_id, office.service_id, office.other_service_id]
    ):
        ticket = api(
            "POST",
            "/ticketing/tickets",
            kiosk,
            json={
                "office_id": office.office_id,
                "service_id": service,
                "language": "ru",
                "channel": "kiosk",
                "phone": f"+7917555{i:04d}",
            },
        ).json()
        links[f"ticket{i}"] = ticket["link"]
    operator = token_of(office.operator(7), office.password)
    api(
        "POST",
        "/ticketing/windows/open",
        operator,
        json={"office_id": office.office_id, "window_no": 7, "service_ids": [office.other_service_id]},
    )
    api("POST", f"/ticketing/windows/{office.office_id}/7/call-next", operator)
    return links


def kiosk_screens(browser: Browser, office: OfficeUnderTest) -> None:
    page = new_page(browser, DESKTOP)
    page.goto(f"/kiosk/?office={office.office_id}&setup=1&lang=ru")
    shoot(page, "kiosk-setup")
    sign_in(page, office.kiosk, office.password)
    expect(page.locator("[data-category=municipal]")).to_be_visible()
    shoot(page, "kiosk-home")
    page.locator("[data-lang=tt]").click()
    expect(page.locator("#home-title")).to_have_text("Исәнмесез! Хезмәтне сайлагыз")
    shoot(page, "kiosk-home-tt")
    page.locator("[data-lang=ru]").click()
    page.locator("#search-q").fill("справка")
    page.locator("#search-form button").click()
    expect(page.locator("#service-list .tile").first).to_be_visible()
    shoot(page, "kiosk-search")
    page.locator(f"[data-service-id='{office.service_id}']").first.click()
    expect(page.locator("#online-qr svg")).to_be_visible()
    shoot(page, "kiosk-checklist", full_page=True)
    page.locator("#have-all").click()
    expect(page.locator("#priority-list .tile").first).to_be_visible()
    shoot(page, "kiosk-priority")
    page.locator("[data-priority=none]").click()
    page.locator("#phone-input").fill("12")
    page.locator("#take-ticket").click()
    expect(page.locator("#phone .field-error")).to_be_visible()
    shoot(page, "kiosk-phone-error")
    page.locator("#phone-input").fill("+7 917 555-77-88")
    page.locator("#take-ticket").click()
    expect(page.locator("#slip-number")).to_have_text(re.compile(r"\d"))
    shoot(page, "kiosk-ticket", full_page=True)
    page.locator("#ticket-done").click()
    page.locator("#to-checkin").click()
    page.locator("#checkin-code").fill("ZZZZZZ")
    page.locator("#checkin-submit").click()
    expect(page.locator("#checkin .form-error")).to_be_visible()
    shoot(page, "kiosk-checkin-error")
    page.close()


def board_and_staff_screens(browser: Browser, office: OfficeUnderTest) -> None:
    page = new_page(browser, {"width": 1600, "height": 900})
    page.goto(f"/board/?office={office.office_id}&lang=ru")
    expect(page.locator(".call.newest")).to_be_visible()
    expect(page.locator("#waiting li").first).to_be_visible()
    shoot(page, "board", streaming=True)
    page.close()

    page = new_page(browser, DESKTOP)
    page.goto("/operator/?lang=ru")
    shoot(page, "operator-signin")
    sign_in(page, office.operator(1), office.password)
    expect(page.locator("#open-form")).to_be_visible()
    shoot(page, "operator-open-window")
    page.locator("#open-submit").click()
    page.locator("#call-next").click()
    expect(page.locator("#current-state")).not_to_be_empty()
    shoot(page, "operator-console", full_page=True)
    page.locator("#start").click()
    page.locator("#outcome").select_option("served")
    page.locator("#complete").click()
    expect(page.locator("#current-number")).to_have_text("—")
    page.close()


def citizen_phone_screens(browser: Browser, links: dict[str, str]) -> None:
    page = new_page(browser, phone=True)
    page.goto(f"{links['ticket2']}?lang=ru")
    expect(page.locator("#position")).to_have_text(re.compile(r"\d"))
    shoot(page, "t-waiting")
    page.goto(f"{links['ticket1']}?lang=ru")
    expect(page.locator("#go")).to_be_visible()
    shoot(page, "t-called")
    page.close()


def booking_screens(browser: Browser, office: OfficeUnderTest) -> None:
    page = new_page(browser, DESKTOP)
    page.goto(f"/book/?office={office.office_id}&service={office.service_id}&lang=ru")
    expect(page.locator("#slots label").first).to_be_visible()
    page.locator("#slots label").nth(2).click()
    page.locator("#name").fill("Иванова Анна")
    shoot(page, "book", full_page=True)
    page.locator("#book").click()
    expect(page.locator("#code")).not_to_be_empty()
    shoot(page, "book-done")
    manage = page.locator("#manage-link").get_attribute("href") or ""
    page.goto(manage)
    expect(page.locator("#code")).not_to_be_empty()
    shoot(page, "book-manage", full_page=True)
    page.close()
    page = new_page(browser, phone=True)  # the SMS link is opened on a phone
    page.goto(manage)
    expect(page.locator("#code")).not_to_be_empty()
    shoot(page, "book-manage-phone", full_page=True)
    page.close()


def feedback_screens(browser: Browser, inbox: SmsInbox) -> None:
    try:
        sms = inbox.wait_for(lambda m: "/feedback/" in str(m.get("text", "")), timeout=60)
    except TimeoutError:
        print("screenshots: no feedback SMS reached the test inbox (notifier in log mode?); feedback skipped")
        return
    url = re.search(r"/feedback/[A-Za-z0-9_-]+", sms["text"]).group(0)  # type: ignore[union-attr]
    page = new_page(browser, phone=True)
    page.goto(f"{url}?lang=ru")
    expect(page.locator("#stars label").first).to_be_visible()
    page.locator("#stars label").nth(1).click()
    page.locator("#tags label").first.click()
    page.locator("#comment").fill("Долго ждал, но оператор всё объяснил")
    shoot(page, "feedback", full_page=True)
    page.locator("#send").click()
    expect(page.locator("#thanks")).to_be_visible()
    shoot(page, "feedback-thanks")
    page.close()


def supervisor_screen(browser: Browser, office: OfficeUnderTest) -> None:
    page = new_page(browser, {"width": 1440, "height": 1000})
    page.goto("/supervisor/?lang=ru")
    sign_in(page, office.supervisor, office.password)
    expect(page.locator("#live-rows tr").first).to_be_visible()
    expect(page.locator("#alerts li").first).to_be_visible()
    shoot(page, "supervisor", full_page=True)
    page.close()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    inbox = SmsInbox()
    system = start_system()
    office = create_test_office(system.password)
    try:
        links = some_life(office)
        with sync_playwright() as driver:
            PHONES.update(driver.devices)
            browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = new_page(browser, DESKTOP)
            page.goto("/?lang=ru")
            shoot(page, "index")
            page.close()
            kiosk_screens(browser, office)
            board_and_staff_screens(browser, office)
            citizen_phone_screens(browser, links)
            booking_screens(browser, office)
            feedback_screens(browser, inbox)
            supervisor_screen(browser, office)
            browser.close()
    finally:
        retire_test_office(office)
        inbox.close()
        system.stop()


if __name__ == "__main__":
    main()
