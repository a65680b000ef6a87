"""A small help centre: two customer organizations on two plans, an outsider and an agent."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User

from plans.models import NamedContact, Plan
from tests.factories import (
    AgentFactory,
    ContractFactory,
    NamedContactFactory,
    OrganizationFactory,
    PlanFactory,
    UserFactory,
)
from tickets.kb.models import Article, ArticleCategory, ArticleTag, Visibility
from tickets.kb.services import article_publish, article_save


@dataclass
class Help:
    gold: Plan
    basic: Plan
    alice: NamedContact  # a customer on gold
    bob: NamedContact  # a customer on basic
    outsider: User  # signed in, no organization
    agent: User


@pytest.fixture
def help_world(db: None) -> Help:
    gold, basic = PlanFactory.create(slug="gold"), PlanFactory.create(slug="basic")
    orgs = []
    for plan, slug in ((gold, "gold-co"), (basic, "basic-co")):
        organization = OrganizationFactory.create(slug=slug)
        ContractFactory.create(organization=organization, plan=plan)
        orgs.append(organization)
    return Help(
        gold=gold,
        basic=basic,
        alice=NamedContactFactory.create(
            organization=orgs[0], user=UserFactory.create(username="alice")
        ),
        bob=NamedContactFactory.create(
            organization=orgs[1], user=UserFactory.create(username="bob")
        ),
        outsider=UserFactory.create(username="mallory"),
        agent=AgentFactory.create(username="agent.kim"),
    )


def write(
    agent: User,
    title: str,
    body: str = "Some text.",
    *,
    visibility: str = Visibility.PUBLIC,
    plans: list[Plan] | None = None,
    category: ArticleCategory | None = None,
    tags: list[str] = (),  # type: ignore[assignment]
    publish: bool = True,
) -> Article:
    """An article as an agent writes it in the admin: saved, tagged, published."""
    article = article_save(
        article=Article(title=title, body=body, visibility=visibility, category=category),
        by=agent,
    )
    article.tags.set(
        ArticleTag.objects.get_or_create(slug=tag, defaults={"name": tag})[0] for tag in tags
    )
    article.plans.set(plans or [])
    if publish:
        article = article_publish(article=article, by=agent)
    return article
