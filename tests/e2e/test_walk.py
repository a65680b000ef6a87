"""Every main page, as each role, at a laptop's and a phone's width: it loads, the content fits
the width (no sideways scrolling of the page), the console stays clean, and (when axe-core is
vendored, see `tests/e2e/conftest.py`) axe finds no serious or critical violation. Each page's
screenshot is saved under test-artifacts/screenshots/walk-<role>-<width>-<page>.png."""

from __future__ import annotations

import datetime as dt
import glob
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from plans.models import NamedContact
from tests.e2e.conftest import ARTIFACTS, AXE, axe_violations
from tickets.models import Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "demo-pass-2026"  # tickets.demo's
CUSTOMER = "alice@granite-logistics-openback-pro"
WIDTHS = [(1366, 900), (390, 844)]
# The reports are also checked on a wide screen.
EXTRA_WIDTHS = {"manager": [(1920, 1080)]}


# Inline scripts and on* handler attributes: the product's Content-Security-Policy blocks both.
INLINE_CODE = """() => [...document.querySelectorAll('*')].flatMap(element => [
  ...(element.tagName === 'SCRIPT' && !element.src && element.type !== 'application/json'
      && !element.id.startsWith('axe') && element.textContent.trim() ? ['<script> inline'] : []),
  ...[...element.attributes].filter(a => a.name.startsWith('on'))
    .map(a => element.tagName + ' ' + a.name),
])"""


def demo_pages() -> dict[str, list[tuple[str, str, int]]]:
    """Per role: (name, path, expected status) of the pages to walk, on the demo data."""
    contact = NamedContact.objects.select_related("organization").get(user__username=CUSTOMER)
    ticket = (
        Ticket.objects.filter(organization=contact.organization).order_by("-created_at").first()
    )
    any_ticket = Ticket.objects.order_by("pk").first()
    assert ticket is not None and any_ticket is not None
    month = f"{timezone.localdate() - dt.timedelta(days=1):%Y-%m}"
    org = contact.organization.slug
    return {
        "customer": [
            ("dashboard", "/", 200),
            ("new-ticket", "/tickets/new/", 200),
            ("ticket", ticket.get_absolute_url(), 200),
            ("plan", "/plan/", 200),
            ("account", "/account/", 200),
            ("reports-refused", "/reports/sla/", 403),
            ("not-found", "/tickets/HD-999999/", 404),
        ],
        "agent": [
            ("desk", "/admin/", 200),
            ("queue", "/admin/tickets/ticket/", 200),
            ("ticket", f"/admin/tickets/ticket/{any_ticket.pk}/change/", 200),
            ("reports-refused", "/reports/sla/", 403),
        ],
        "manager": [
            ("sla-report", "/reports/sla/", 200),
            ("sla-statement", f"/reports/sla/statement/?organization={org}&month={month}", 200),
            ("hours-report", "/reports/hours/", 200),
            ("hours-statement", f"/reports/hours/statement/{org}/{month}/", 200),
            ("desk", "/admin/", 200),
        ],
    }


USERS = {"customer": CUSTOMER, "agent": "agent.alex", "manager": "manager"}

