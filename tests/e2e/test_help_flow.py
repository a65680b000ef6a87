"""A real browser: help articles appear beside the new-ticket form as the subject is typed, the
help centre highlights what it found, and an agent puts an article link into a reply."""

import pytest
from playwright.sync_api import expect

from tests.e2e.test_portal_flow import CUSTOMER_PASSWORD, sign_in
from tests.factories import AgentFactory, customer_on, load_example_policy
from tickets import services
from tickets.kb.models import Article, ArticleView, Visibility
from tickets.kb.services import article_publish, article_save

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def publish(title: str, body: str) -> Article:
    agent = AgentFactory.create()
    article = article_save(
        article=Article(title=title, body=body, visibility=Visibility.CUSTOMERS), by=agent
    )
    return article_publish(article=article, by=agent)


def test_suggestions_appear_while_typing_and_an_agent_links_an_article(
    page,
    shot,
    django_user_model,
) -> None:
    load_example_policy("vmoso")
    contact = customer_on("vmoso-standard")
    article = publish(
        "Checkout fails with a payment error", "When **checkout** fails, check the provider."
    )
    publish("Exporting your data", "Settings, then Export.")

    sign_in(page, "alice", CUSTOMER_PASSWORD)
    page.goto("/tickets/new/")
    expect(page.get_by_text("Type your subject")).to_be_visible()
    page.get_by_label("Subject").fill("Our checkout fails since this morning")
    suggestion = page.locator("#kb-suggestions a", has_text="Checkout fails with a payment error")
    expect(suggestion).to_be_visible()
    expect(page.locator("#kb-suggestions", has_text="Exporting your data")).to_have_count(0)
    shot("help-01-suggestions-beside-the-form")
    with page.context.expect_page() as opened:
        suggestion.click()
    opened.value.wait_for_load_state()
    expect(opened.value.get_by_role("heading", name=article.title)).to_be_visible()
    assert ArticleView.objects.filter(source="suggestion", user=contact.user).count() == 1
    opened.value.close()

    page.goto("/help/?q=checkout")
    expect(page.locator("mark").first).to_be_visible()
    shot("help-02-search-results")
    ticket = services.ticket_create(
        requester=contact.user,
        subject="Checkout fails",
        body="Payment error.",
        severity_level=2,
        channel="portal",
    )
    page.get_by_role("button", name="Sign out").click()

    django_user_model.objects.create_superuser("agent", "agent@vendor.example", "agent-pass-1")
    sign_in(page, "agent", "agent-pass-1", admin=True)
    page.goto(f"/admin/tickets/ticket/{ticket.pk}/change/")
    page.select_option("#kb-article-link", label=article.title)
    page.get_by_role("button", name="Insert link").click()
    value = page.locator("textarea[name=reply-body]").input_value()
    assert f"[{article.title}](" in value
    assert value.rstrip().endswith(f"{article.get_absolute_url()})")
    shot("help-03-agent-inserts-an-article-link")
