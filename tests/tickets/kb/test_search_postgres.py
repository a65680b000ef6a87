"""Ranked full-text search on PostgreSQL: the stored vector, weights, stemming, headlines."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.tickets.kb.conftest import Help, write
from tickets.kb import selectors
from tickets.kb.models import Article
from tickets.kb.services import article_save

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_it_keeps_the_stored_vector_current_on_every_save(help_world: Help) -> None:
    article = write(help_world.agent, "Exports", "Download a CSV file.")
    assert selectors.search_articles(user=help_world.agent, text="spreadsheet") == []
    article.body = "Open the spreadsheet you downloaded."
    article_save(article=article, by=help_world.agent)
    hits = selectors.search_articles(user=help_world.agent, text="spreadsheet")
    assert [h.title for h in hits] == ["Exports"]


def test_it_ranks_the_title_over_the_body_and_stems_words(help_world: Help) -> None:
    agent = help_world.agent
    write(agent, "Billing overview", "Webhooks are retried when your endpoint fails.")
    write(agent, "Retrying webhooks", "What happens after a failure.")
    write(agent, "Unrelated", "Nothing to see.")
    hits = selectors.search_articles(user=help_world.bob.user, text="webhook retry")
    assert [h.title for h in hits] == ["Retrying webhooks", "Billing overview"]
    assert "<mark>Webhooks</mark>" in hits[1].snippet
    assert "<mark>retried</mark>" in hits[1].snippet


def test_it_lets_no_markup_from_the_body_through_the_headline(help_world: Help) -> None:
    write(help_world.agent, "Escaping", "Type `<img src=x onerror=alert(1)>` & a webhook.")
    (hit,) = selectors.search_articles(user=help_world.agent, text="webhook")
    assert "<img" not in hit.snippet
    assert "&amp;" in hit.snippet
    assert "<mark>webhook</mark>" in hit.snippet


def test_suggestions_match_any_word_of_a_subject(help_world: Help) -> None:
    agent = help_world.agent
    write(agent, "Push notifications are not delivered", "Check the SDK key.")
    write(agent, "Upgrading the SDK", "One major version at a time.")
    hits = selectors.suggestions(
        user=help_world.bob.user, subject="Our push notification never arrives"
    )
    assert [h.title for h in hits] == ["Push notifications are not delivered"]


def test_the_vector_is_gin_indexed(help_world: Help) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'article_search_vector_gin'"
        )
        (definition,) = cursor.fetchone()
    assert "USING gin (search_vector)" in definition


def test_a_search_is_two_queries_however_many_match(
    help_world: Help, django_assert_num_queries: object
) -> None:
    for n in range(25):
        write(help_world.agent, f"Webhook guide {n}", "Webhook details.")
    assert Article.objects.count() == 25
    with django_assert_num_queries(2):  # type: ignore[operator]  # the ranking, the snippets
        hits = selectors.search_articles(user=help_world.agent, text="webhook")
    assert len(hits) == 10


def test_it_ranks_only_a_bounded_number_of_candidates_but_keeps_title_matches(
    help_world: Help, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tickets.kb import search  # noqa: PLC0415 - the module whose bound the test lowers

    monkeypatch.setattr(search, "CANDIDATES", 3)
    monkeypatch.setattr(search, "TITLE_CANDIDATES", 3)
    for n in range(10):
        write(help_world.agent, f"Guide {n}", "All about the webhook.")
    write(help_world.agent, "Webhook reference", "Everything.")
    hits = selectors.search_articles(user=help_world.agent, text="webhook")
    assert hits[0].title == "Webhook reference"
    assert len(hits) <= 4
