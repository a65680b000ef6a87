"""The demo: a customer finds an answer in /help/ before writing, and release 4.2 waits for the
Prismic category 3 tickets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client

from plans.models import NamedContact
from tickets.demo import seed_demo
from tickets.kb.models import Article
from tickets.models import Release

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> Iterator[None]:
    # The demo's contracts start relative to its day; "active" is judged on the clock.
    with time_machine.travel(dt.datetime(2027, 5, 10, 9, 0, tzinfo=dt.UTC), tick=False):
        call_command("load_policy", "examples/policies/agency.yaml", verbosity=0)
        call_command("load_policy", "examples/policies/prismic.yaml", verbosity=0)
        seed_demo(dt.date(2027, 5, 10))
        seed_demo(dt.date(2027, 5, 10))  # idempotent
        yield


def test_a_demo_customer_finds_an_answer_before_writing(demo: None) -> None:
    contact = NamedContact.objects.select_related("user").get(
        user__username__startswith="alice@", organization__contracts__plan__slug="agency-10h"
    )
    client = Client()
    client.force_login(contact.user)
    page = client.get("/help/", {"q": "support hours"})
    first = page.context["hits"][0]
    assert first.title == "How your monthly support hours are counted"
    suggestions = client.get("/help/suggest.json", {"q": "Checkout is very slow"}).json()
    titles = [a["title"] for a in suggestions["articles"]]
    assert "Checkout or pages are very slow: clearing the cache" in titles


def test_the_demo_has_public_and_private_articles_and_a_release(demo: None) -> None:
    anonymous = Client().get("/help/")
    public = {a.title for a in anonymous.context["page"].object_list}
    assert "Your site is down: what to check before you call" in public
    assert "How your monthly support hours are counted" not in public
    assert Article.objects.filter(status="published").count() >= 10
    release = Release.objects.get(version="4.2")
    assert release.tickets.exists()
    assert all(t.severity.resolved_in_release for t in release.tickets.select_related("severity"))
