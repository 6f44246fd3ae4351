"""The office's people at the counter, in Chromium: the reception desk issuing, booking and sending a
citizen online; check-in by code printing a number; rating from the ticket's QR and from the window's
screen, once per visit; a checklist sent by SMS from the kiosk; the kiosk after its closing cut-off, in
Tatar; the hall board's sound state and two-language announcement. Screenshots in docs/screenshots/
with ONEWINDOW_SCREENSHOTS=1."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect
from testbed.browser import (
    BASE_URL,
    OfficeUnderTest,
    SmsInbox,
    System,
    closing_soon_today,
    create_test_office,
    retire_test_office,
    screenshot,
    wait_until,
)


@pytest.fixture(autouse=True)
def actions_fail_fast(desktop: BrowserContext, phone: BrowserContext) -> None:
    """A click on something that never appears fails in 30 s, not at the suite's timeout."""
    for context in (desktop, phone):
        context.set_default_timeout(30_000)


def api(method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, f"{BASE_URL}/api{path}", headers=headers, timeout=30, **kwargs)


def token_of(username: str, password: str) -> str:
    signed = api("POST", "/catalog/auth/token", json={"username": username, "password": password})
    signed.raise_for_status()
    return str(signed.json()["access_token"])


def shoot(page: Page, name: str) -> None:
    """Into docs/screenshots/ when ONEWINDOW_SCREENSHOTS=1 (testbed.browser.screenshot)."""
    page.evaluate("document.fonts.ready")
    screenshot(page, f"{name}.png")


def sign_in(page: Page, username: str, password: str) -> None:
    page.locator("input[name=username]:visible").fill(username)
    page.locator("input[name=password]:visible").fill(password)
    page.locator("form:visible [type=submit]").click()


def kiosk_page(context: BrowserContext, office: OfficeUnderTest, lang: str = "en") -> Page:
    kiosk = context.new_page()
    kiosk.goto(f"/kiosk/?office={office.office_id}&setup=1&lang={lang}")
    sign_in(kiosk, office.kiosk, office.password)
    expect(kiosk.locator("#home")).to_be_visible()
    return kiosk


def book_soonest(office: OfficeUnderTest, **body: Any) -> httpx.Response:
    """Books the soonest free slot (at most one 15-minute step away in the 24/7 office, so check-in is
    open); the next one if the soonest began between listing and booking."""
    slots = api(
        "GET",
        f"/appointments/offices/{office.office_id}/services/{office.service_id}/slots",
        params={"days": 2},
    ).json()["slots"]
    booked = None
    for slot in [s for s in slots if s["seats_left"] > 0][:2]:
        when = {"slot_start": slot["slot_start"]}
        where = {"office_id": office.office_id, "service_id": office.service_id}
        booked = api("POST", "/appointments/appointments", json={**where, **when, **body})
        if booked.status_code == 201:
            break
    assert booked is not None and booked.status_code == 201, booked.text if booked else "no free slot"
    return booked


def serve_at_window(office: OfficeUnderTest, window_no: int, number: str) -> None:
    """The operator of `window_no` calls, serves and completes tickets (over the API) until `number`
    has been served: tickets other tests left waiting may come first."""
    operator = token_of(office.operator(window_no), office.password)
    base = f"/ticketing/windows/{office.office_id}/{window_no}"
    opened = api(
        "POST",
        "/ticketing/windows/open",
        operator,
        json={
            "office_id": office.office_id,
            "window_no": window_no,
            "service_ids": [office.service_id, office.other_service_id],
        },
    )
    assert opened.status_code == 200, opened.text
    served: list[str] = []
    while number not in served:
        assert len(served) < 10, f"{number} was not called; served {served}"
        called = api("POST", f"{base}/call-next", operator)
        assert called.status_code == 200, called.text
        assert api("POST", f"{base}/start", operator).status_code == 200
        done = api("POST", f"{base}/complete", operator, json={"outcome": "served"})
        assert done.status_code == 200, done.text
        served.append(str(called.json()["number"]))
    api("POST", f"{base}/close", operator)


