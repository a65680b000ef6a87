"""A real browser: a customer submits and follows a ticket; an agent answers in the admin."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import customer_on, load_example_policy
from tickets.models import Message, Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CUSTOMER_PASSWORD = "pw-for-tests"  # tests.factories.UserFactory's


def sign_in(page, username: str, password: str, *, admin: bool = False) -> None:
    page.goto("/admin/login/" if admin else "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Log in" if admin else "Sign in").click()


def test_a_customer_submits_and_replies_and_an_agent_answers_in_the_admin(
    page,
    shot,
    django_user_model,
) -> None:
    load_example_policy("vmoso")
    contact = customer_on("vmoso-standard", time_zone="America/Los_Angeles")
    django_user_model.objects.create_superuser("agent", "agent@vendor.example", "agent-pass-1")

    # The customer signs in and submits a ticket.
    sign_in(page, "alice", CUSTOMER_PASSWORD)
    expect(page.get_by_role("link", name="New ticket").first).to_be_visible()
    shot("01-customer-dashboard-empty")
    page.goto("/tickets/new/")
    page.get_by_label("Subject").fill("Checkout page returns an error")
    page.locator("label[for=severity-2]").click()
    page.get_by_label("Description").fill("Since 9:00 every **payment** fails with a 500.")
    shot("02-new-ticket-form")
    page.get_by_role("button", name="Submit ticket").click()

    # The customer sees it, with its reference and the first-response due time.
    expect(
        page.get_by_role("heading", name=re.compile("Checkout page returns an error"))
    ).to_be_visible()
    ticket = Ticket.objects.get()
    expect(page.get_by_text(ticket.reference).first).to_be_visible()
    expect(page.get_by_text("America/Los_Angeles").first).to_be_visible()
    shot("03-customer-ticket-page")

    # ... replies ...
    page.locator("textarea[name=body]").fill("It also happens on the mobile site.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("It also happens on the mobile site.")).to_be_visible()
    shot("04-customer-replied")

    # ... and finds it on the dashboard.
    page.goto("/")
    # (the dashboard also holds a card list for phones, hidden at this width)
    expect(page.locator("a:visible", has_text=ticket.reference).first).to_be_visible()
    shot("05-customer-dashboard")
    page.get_by_role("button", name="Sign out").click()

    # An agent opens it in the admin queue and replies in public.
    sign_in(page, "agent", "agent-pass-1", admin=True)
    page.goto("/admin/tickets/ticket/")
    expect(page.get_by_text(ticket.reference).first).to_be_visible()
    shot("06-agent-queue")
    page.get_by_role("link", name=ticket.reference).first.click()
    expect(page.get_by_text("It also happens on the mobile site.")).to_be_visible()
    page.locator("textarea[name=reply-body]").fill("We rolled back the payment release.")
    shot("07-agent-ticket-page")
    page.locator("#reply input[type=submit]").click()
    expect(page.get_by_text("We rolled back the payment release.").first).to_be_visible()
    shot("08-agent-replied")
    assert Message.objects.filter(ticket=ticket, from_customer=False, kind="public").exists()

    # The customer sees the answer.
    page.context.clear_cookies()
    sign_in(page, "alice", CUSTOMER_PASSWORD)
    page.goto(ticket.get_absolute_url())
    expect(page.get_by_text("We rolled back the payment release.")).to_be_visible()
    shot("09-customer-sees-the-answer")
    assert contact.user.username == "alice"
