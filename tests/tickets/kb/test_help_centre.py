"""The help centre: who reads what, article pages, related articles, the search fallback."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from tests.factories import AgentFactory
from tests.tickets.kb.conftest import Help, write
from tickets.kb import selectors
from tickets.kb.models import ArticleCategory, ArticleView, HelpSearch, Visibility
from tickets.kb.services import article_save, article_unpublish

pytestmark = pytest.mark.django_db


def client_for(user: object | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def library(help_world: Help) -> dict:
    agent = help_world.agent
    return {
        "public": write(agent, "Resetting your password", visibility=Visibility.PUBLIC),
        "customers": write(agent, "Exporting invoices", visibility=Visibility.CUSTOMERS),
        "gold": write(
            agent, "Gold-only webhooks", visibility=Visibility.PLANS, plans=[help_world.gold]
        ),
        "draft": write(agent, "Unfinished draft", publish=False),
    }


def titles(page: object) -> set[str]:
    return {a.title for a in page.context["page"].object_list}  # type: ignore[attr-defined]


def test_it_shows_anonymous_visitors_public_articles_only(library: dict) -> None:
    page = client_for(None).get("/help/")
    assert page.status_code == 200
    assert titles(page) == {"Resetting your password"}


def test_it_shows_customers_articles_for_every_customer_and_for_their_plan(
    help_world: Help, library: dict
) -> None:
    gold = client_for(help_world.alice.user).get("/help/")
    basic = client_for(help_world.bob.user).get("/help/")
    assert titles(gold) == {"Resetting your password", "Exporting invoices", "Gold-only webhooks"}
    assert titles(basic) == {"Resetting your password", "Exporting invoices"}


@pytest.mark.parametrize("who", ["anonymous", "outsider", "basic customer"])
def test_it_hides_private_articles_from_those_who_may_not_read_them(
    help_world: Help, library: dict, who: str
) -> None:
    user = {"anonymous": None, "outsider": help_world.outsider, "basic customer": help_world.bob}[
        who
    ]
    user = getattr(user, "user", user)
    client = client_for(user)
    assert client.get(library["gold"].get_absolute_url()).status_code == 404
    assert client.get(library["draft"].get_absolute_url()).status_code == 404
    if who != "basic customer":
        assert client.get(library["customers"].get_absolute_url()).status_code == 404
    found = client.get("/help/", {"q": "webhooks"})
    assert "Gold-only webhooks" not in found.text
    suggested = client.get("/help/suggest.json", {"q": "gold webhooks"}).json()
    assert suggested == {"articles": []}


def test_it_lets_agents_preview_drafts(help_world: Help, library: dict) -> None:
    page = client_for(help_world.agent).get(library["draft"].get_absolute_url())
    assert page.status_code == 200
    assert "Draft preview" in page.text
    assert not ArticleView.objects.exists()


def test_it_refuses_to_publish_a_plan_article_naming_no_plan(help_world: Help) -> None:
    with pytest.raises(ValidationError, match="names none"):
        write(help_world.agent, "For nobody", visibility=Visibility.PLANS)


def test_it_sanitizes_the_body_as_messages_are(help_world: Help) -> None:
    article = write(
        help_world.agent,
        "Scripts",
        "Hello <script>alert(1)</script> [x](javascript:alert(1)) **bold**",
    )
    assert "<script>" not in article.body_html
    assert "javascript:" not in article.body_html
    assert "<strong>bold</strong>" in article.body_html
    assert article.body_text == "Hello x bold"  # what search reads: the text customers see


def test_it_keeps_a_revision_per_save(help_world: Help) -> None:
    article = write(help_world.agent, "Versions", "First", publish=False)
    article.body = "Second"
    article_save(article=article, by=help_world.agent, note="Fixed a typo")
    article_unpublish(article=article, by=help_world.agent)  # a draft: nothing to do
    revisions = list(article.revisions.order_by("number").values_list("number", "body", "note"))
    assert revisions == [(1, "First", "Created"), (2, "Second", "Fixed a typo")]


def test_the_article_page_lists_related_articles_by_category_and_tags(help_world: Help) -> None:
    agent = help_world.agent
    billing = ArticleCategory.objects.create(slug="billing", name="Billing")
    main = write(agent, "Invoices", category=billing, tags=["pdf"])
    write(agent, "Credit notes", category=billing)
    write(agent, "PDF fonts", tags=["pdf"])
    write(agent, "Unrelated")
    write(agent, "Gold PDF", tags=["pdf"], visibility=Visibility.PLANS, plans=[help_world.gold])
    page = client_for(help_world.bob.user).get(main.get_absolute_url())
    assert {a.title for a in page.context["related"]} == {"Credit notes", "PDF fonts"}
    assert ArticleView.objects.filter(article=main, source="help").count() == 1


def test_the_plain_search_ranks_title_matches_first_and_highlights(help_world: Help) -> None:
    agent = help_world.agent
    write(agent, "Billing overview", "Mentions the webhook once in the body.")
    write(agent, "Webhook retries", "How a webhook is retried <b>safely</b>.")
    write(agent, "Nothing here", "Unrelated words.")
    hits = selectors.search_articles(user=help_world.bob.user, text="webhook")
    assert [h.title for h in hits] == ["Webhook retries", "Billing overview"]
    assert "<mark>webhook</mark>" in hits[0].snippet
    assert "<b>" not in hits[0].snippet  # rendered to text, then escaped


def test_a_search_is_recorded_with_its_result_count(help_world: Help, library: dict) -> None:
    client = client_for(None)
    client.get("/help/", {"q": "  Password  "})
    client.get("/help/", {"q": "Kubernetes"})
    assert set(HelpSearch.objects.values_list("query", "results")) == {
        ("password", 1),
        ("kubernetes", 0),
    }


def test_the_help_list_runs_a_fixed_number_of_queries(
    help_world: Help, django_assert_num_queries: object
) -> None:
    agent = AgentFactory.create()
    category = ArticleCategory.objects.create(slug="general", name="General")
    for n in range(12):
        write(agent, f"Article {n}", category=category, tags=["a", "b"])
    client = client_for(help_world.alice.user)
    client.get("/help/")  # warm the session
    # session, user, the page's context (the viewer's zone and contact, manager check),
    # contract, count, categories, page, tags
    with django_assert_num_queries(9):  # type: ignore[operator]
        page = client.get("/help/")
    assert len(page.context["page"].object_list) == 12


def test_the_search_page_runs_a_fixed_number_of_queries(
    help_world: Help, django_assert_num_queries: object, on_postgres: bool
) -> None:
    agent = AgentFactory.create()
    for n in range(12):
        write(agent, f"Webhook {n}")
    client = client_for(help_world.alice.user)
    client.get("/help/")
    # session, user, the page's context (the viewer's zone and contact, manager check),
    # contract, the search (PostgreSQL: the ranking, then the snippets), its record
    with django_assert_num_queries(8 if on_postgres else 7):  # type: ignore[operator]
        page = client.get("/help/", {"q": "webhook"})
    assert len(page.context["hits"]) == 10  # the best ten


def test_the_article_page_runs_a_fixed_number_of_queries(
    help_world: Help, django_assert_num_queries: object
) -> None:
    agent = AgentFactory.create()
    main = write(agent, "Main", tags=["x", "y"])
    for n in range(8):
        write(agent, f"Near {n}", tags=["x"])
    client = client_for(help_world.alice.user)
    client.get("/help/")
    # session, user, the page's context (the viewer's zone and contact, manager check),
    # contract, article, its tags, the view's record, related
    with django_assert_num_queries(9):  # type: ignore[operator]
        page = client.get(main.get_absolute_url())
    assert len(page.context["related"]) == 5