def test_the_reception_issues_with_a_checked_priority_books_and_sends_online(
    desktop: BrowserContext, office: OfficeUnderTest
) -> None:
    desk = desktop.new_page()
    desk.goto("/reception/?lang=en")
    sign_in(desk, office.reception, office.password)
    desk.get_by_placeholder(re.compile("Service:")).fill("certificate")
    desk.get_by_role("button", name="Search").click()
    desk.locator(f"#hits [data-service-id='{office.service_id}']").click()
    panel = desk.locator("#service-panel")
    expect(panel.locator(".checklist")).to_contain_text("Passport")
    print_link = panel.get_by_role("link", name="Printable checklist")
    printable = re.compile(f"/{office.service_id}/checklist.html\\?lang=en$")
    expect(print_link).to_have_attribute("href", printable)

    # A legal priority only once the consultant confirms the document was checked.
    desk.get_by_label("Priority category").select_option("pregnant")
    desk.get_by_role("button", name="Issue a ticket").click()
    expect(desk.locator("#issue-form .form-error")).to_contain_text("Confirm that the priority document")
    desk.get_by_label("The document proving the priority was checked").check()
    desk.get_by_role("button", name="Issue a ticket").click()
    expect(desk.locator("#slip-number")).to_have_text(re.compile(r"^А\d{3,}$"))
    rate_qr = desk.locator("#slip-rate-qr svg.qr")
    expect(rate_qr).to_have_attribute("data-text", re.compile(r"/r/[A-Za-z0-9_-]{20,}"))
    screenshot(desk.locator("#desk"), "reception-ticket.png")  # the whole desk, slip included

    # Tomorrow: every slot is still ahead, whatever the hour the test runs at.
    tomorrow = (datetime.now(ZoneInfo("Europe/Moscow")) + timedelta(days=1)).date().isoformat()
    desk.locator("#rc-day").fill(tomorrow)
    desk.locator("#rc-day").dispatch_event("change")
    desk.locator("#rc-slots label").first.click()
    desk.get_by_label("Visitor's name").fill("Гарипова Алия")
    desk.get_by_role("button", name="Book", exact=True).click()
    expect(desk.locator("#result")).to_contain_text(re.compile(r"Booking code: [A-Z0-9]{6}"))

    desk.get_by_role("button", name="Visitor sent online").click()
    expect(desk.locator("#result")).to_have_attribute("data-outcome", "sent_online")
    expect(desk.locator("#result")).to_contain_text("Recorded: sent online")


def test_a_checked_in_citizen_gets_a_number_and_rates_once_at_the_window_or_from_the_ticket(
    desktop: BrowserContext, phone: BrowserContext, office: OfficeUnderTest
) -> None:
    # A booking in Tatar: the hall announces its call in the office's Russian, then in Tatar.
    code = book_soonest(office, name="Хәйруллин Марат", language="tt").json()["code"]
    assert len(code) == 6

    board = desktop.new_page()
    board.goto(f"/board/?office={office.office_id}&lang=en")
    expect(board.locator("body")).to_have_attribute("data-sound", "off")
    expect(board.locator("#sound-state")).to_contain_text("Sound off")
    hall = desktop.new_page()
    hall.goto(f"/board/?office={office.office_id}&lang=en&kiosk=1")  # a kiosk-mode display: no tap
    expect(hall.locator("body")).to_have_attribute("data-stream", "live")
    expect(hall.locator("body")).to_have_attribute("data-sound", "on")
    expect(hall.locator("#sound")).to_be_hidden()

    kiosk = kiosk_page(desktop, office)
    kiosk.get_by_role("button", name="I have an appointment").click()
    expect(kiosk.get_by_label("Booking code")).to_have_attribute("placeholder", re.compile(r": [A-Z0-9]{6}$"))
    kiosk.get_by_label("Booking code").fill(code.lower())
    kiosk.get_by_role("button", name="Check in").click()
    expect(kiosk.locator("#slip-checked-in")).to_be_visible()
    number = kiosk.locator("#slip-number").inner_text()
    assert re.fullmatch(r"А\d{3,}", number), number
    rate_link = kiosk.locator("#slip-rate-qr svg.qr").get_attribute("data-text") or ""
    assert re.search(r"/r/[A-Za-z0-9_-]{40,}\?lang=en$", rate_link), rate_link
    shoot(kiosk, "kiosk-checkin-ticket")

    # Before the visit is over the ticket's rating link has nothing to rate yet.
    early = phone.new_page()
    early.goto(rate_link.replace(BASE_URL, ""))
    expect(early.locator("#load-error")).to_contain_text("when it is over")

    # The window's rating screen, paired with window 7, asks as soon as the visit is completed there.
    tablet = desktop.new_page()
    tablet.goto("/rate/?lang=en")
    sign_in(tablet, office.operator(7), office.password)
    expect(tablet.locator("body")).to_have_attribute("data-window", "7")
    serve_at_window(office, 7, number)
    expect(hall.locator("body")).to_have_attribute("data-announced-in", "ru tt")
    expect(hall.locator("body")).to_have_attribute("data-chimes", re.compile(r"^[1-9]"))
    expect(tablet.get_by_role("heading", name=f"Ticket {number}: how were you served?")).to_be_visible()
    shoot(tablet, "rate-window")
    with tablet.expect_request(lambda r: r.method == "POST" and "/rating" in r.url) as rating:
        tablet.locator("#stars [data-rating='5']").click()
    assert re.fullmatch(r"[0-9a-f]{32}", rating.value.headers.get("idempotency-key", "")), (
        "a retry is one rating"
    )
    expect(tablet.get_by_role("heading", name="Thank you for your rating!")).to_be_visible()

    # The same visit from the ticket's QR: already rated, and a second rating is refused.
    rate = phone.new_page()
    rate.goto(rate_link.replace(BASE_URL, ""))
    expect(rate.get_by_role("heading", name="Thank you for your rating!")).to_be_visible()
    token = rate_link.split("/r/")[1].split("?")[0]
    again = api("POST", f"/feedback/feedback/by-ticket/{token}", json={"rating": 1})
    assert again.status_code == 409 and again.json()["error"] == "VisitAlreadyRated"