# What a page must show at a width, as a script answering true or false.
FITS = "(e) => e.getBoundingClientRect().right <= window.innerWidth"
CHECKS: dict[tuple[str, str, int], tuple[str, str]] = {
    ("agent", "queue", 1366): (
        "the SLA badge, reference, subject and organization are visible without scrolling",
        "document.querySelectorAll('#result_list .field-sla').length > 0 &&"
        " ['reference', 'subject', 'organization_name', 'sla'].every(name =>"
        " Array.from(document.querySelectorAll('#result_list .field-' + name)).every("
        + FITS
        + "))",
    ),
    ("agent", "queue", 390): (
        "the SLA badge, reference and subject are visible first, and the rest of the table"
        " scrolls in a labelled region a keyboard can focus",
        "(() => { const region = document.querySelector('#changelist .queue-scroll');"
        " if (!region || region.tabIndex !== 0 || !region.getAttribute('aria-label')) return false;"
        " const edge = region.getBoundingClientRect().right;"
        " return document.querySelectorAll('#result_list .field-sla').length > 0 &&"
        " ['sla', 'reference', 'subject'].every(name =>"
        " Array.from(document.querySelectorAll('#result_list td.field-' + name)).every("
        "e => e.getBoundingClientRect().right <= edge)); })()",
    ),
    ("manager", "sla-report", 1920): (
        "every report table shows every column without scrolling",
        "document.querySelectorAll('.report-scroll').length >= 12 &&"
        " Array.from(document.querySelectorAll('.report-scroll'))"
        ".every(e => e.scrollWidth <= e.clientWidth)",
    ),
    ("manager", "sla-report", 1366): (
        "every report table shows every column without scrolling",
        "document.querySelectorAll('.report-scroll').length >= 12 &&"
        " Array.from(document.querySelectorAll('.report-scroll'))"
        ".every(e => e.scrollWidth <= e.clientWidth)",
    ),
    ("customer", "ticket", 390): (
        "the response times come before the reply form",
        "document.querySelector('#sla-title').getBoundingClientRect().top"
        " < document.querySelector('#reply').getBoundingClientRect().top",
    ),
}

# The page is wider than the window: something in the content does not fit.
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


def walk(browser: Any, base_url: str, role: str, width: int, height: int, pages: list) -> list:
    problems: list[str] = []
    # axe-core is injected as a script of the test's own; the page's Content-Security-Policy
    # (no inline script) would block it, so the test's context bypasses CSP, and the walk checks
    # instead that no page has an inline script or event handler (INLINE_CODE).
    context = browser.new_context(
        base_url=base_url, viewport={"width": width, "height": height}, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    expected_error_urls: set[str] = set()

    def on_console(message: Any) -> None:
        if message.type != "error":
            return
        # The browser logs the error status of a page we open on purpose (403, 404).
        if message.text.startswith("Failed to load resource") and (
            message.location.get("url") in expected_error_urls
        ):
            return
        errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.goto("/accounts/login/")
    page.fill("#id_username", USERS[role])
    page.fill("#id_password", PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()
    for name, path, status in pages:
        errors.clear()
        if status >= 400:
            expected_error_urls.add(f"{base_url}{path}")
        response = page.goto(path)
        label = f"{role} {width}px {name} ({path})"
        if response is None or response.status != status:
            problems.append(f"{label}: status {response and response.status}, not {status}")
        page.wait_for_load_state("load")
        page.screenshot(path=str(ARTIFACTS / f"walk-{role}-{width}-{name}.png"), full_page=True)
        overflow = page.evaluate(OVERFLOW)
        if overflow > 0:
            problems.append(f"{label}: the page is {overflow}px wider than the window")
        if errors:
            problems.append(f"{label}: console errors {errors}")
        inline = page.evaluate(INLINE_CODE)
        if inline:
            problems.append(f"{label}: inline code the CSP would block: {inline}")
        text = page.inner_text("body")
        if "{#" in text or "{%" in text or "{{" in text:
            problems.append(f"{label}: template syntax shows on the page")
        check = CHECKS.get((role, name, width))
        if check and not page.evaluate(check[1]):
            problems.append(f"{label}: not true that {check[0]}")
        if AXE.exists():
            for violation in axe_violations(page):
                problems.append(f"{label}: axe {violation}")
    context.close()
    return problems


def test_every_main_page_fits_loads_cleanly_and_passes_axe_as_each_role(
    browser: Any, live_server: Any
) -> None:
    call_command("load_policy", *sorted(glob.glob("examples/policies/*.yaml")), stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages = demo_pages()
    problems = []
    for role, walked in pages.items():
        for width, height in WIDTHS + EXTRA_WIDTHS.get(role, []):
            problems += walk(browser, live_server.url, role, width, height, walked)
    assert problems == [], "\n".join(problems)
