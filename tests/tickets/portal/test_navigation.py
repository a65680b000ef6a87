"""The header every page shares (templates/base.html): where the product name leads."""

import re

import pytest
from django.test import Client

from tests.builders.portal import PortalWorld
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db

BRAND = re.compile(r'<a class="navbar-brand[^"]*" href="([^"]*)">Helpdesk</a>')


def brand_link(user: object, path: str) -> str:
    client = Client()
    client.force_login(user)
    match = BRAND.search(client.get(path).text)
    assert match, f"no brand link on {path}"
    return match.group(1)


@pytest.mark.parametrize("path", ["/", "/help/"])
def test_the_brand_takes_staff_to_the_desk(world: PortalWorld, path: str) -> None:
    assert brand_link(AgentFactory.create(), path) == "/admin/"


@pytest.mark.parametrize("path", ["/", "/help/", "/plan/"])
def test_the_brand_takes_a_customer_to_their_tickets(world: PortalWorld, path: str) -> None:
    assert brand_link(world.alice.user, path) == "/"


def test_the_brand_takes_a_visitor_to_the_tickets_behind_the_sign_in() -> None:
    match = BRAND.search(Client().get("/accounts/login/").text)
    assert match and match.group(1) == "/"
