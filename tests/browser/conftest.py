"""Browser-test fixtures: the whole system running (started here when it is not), a test office open
around the clock, the SMS inbox, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, expect, sync_playwright
from testbed.browser import (
    BASE_URL,
    CHROMIUM,
    CHROMIUM_ARGS,
    PHONE_DEVICE,
    OfficeUnderTest,
    SmsInbox,
    System,
    create_test_office,
    retire_test_office,
    start_system,
)

# Events cross Kafka between services: give the pages time to show them, without sleeping.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def sms_inbox() -> Iterator[SmsInbox]:
    inbox = SmsInbox()
    yield inbox
    inbox.close()


@pytest.fixture(scope="session")
def system(sms_inbox: SmsInbox) -> Iterator[System]:
    running = start_system()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def office(system: System) -> Iterator[OfficeUnderTest]:
    created = create_test_office(system.password)
    yield created
    retire_test_office(created)


@pytest.fixture
def fresh_office(system: System) -> Iterator[OfficeUnderTest]:
    """An office no other test has touched, for a test that asserts its totals (ratings, served)."""
    created = create_test_office(system.password)
    yield created
    retire_test_office(created)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run deploy/local/web.sh install")
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=BASE_URL, viewport={"width": 1366, "height": 900}, locale="ru-RU")
    yield context
    context.close()


@pytest.fixture
def phone(browser: Browser, playwright: Playwright) -> Iterator[BrowserContext]:
    """A citizen's phone as Playwright emulates it: 360 px wide, touch, a mobile viewport."""
    device = {k: v for k, v in playwright.devices[PHONE_DEVICE].items() if k != "default_browser_type"}
    context = browser.new_context(**device, base_url=BASE_URL, locale="ru-RU")
    yield context
    context.close()