def test_a_walk_in_rates_from_the_qr_on_its_ticket_and_the_window_screen_then_has_nothing_to_ask(
    desktop: BrowserContext, phone: BrowserContext, office: OfficeUnderTest
) -> None:
    kiosk = kiosk_page(desktop, office)
    kiosk.locator("[data-category=municipal]").click()
    kiosk.locator(f"[data-service-id='{office.service_id}']").click()
    kiosk.get_by_role("button", name="Yes, I have them all").click()
    kiosk.get_by_role("button", name="No, regular queue").click()
    kiosk.locator("#take-without-phone").click()
    expect(kiosk.locator("#slip-number")).to_have_text(re.compile(r"^А\d{3,}$"))
    number = kiosk.locator("#slip-number").inner_text()
    rate_link = kiosk.locator("#slip-rate-qr svg.qr").get_attribute("data-text") or ""
    serve_at_window(office, 7, number)  # window 1 is the citizen journey's
    token = rate_link.split("/r/")[1].split("?")[0]
    wait_until(
        lambda: api("GET", f"/feedback/feedback/by-ticket/{token}").status_code == 200,
        60,
        "the visit's rating to open",
    )

    rate = phone.new_page()
    rate.goto(rate_link.replace(BASE_URL, ""))
    rate.locator("label", has_text="4").first.click()
    shoot(rate, "feedback-from-ticket")
    with rate.expect_request(lambda r: r.method == "POST" and "/by-ticket/" in r.url) as rating:
        rate.get_by_role("button", name="Send").click()
    assert re.fullmatch(r"[0-9a-f]{32}", rating.value.headers.get("idempotency-key", "")), (
        "a retry is one rating"
    )
    expect(rate.get_by_role("heading", name="Thank you for your rating!")).to_be_visible()
    operator = token_of(office.operator(7), office.password)
    offered = api("GET", f"/feedback/offices/{office.office_id}/windows/7/rating", operator)
    assert offered.status_code == 200, offered.text
    # Rated from the ticket: the window's screen has nothing to ask about this visit (tickets other
    # tests left waiting may have been served before it there, unrated).
    assert offered.json() is None or offered.json()["number"] != number


def test_the_kiosk_sends_a_checklist_by_sms_with_the_printable_page(
    desktop: BrowserContext, office: OfficeUnderTest, sms_inbox: SmsInbox
) -> None:
    kiosk = kiosk_page(desktop, office)
    kiosk.locator("[data-category=municipal]").click()
    kiosk.locator(f"[data-service-id='{office.service_id}']").click()
    tools = kiosk.locator("#checklist-tools")
    expect(tools.get_by_role("link", name="Printable checklist")).to_have_attribute(
        "href", f"/api/catalog/services/{office.service_id}/checklist.html?lang=en"
    )
    phone_number = f"+7917{secrets.randbelow(10**7):07d}"  # a few checklists a day per contact
    tools.get_by_label("Send the checklist by SMS or e-mail").fill(phone_number)
    tools.get_by_role("button", name="Send").click()
    expect(tools.locator(".checklist-sent")).to_have_text("The checklist was sent by SMS.")
    shoot(kiosk, "kiosk-checklist-sent")
    sms = sms_inbox.wait_for(lambda m: str(m.get("to", "")).endswith(phone_number[-7:]))
    assert "Passport" in sms["text"] and f"/{office.service_id}/checklist.html?lang=en" in sms["text"]


@pytest.fixture(scope="module")
def closing_office(system: System) -> Iterator[OfficeUnderTest]:
    created = create_test_office(system.password, overrides=closing_soon_today())
    yield created
    retire_test_office(created)


def test_after_the_cutoff_the_kiosk_refuses_tickets_and_says_why_in_tatar(
    desktop: BrowserContext, closing_office: OfficeUnderTest
) -> None:
    kiosk = kiosk_page(desktop, closing_office, lang="tt")
    note = kiosk.locator("#closed-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("Бүгенгә талоннар бирелми инде")
    kiosk.locator("[data-category=municipal]").click()
    kiosk.locator(f"[data-service-id='{closing_office.service_id}']").click()
    kiosk.locator("#have-all").click()
    kiosk.locator("[data-priority=none]").click()
    kiosk.locator("#take-without-phone").click()
    error = kiosk.locator("#ticket-form .form-error")
    expect(error).to_contain_text("Бүгенгә талоннар бирелми инде: офис")
    assert "no longer issued" not in error.inner_text(), "the English reason stays off the Tatar screen"
    expect(kiosk.locator("#ticket")).to_be_hidden()
    shoot(kiosk, "kiosk-cutoff-tt")
