"""Agents write, preview and publish articles in the admin; a resolved ticket becomes a draft;
the reply box offers article links."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.builders.portal import PortalWorld as World
from tests.builders.portal import open_ticket
from tests.factories import AgentFactory
from tests.tickets.kb.conftest import write
from tickets import services
from tickets.kb.models import Article, ArticleStatus, Visibility

pytestmark = pytest.mark.django_db


def test_an_agent_writes_an_article_with_a_revision_and_a_preview(admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/tickets/article/add/",
        {
            "title": "Rotating API keys",
            "slug": "rotating-api-keys",
            "summary": "",
            "visibility": Visibility.PUBLIC,
            "body": "Open **Settings**.<script>x()</script>",
            "note": "",
            "revisions-TOTAL_FORMS": "0",
            "revisions-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    article = Article.objects.get(slug="rotating-api-keys")
    assert article.status == ArticleStatus.DRAFT
    assert article.body_html == "<p>Open <strong>Settings</strong>.</p>"
    assert list(article.revisions.values_list("note", flat=True)) == ["Created"]
    page = admin_client.get(f"/admin/tickets/article/{article.pk}/change/")
    assert "<strong>Settings</strong>" in page.text  # the preview
    assert "change history" in page.text.lower()
    admin_client.post(
        "/admin/tickets/article/", {"action": "publish", "_selected_action": [article.pk]}
    )
    article.refresh_from_db()
    assert article.is_published
    assert list(article.revisions.order_by("number").values_list("note", flat=True)) == [
        "Created",
        "Published",
    ]


def test_a_resolved_ticket_becomes_an_article_draft(world: World, admin_client: Client) -> None:
    agent = AgentFactory.create()
    ticket = open_ticket(world.alice, subject="Exports time out")
    services.ticket_reply(ticket=ticket, author=agent, body="Split the export by month.")
    services.ticket_resolve(ticket=ticket, by=agent)
    open_one = open_ticket(world.alice, subject="Still open")
    response = admin_client.post(
        "/admin/tickets/ticket/?open=all",  # the queue shows open tickets by default
        {"action": "draft_article", "_selected_action": [ticket.pk]},
    )
    article = Article.objects.get(source_ticket=ticket)
    assert response["Location"] == f"/admin/tickets/article/{article.pk}/change/"
    assert article.title == "Exports time out"
    assert article.status == ArticleStatus.DRAFT
    assert "It **fails**." in article.body
    assert "Split the export by month." in article.body
    admin_client.post(
        "/admin/tickets/ticket/", {"action": "draft_article", "_selected_action": [open_one.pk]}
    )
    assert not Article.objects.filter(source_ticket=open_one).exists()


def test_the_reply_box_offers_links_to_published_articles(
    world: World, admin_client: Client, settings: object
) -> None:
    settings.SITE_URL = "https://help.example.com"  # type: ignore[attr-defined]
    agent = AgentFactory.create()
    write(agent, "Checkout fails with a card error", "Check the provider.")
    write(agent, "Unpublished checkout notes", publish=False)
    ticket = open_ticket(world.alice, subject="Checkout fails")
    page = admin_client.get(f"/admin/tickets/ticket/{ticket.pk}/change/")
    assert "kb-insert.js" in page.text
    link = (
        "[Checkout fails with a card error]"
        "(https://help.example.com/help/checkout-fails-with-a-card-error/)"
    )
    assert page.context["kb_matching"] == [("Checkout fails with a card error", link)]
    assert f'value="{link}"' in page.text
    assert "Unpublished checkout notes" not in page.text
