"""A citizen's visit through the real pages in Chromium: kiosk ticket -> operator call -> board and mobile
ticket -> completion -> feedback from the SMS link -> the supervisor's dashboard."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Page, expect
from testbed.browser import OfficeUnderTest, SmsInbox, System

PHONE = "+7 917 555-01-02"


def sign_in(page: Page, username: str, password: str) -> None:
    page.get_by_label(re.compile("Username|Логин")).fill(username)
    page.get_by_label(re.compile("Password|Пароль")).fill(password)
    page.locator("form:visible [type=submit]").click()


def take_ticket_at_kiosk(kiosk: Page, office: OfficeUnderTest) -> tuple[str, str]:
    """Kiosk: category -> service -> checklist -> priority -> phone -> ticket. Returns (number, link)."""
    kiosk.goto(f"/kiosk/?office={office.office_id}&setup=1&lang=en")
    sign_in(kiosk, office.kiosk, office.password)
    kiosk.locator("[data-category=municipal]").click()
    kiosk.locator(f"[data-service-id='{office.service_id}']").click()

    expect(kiosk.get_by_role("heading", name="Do you have these documents?")).to_be_visible()
    expect(kiosk.locator("#checklist-items")).to_contain_text("Passport")
    expect(kiosk.locator("#online-qr svg.qr")).to_have_attribute("data-text", "https://uslugi.tatarstan.ru/")
    kiosk.get_by_role("button", name="Yes, I have them all").click()
    kiosk.get_by_role("button", name="No, regular queue").click()

    # A wrong phone number: the service's reason appears next to the field, nothing is issued.
    kiosk.get_by_label("Phone number (optional)").fill("12")
    kiosk.get_by_role("button", name="Take a ticket").click()
    expect(kiosk.locator("#phone .field-error")).to_contain_text("10 to 15 digits")
    expect(kiosk.get_by_label("Phone number (optional)")).to_have_attribute("aria-invalid", "true")

    # A double tap takes one ticket, not two.
    issued: list[str] = []
    kiosk.on(
        "request",
        lambda r: (
            issued.append(r.url) if r.method == "POST" and r.url.endswith("/api/ticketing/tickets") else None
        ),
    )
    kiosk.get_by_label("Phone number (optional)").fill(PHONE)
    kiosk.locator("#take-ticket").dblclick()
    number = kiosk.locator("#slip-number")
    expect(number).to_have_text(re.compile(r"^А\d{3,}$"))
    assert len(issued) == 1, f"a double tap sent {len(issued)} ticket requests"
    expect(kiosk.locator("#slip-estimate")).to_contain_text("min")
    link = kiosk.locator("#slip-qr svg.qr").get_attribute("data-text") or ""
    assert re.search(r"/t/[A-Za-z0-9_-]{20,}\?lang=en$", link), link
    return number.inner_text(), link


def test_a_citizens_visit_from_kiosk_to_feedback_reaches_the_dashboard(
    desktop: BrowserContext,
    phone: BrowserContext,
    fresh_office: OfficeUnderTest,
    system: System,
    sms_inbox: SmsInbox,
) -> None:
    # Its own office: the dashboard's totals below (one rating, one served) are this visit's alone,
    # whichever browser tests ran before it.
    office = fresh_office
    kiosk = desktop.new_page()
    number, link = take_ticket_at_kiosk(kiosk, office)

    mobile = phone.new_page()
    mobile.goto(link)
    expect(mobile.locator("#number")).to_have_text(number)
    expect(mobile.locator("#position")).to_have_text(re.compile(r"^\d+$"))
    expect(mobile.locator("#cancel")).to_be_visible()

    board = desktop.new_page()
    board.goto(f"/board/?office={office.office_id}&lang=en")
    expect(board.locator("body")).to_have_attribute("data-stream", "live")

    operator = desktop.new_page()
    operator.goto("/operator/?lang=en")
    sign_in(operator, office.operator(1), office.password)
    expect(operator.get_by_label("Window number")).to_have_value("1")
    expect(operator.locator(f"#service-checks input[value='{office.service_id}']")).to_be_checked()
    operator.get_by_role("button", name="Open the window").click()
    expect(operator.get_by_role("heading", name="Window 1")).to_be_visible()
    operator.get_by_role("button", name="Call next").click()
    expect(operator.locator("#current-number")).to_have_text(number)
    expect(operator.locator("#op-checklist")).to_contain_text("Passport")

    # The board shows the call first, highlighted, and announces it; the phone says where to go.
    newest = board.locator(".call.newest")
    expect(newest).to_have_attribute("data-number", number)
    expect(newest).to_contain_text("Window 1")
    expect(board.locator("#announcer")).to_contain_text(re.compile(f"{number[0]}-?{number[1:]}"))
    expect(mobile.locator("#go")).to_have_text("Go to window 1")

    operator.get_by_role("button", name="Start service").click()
    expect(operator.locator("#current-state")).to_have_text("Being served")
    operator.get_by_label("Outcome").select_option("served")
    operator.get_by_role("button", name="Complete").click()
    expect(operator.locator("#current-number")).to_have_text("—")
    expect(operator.locator("[data-count=served] strong")).to_have_text("1")
    expect(mobile.locator("#state")).to_contain_text("Your visit is over")

    # The feedback link comes by SMS to the phone given at the kiosk.
    sms = sms_inbox.wait_for(lambda m: "/feedback/" in str(m.get("text", "")), timeout=90)
    assert re.sub(r"\D", "", str(sms["to"])).endswith("9175550102")
    feedback_url = re.search(r"https?://\S+/feedback/[A-Za-z0-9_-]+", sms["text"]).group(0)  # type: ignore[union-attr]
    rate = phone.new_page()
    rate.goto(feedback_url.replace("http://127.0.0.1:8080", "") + "?lang=en")
    rate.get_by_role("button", name="Send").click()
    expect(rate.locator("[data-field=rating] .field-error")).to_contain_text("Pick a rating")
    rate.locator("label", has_text="2").first.click()
    rate.get_by_text("Waiting time").click()
    rate.get_by_label("Comment (optional)").fill("Долго ждал у окна")
    with rate.expect_request(lambda r: r.method == "POST" and "/feedback/" in r.url) as rating:
        rate.get_by_role("button", name="Send").click()
    assert re.fullmatch(r"[0-9a-f]{32}", rating.value.headers.get("idempotency-key", "")), (
        "a retry is one rating"
    )
    expect(rate.get_by_role("heading", name="Thank you for your rating!")).to_be_visible()

    dashboard = desktop.new_page()
    dashboard.goto("/supervisor/?lang=en")
    sign_in(dashboard, office.supervisor, office.password)
    expect(dashboard.locator("[data-kpi=ratings] strong")).to_have_text("1")
    expect(dashboard.locator("[data-kpi=served] strong")).to_have_text("1")
    alert = dashboard.locator("#alerts li[data-rating='2']")
    expect(alert).to_contain_text("Waiting time")
    alert.get_by_role("button", name="Acknowledge").click()
    expect(alert).to_contain_text("Acknowledged")
    expect(dashboard.locator(f"#live-rows tr[data-service-id='{office.service_id}']")).to_have_attribute(
        "data-light", "green"
    )
