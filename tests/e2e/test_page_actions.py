"""The page behaviours of static/js/page-actions.js (the pages load none of Bootstrap's script):
the menu button on a phone and a message's close button."""

import pytest
from playwright.sync_api import expect

from tests.e2e.test_portal_flow import CUSTOMER_PASSWORD, sign_in
from tests.factories import customer_on, load_example_policy

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def customer() -> None:
    load_example_policy("vmoso")
    customer_on("vmoso-standard")


def test_the_menu_button_opens_and_closes_the_menu_on_a_phone(page, customer) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "alice", CUSTOMER_PASSWORD)
    menu = page.get_by_role("button", name="Toggle navigation")
    plan = page.get_by_role("link", name="Plan")
    expect(plan).to_be_hidden()

    menu.click()
    expect(plan).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")
    menu.click()
    expect(plan).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")


def test_the_close_button_removes_a_message(page, customer) -> None:
    sign_in(page, "alice", CUSTOMER_PASSWORD)
    page.goto("/account/")
    page.get_by_role("button", name="Save").click()
    message = page.get_by_role("alert").filter(has_text="Times are now shown in")
    expect(message).to_be_visible()

    message.get_by_role("button", name="Close").click()
    expect(message).to_have_count(0)
