"""The 403, 404 and 500 pages: in the product's look, saying why, offering a way back."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import Client

from tests.builders.portal import PortalWorld, build_portal_world
from tests.factories import AgentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> PortalWorld:
    return build_portal_world()


def test_a_customer_opening_the_sla_report_is_told_it_is_for_support_managers(
    client: Client, world: PortalWorld
) -> None:
    client.force_login(world.alice.user)
    response = client.get("/reports/sla/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Reports are for support managers." in html
    assert "The SLA and support-hour reports are for support managers." in html
    assert 'href="/">Back to your tickets</a>' in html
    assert "· Helpdesk</title>" in html  # the product's base page


def test_an_agent_who_is_no_manager_is_sent_back_to_the_desk(client: Client) -> None:
    client.force_login(AgentFactory.create())
    html = client.get("/reports/hours/").content.decode()
    assert "Only support managers can see billing reports." in html
    assert "support managers” group" in html
    assert 'href="/admin/">Back to the agent desk</a>' in html


def test_an_unknown_ticket_is_a_404_page_that_offers_a_way_back(
    client: Client, world: PortalWorld
) -> None:
    client.force_login(world.alice.user)
    response = client.get("/tickets/HD-999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "There is nothing here" in html and "<code>/tickets/HD-999999/</code>" in html
    assert 'href="/">Back to your tickets</a>' in html


def test_the_500_page_renders_without_a_request() -> None:
    html = render_to_string("500.html")
    assert "Something went wrong on our side" in html
    assert 'href="/">Back to the start page</a>' in html


def test_staff_are_not_offered_the_customers_plan_link(client: Client) -> None:
    client.force_login(AgentFactory.create())
    html = client.get("/account/").content.decode()
    assert 'href="/plan/"' not in html and 'href="/admin/">Agent desk</a>' in html


def test_every_page_links_the_favicon(client: Client, world: PortalWorld) -> None:
    client.force_login(world.alice.user)
    assert 'rel="icon" href="/static/img/favicon.svg"' in client.get("/").content.decode()
