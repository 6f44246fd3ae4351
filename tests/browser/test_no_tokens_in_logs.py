"""After a citizen's journey (kiosk ticket with a phone, the SMS link, the mobile ticket, cancelling
it there) no log of nginx or of a service holds the ticket's token: whoever reads logs must not be
able to cancel citizens' tickets."""

from __future__ import annotations

import re
import time

from playwright.sync_api import BrowserContext, expect
from testbed.browser import VAR, OfficeUnderTest, SmsInbox, System

from .test_citizen_journey import take_ticket_at_kiosk


def test_no_log_holds_a_citizen_token_after_a_journey(
    desktop: BrowserContext,
    phone: BrowserContext,
    office: OfficeUnderTest,
    system: System,
    sms_inbox: SmsInbox,
) -> None:
    kiosk = desktop.new_page()
    number, link = take_ticket_at_kiosk(kiosk, office)
    token = re.search(r"/t/([A-Za-z0-9_-]+)", link).group(1)  # type: ignore[union-attr]
    sms_inbox.wait_for(lambda m: token in str(m.get("text", "")), timeout=90)  # the SMS carries the link

    mobile = phone.new_page()
    mobile.on("dialog", lambda dialog: dialog.accept())
    mobile.goto(link)
    expect(mobile.locator("#number")).to_have_text(number)
    mobile.locator("#cancel").click()
    expect(mobile.locator("#cancel")).to_be_hidden()

    logs = VAR / "log"
    access = logs / "nginx-access.log"
    deadline = time.monotonic() + 30
    while "POST /api/ticketing/tickets/by-token/***/cancel" not in access.read_text(errors="ignore"):
        assert time.monotonic() < deadline, f"the cancel never reached {access}"
        time.sleep(0.2)
    holding = [path.name for path in sorted(logs.glob("*.log")) if token in path.read_text(errors="ignore")]
    assert not holding, f"the citizen's token is in {holding}"
