"""A dropped connection shows the banner and the page recovers by itself when the services answer again."""

from __future__ import annotations

import re

from playwright.sync_api import BrowserContext, Route, expect
from testbed.browser import OfficeUnderTest


def test_a_lost_connection_raises_the_banner_and_it_clears_when_the_service_answers(
    desktop: BrowserContext, office: OfficeUnderTest
) -> None:
    page = desktop.new_page()
    page.goto(f"/kiosk/?office={office.office_id}&lang=en")
    expect(page.locator("[data-category=municipal]")).to_be_visible()

    def refuse(route: Route) -> None:
        route.abort("connectionrefused")

    page.route(re.compile(r"/api/catalog/"), refuse)
    page.locator("[data-category=municipal]").click()
    page.locator(f"[data-service-id='{office.service_id}']").click()
    banner = page.locator("#connection-banner")
    expect(banner).to_be_visible()
    expect(banner).to_have_text("Connection to the server lost. Reconnecting…")

    page.unroute(re.compile(r"/api/catalog/"))
    expect(banner).to_have_text("Connection restored")
    expect(banner).to_be_hidden()
    # Nothing was lost: the visitor taps again and goes on.
    page.locator(f"[data-service-id='{office.service_id}']").click()
    expect(page.get_by_role("heading", name="Do you have these documents?")).to_be_visible()
