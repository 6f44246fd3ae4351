"""After citizens' journeys no log of nginx or of a service holds a citizen token: whoever reads logs
must not be able to cancel tickets and bookings or rate visits. Three kinds of token, each used in
the browser: a ticket's (kiosk ticket with a phone, the SMS link, the mobile ticket, cancelled there;
and the ticket's rating QR, /r/), a booking's (the manage link, cancelled there), and a feedback
link's (from the SMS after a served visit, rated there). The services write each log line at once
(servicekit.logging), so a token cannot hide in a buffer while the logs are read.

The citizen's pages are opened on a 360 px phone (the `phone` fixture): each fits the screen (a wider
page is zoomed out, and a tap meant for Cancel landed on the row around it), and its buttons take a
plain click: the mobile ticket and its printable checklist, the booking page, the manage page, feedback."""

from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import BrowserContext, expect
from testbed.browser import VAR, OfficeUnderTest, SmsInbox, System, fits_the_screen, screenshot

from .test_citizen_journey import take_ticket_at_kiosk
from .test_counter import api, book_soonest, serve_at_window, token_of

# Not the journey's phone: each phone gets a few messages a day (the notifier's cap).
OTHER_PHONE = "+7 917 555-01-44"


def wait_for_line(log: Path, line: str) -> None:
    """The masked request reached `log`: everything the request logged is written by then."""
    deadline = time.monotonic() + 30
    while line not in log.read_text(errors="ignore"):
        assert time.monotonic() < deadline, f"{line!r} never reached {log}"
        time.sleep(0.2)


def test_no_log_holds_a_citizen_token_after_a_journey(
    desktop: BrowserContext,
    phone: BrowserContext,
    office: OfficeUnderTest,
    system: System,
    sms_inbox: SmsInbox,
) -> None:
    logs = VAR / "log"
    access = logs / "nginx-access.log"

    # A ticket: the SMS link, the mobile ticket, cancelled there.
    kiosk = desktop.new_page()
    number, link = take_ticket_at_kiosk(kiosk, office)
    ticket_token = re.search(r"/t/([A-Za-z0-9_-]+)", link).group(1)  # type: ignore[union-attr]
    sms_inbox.wait_for(lambda m: ticket_token in str(m.get("text", "")), timeout=90)  # the SMS carries it
    mobile = phone.new_page()
    mobile.on("dialog", lambda dialog: dialog.accept())
    mobile.goto(link)
    expect(mobile.locator("#number")).to_have_text(number)
    mobile.locator("#docs summary").click()  # the documents to bring, and their printable page
    printable = mobile.locator("#docs .print-link")
    expect(printable).to_be_visible()
    fits_the_screen(mobile)
    screenshot(mobile, "phone-ticket.png")
    checklist = phone.new_page()
    checklist.goto(printable.get_attribute("href") or "")
    expect(checklist.locator("table")).to_contain_text("Passport")
    fits_the_screen(checklist)
    screenshot(checklist, "phone-checklist.png")
    mobile.locator("#cancel").click()
    expect(mobile.locator("#cancel")).to_be_hidden()
    wait_for_line(access, "POST /api/ticketing/tickets/by-token/***/cancel")

    # The booking page on the phone: "Book" says what is missing (nothing is sent).
    book = phone.new_page()
    book.goto(f"/book/?office={office.office_id}&service={office.service_id}&lang=en")
    expect(book.locator("#office")).to_have_value(office.office_id)
    expect(book.locator("#book-docs-body .print-link")).to_be_attached()  # loaded, to the documents
    fits_the_screen(book)
    screenshot(book, "phone-book.png")
    book.locator("#book").click()
    expect(book.locator("#book-form .form-error")).to_be_visible()

    # A booking: its manage link on the phone, cancelled there. The code shown is the widest the
    # alphabet allows (six W): the page must still fit, and Cancel still take a plain tap.
    booking = book_soonest(office, name="Тестова Анна", phone=OTHER_PHONE).json()
    booking_token = booking["manage_path"].rsplit("/", 1)[1]
    manage = phone.new_page()
    manage.on("dialog", lambda dialog: dialog.accept())
    manage.goto(booking["manage_path"] + "?lang=en")
    expect(manage.locator("#code")).to_contain_text(booking["code"])
    manage.locator("#code").evaluate("code => { code.textContent = 'WWWWWW'; }")
    fits_the_screen(manage)
    screenshot(manage, "phone-manage.png")
    manage.locator("#cancel").click()
    expect(manage.locator("#result")).to_have_text("Your appointment is cancelled.")
    expect(manage.locator("#cancel")).to_be_hidden()
    wait_for_line(access, "POST /api/appointments/appointments/by-token/***/cancel")

    # A served visit: the feedback link of the SMS, rated there; then the ticket's rating QR.
    kiosk_token = token_of(office.kiosk, office.password)
    issued = api(
        "POST",
        "/ticketing/tickets",
        kiosk_token,
        json={"office_id": office.office_id, "service_id": office.service_id, "phone": OTHER_PHONE},
    )
    assert issued.status_code == 201, issued.text
    served_token = issued.json()["citizen_token"]
    serve_at_window(office, 7, issued.json()["number"])  # window 1 is the citizen journey's

    def feedback_link_to_other_phone(message: dict[str, object]) -> bool:
        to = re.sub(r"\D", "", str(message.get("to", "")))
        return "/feedback/" in str(message.get("text", "")) and to.endswith("9175550144")

    sms = sms_inbox.wait_for(feedback_link_to_other_phone, timeout=90)
    feedback_link = re.search(r"/feedback/[A-Za-z0-9_-]+", str(sms["text"])).group(0)  # type: ignore[union-attr]
    feedback_token = feedback_link.rsplit("/", 1)[1]
    rate = phone.new_page()
    rate.goto(feedback_link + "?lang=en")
    rate.locator("label", has_text="4").first.click()
    fits_the_screen(rate)
    rate.get_by_role("button", name="Send").click()
    expect(rate.get_by_role("heading", name="Thank you for your rating!")).to_be_visible()
    wait_for_line(access, "POST /api/feedback/feedback/***")
    rated = phone.new_page()
    rated.goto(f"/r/{served_token}?lang=en")  # the rating QR on the ticket: rated already
    expect(rated.get_by_role("heading", name="Thank you for your rating!")).to_be_visible()
    wait_for_line(access, "GET /api/feedback/feedback/by-ticket/***")

    tokens = {
        "ticket": ticket_token,
        "booking": booking_token,
        "feedback": feedback_token,
        "rated ticket": served_token,
    }
    holding = {
        kind: [path.name for path in sorted(logs.glob("*.log")) if token in path.read_text(errors="ignore")]
        for kind, token in tokens.items()
    }
    assert not any(holding.values()), f"citizen tokens in the logs: {holding}"
