"""Administration in Chromium, on the internal listener: the admin creates an operator, disables them;
the operator can no longer sign in on the console; the audit log shows who did it, before and after."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import Browser, expect
from testbed.browser import BASE_URL, INTERNAL_URL, OfficeUnderTest, screenshot, secrets_env

from .test_citizen_journey import sign_in


def test_an_admin_disables_an_operator_who_then_cannot_sign_in_and_the_audit_shows_it(
    browser: Browser, office: OfficeUnderTest
) -> None:
    username = f"operator-{office.office_id}-x{secrets.token_hex(2)}"
    password = f"pass-{secrets.token_urlsafe(12)}"
    context = browser.new_context(viewport={"width": 1366, "height": 1000}, locale="en-GB")
    page = context.new_page()
    page.goto(f"{INTERNAL_URL}/admin/?lang=en&office={office.office_id}")
    sign_in(page, "admin", secrets_env()["ONEWINDOW_DEMO_PASSWORD_ADMIN"])
    expect(page.locator("#office-pick")).to_have_value(office.office_id)

    form = page.locator("#staff-form")
    form.get_by_label("Account name").fill(username)
    form.get_by_label("Role").select_option("operator")
    form.get_by_label("First password").fill(password)
    form.get_by_role("button", name="Create").click()
    row = page.locator(f"#staff-rows tr[data-username='{username}']")
    expect(row).to_have_attribute("data-disabled", "false")

    console = context.new_page()
    console.goto(f"{BASE_URL}/operator/?lang=en&office={office.office_id}")
    sign_in(console, username, password)
    expect(console.locator("#signout")).to_be_visible()  # signed in while enabled
    windows = f"/api/ticketing/offices/{office.office_id}/windows"
    ask_ticketing = """async (path) => {
        const session = JSON.parse(sessionStorage.getItem("ow.staff.operator"));
        const response = await fetch(path, { headers: { Authorization: `Bearer ${session.access_token}` } });
        return { status: response.status, body: await response.json() };
    }"""
    assert console.evaluate(ask_ticketing, windows)["status"] == 200

    row.get_by_role("button", name="Disable").click()
    expect(row).to_have_attribute("data-disabled", "true")
    expect(row).to_contain_text("Disabled")

    # The token the console still holds (valid for hours) is refused by ticketing within seconds:
    # the StaffAccessRevoked of the change reaches ticketing's catalog view.
    console.wait_for_function(
        f"async (path) => (await ({ask_ticketing})(path)).status === 401",
        arg=windows,
        polling=250,
        timeout=30_000,
    )
    assert console.evaluate(ask_ticketing, windows)["body"]["reason"].startswith("token revoked")
    console.locator("#signout").click()

    sign_in(console, username, password)
    expect(console.locator("#signin-form .form-error")).to_contain_text("wrong username or password")

    audit = page.locator("#audit-rows")
    disabled = audit.locator(f"tr[data-action='staff.disabled'][data-target='{username}']")
    expect(disabled).to_contain_text("admin")
    expect(disabled).to_contain_text('{"disabled":false}')
    expect(disabled).to_contain_text('{"disabled":true}')
    page.get_by_label("Action").select_option("staff.created")
    page.locator("#audit-form").get_by_role("button", name="Show").click()
    expect(audit.locator(f"tr[data-action='staff.created'][data-target='{username}']")).to_have_count(1)
    expect(audit.locator("tr[data-action='staff.disabled']")).to_have_count(0)
    expect(page.locator("#cutoff")).to_have_text(re.compile(r"^\d+$"))

    # An office setting changed on the screen is audited with its before and after.
    settings = page.locator("#settings-form")
    settings.get_by_label("With an appointment, min").fill("6")
    settings.get_by_role("button", name="Save").click()
    expect(settings).to_have_attribute("data-saved", re.compile(r"\d+"))
    page.get_by_label("Action").select_option("office.settings_changed")
    page.locator("#audit-form").get_by_role("button", name="Show").click()
    expect(audit.locator("tr[data-action='office.settings_changed']").first).to_contain_text(
        '"appointment_max_wait_minutes":6'
    )

    # A window with a schedule of its own, set on the screen: audited, and ticketing refuses to open
    # it outside that schedule (no day ticked: the window is off every day).
    windows_form = page.locator("#windows-form")
    last = windows_form.locator(".window-row").last
    window_no = int(last.get_attribute("data-window") or "0")
    last.get_by_label("own schedule").check()
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):
        last.get_by_label(day, exact=True).uncheck()
    last.get_by_label(f"Window {window_no}: Opens").fill("09:00")
    last.get_by_label(f"Window {window_no}: Closes").fill("13:00")
    last.get_by_label("Breaks").fill("11:00-11:15")
    windows_form.get_by_role("button", name="Save").click()
    expect(windows_form).to_have_attribute("data-saved", re.compile(r"\d+"))
    page.locator("#audit-form").get_by_role("button", name="Show").click()
    expect(audit.locator("tr[data-action='office.settings_changed']").first).to_contain_text(
        f'"window_schedules":[{{"window_no":{window_no},"days":[]}}]'
    )
    refused = page.wait_for_function(
        """async ([office, window, service]) => {
            const session = JSON.parse(sessionStorage.getItem("ow.staff.admin"));
            const response = await fetch("/api/ticketing/windows/open", {
                method: "POST",
                headers: {
                    Authorization: `Bearer ${session.access_token}`,
                    "Content-Type": "application/json",
                },
                body: JSON.stringify({ office_id: office, window_no: window, service_ids: [service] }),
            });
            return response.status === 409 ? (await response.json()).reason : false;
        }""",
        arg=[office.office_id, window_no, office.service_id],
        polling=500,
        timeout=30_000,
    ).json_value()
    assert f"window {window_no} cannot be opened now" in refused
    screenshot(page.locator("section[aria-labelledby='windows-title']"), "admin-window-schedules.png")

    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "admin.png")
    context.close()
