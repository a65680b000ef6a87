"""Deflection: suggestions on the new-ticket form, the openings recorded, the rate counted."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.test import Client

from plans.roles import SUPPORT_MANAGERS
from tests.builders.portal import PortalWorld as World
from tests.builders.portal import open_ticket
from tests.factories import AgentFactory, UserFactory
from tests.tickets.kb.conftest import write
from tickets.kb.models import ArticleView, HelpSearch, Visibility
from tickets.kb.reports import DEFLECTION_WINDOW, deflection

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 18, 10, 0, tzinfo=dt.UTC)


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def article(world: World) -> object:
    return write(
        AgentFactory.create(),
        "Checkout fails with a card error",
        "When checkout fails, check the card provider's status page.",
        visibility=Visibility.CUSTOMERS,
    )


def test_suggestions_come_as_json_for_the_subject_typed(world: World, article: object) -> None:
    data = signed_in(world.alice.user).get("/help/suggest.json", {"q": "checkout fails"}).json()
    (suggestion,) = data["articles"]
    assert suggestion["title"] == "Checkout fails with a card error"
    assert suggestion["url"] == "/help/checkout-fails-with-a-card-error/?from=suggestion"
    assert "<mark>" in suggestion["snippet_html"]
    assert not HelpSearch.objects.exists()  # typing is not searching


def test_the_form_shown_again_lists_suggestions_without_javascript(
    world: World, article: object
) -> None:
    client = signed_in(world.alice.user)
    empty = client.get("/tickets/new/")
    assert "kb-suggest.js" in empty.text
    assert empty.context["suggestions"] == []
    page = client.post("/tickets/new/", {"subject": "Checkout fails at payment"})
    assert page.status_code == 400  # severity and body missing: shown again
    assert [h.title for h in page.context["suggestions"]] == ["Checkout fails with a card error"]
    assert "/help/checkout-fails-with-a-card-error/?from=suggestion" in page.text


def test_a_suggestion_opened_twice_in_a_session_counts_once(world: World, article: object) -> None:
    client = signed_in(world.alice.user)
    for _ in range(2):
        client.get(article.get_absolute_url(), {"from": "suggestion"})  # type: ignore[attr-defined]
    client.get(article.get_absolute_url())  # type: ignore[attr-defined]
    assert ArticleView.objects.filter(source="suggestion").count() == 1
    assert ArticleView.objects.filter(source="help").count() == 1


def test_it_counts_a_deflection_when_no_ticket_follows_within_the_window(
    world: World, article: object
) -> None:
    url = article.get_absolute_url()  # type: ignore[attr-defined]
    with time_machine.travel(START, tick=False):
        signed_in(world.alice.user).get(url, {"from": "suggestion"})  # then leaves
        signed_in(world.bob.user).get(url, {"from": "suggestion"})
    with time_machine.travel(START + dt.timedelta(minutes=10), tick=False):
        open_ticket(world.bob)  # bob wrote anyway: not deflected
    with time_machine.travel(START + DEFLECTION_WINDOW + dt.timedelta(minutes=1), tick=False):
        signed_in(world.charlie.user).get(url, {"from": "suggestion"})  # still pending
    now = START + DEFLECTION_WINDOW + dt.timedelta(minutes=5)
    result = deflection(since=START - dt.timedelta(days=1), until=now, now=now)
    assert (result.opened, result.deflected, result.pending) == (2, 1, 1)
    assert result.rate == 50.0


def test_a_ticket_after_the_window_does_not_undo_a_deflection(
    world: World, article: object
) -> None:
    with time_machine.travel(START, tick=False):
        signed_in(world.alice.user).get(
            article.get_absolute_url(),  # type: ignore[attr-defined]
            {"from": "suggestion"},
        )
    with time_machine.travel(START + DEFLECTION_WINDOW + dt.timedelta(minutes=1), tick=False):
        open_ticket(world.alice)
    now = START + dt.timedelta(days=1)
    result = deflection(since=START - dt.timedelta(days=1), until=now, now=now)
    assert (result.opened, result.deflected) == (1, 1)


def test_the_report_is_for_support_managers_only(world: World) -> None:
    assert signed_in(world.alice.user).get("/reports/help/").status_code == 403
    assert signed_in(AgentFactory.create()).get("/reports/help/").status_code == 403
    assert Client().get("/reports/help/").status_code == 302


def test_the_report_shows_unanswered_searches_views_and_the_rate(
    world: World, article: object, django_assert_num_queries: object
) -> None:
    with time_machine.travel(START, tick=False):
        customer = signed_in(world.bob.user)
        for text in ("kubernetes", "Kubernetes ", "sso login", "checkout"):
            customer.get("/help/", {"q": text})
        signed_in(world.alice.user).get(
            article.get_absolute_url(),  # type: ignore[attr-defined]
            {"from": "suggestion"},
        )
    manager = UserFactory.create(username="morgan")
    manager.groups.add(Group.objects.get_or_create(name=SUPPORT_MANAGERS)[0])
    client = signed_in(manager)
    with time_machine.travel(START + dt.timedelta(hours=2), tick=False):
        client.get("/reports/help/")
        # session, user, the page's context (2), the report: searches, view counts, articles,
        # deflection
        with django_assert_num_queries(8):  # type: ignore[operator]
            page = client.get("/reports/help/")
    report = page.context["report"]
    assert [(r.query, r.searches) for r in report.unanswered] == [
        ("kubernetes", 2),
        ("sso login", 1),
    ]
    assert [(a.title, a.view_count) for a in report.most_viewed] == [
        ("Checkout fails with a card error", 1)
    ]
    assert report.deflection.rate == 100.0
    assert "100.0%" in page.text
