"""Time left, live: the JSON the portal's script reads, and the page's hooks for it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.builders.portal import PortalWorld, open_ticket
from tickets import selectors

pytestmark = pytest.mark.django_db


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_ticket_json_gives_each_clocks_server_computed_time_left(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice, severity=1)
    response = signed_in(world.alice.user).get(
        reverse("tickets:ticket_time_left", args=[ticket.reference])
    )
    assert response.status_code == 200
    clocks = {c.metric: c for c in selectors.ticket_clocks(ticket=ticket, now=timezone.now())}
    data = response.json()
    assert data["refresh_seconds"] == 60
    assert set(data["clocks"]) == set(clocks)
    acknowledge = data["clocks"]["acknowledge"]
    assert acknowledge["left"] == clocks["acknowledge"].business_left_text
    assert acknowledge["left"].endswith(" left")
    assert (acknowledge["state"], acknowledge["state_label"]) == (
        clocks["acknowledge"].state,
        clocks["acknowledge"].state_label,
    )


def test_a_colleague_reads_it_and_an_outsider_gets_404(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice, severity=1)
    url = reverse("tickets:ticket_time_left", args=[ticket.reference])
    assert signed_in(world.bob.user).get(url).status_code == 200
    assert signed_in(world.charlie.user).get(url).status_code == 404


def test_the_dashboard_json_gives_each_named_tickets_next_due_in_fixed_queries(
    world: PortalWorld, django_assert_num_queries: object
) -> None:
    first = open_ticket(world.alice, severity=1, subject="One")
    second = open_ticket(world.alice, severity=2, subject="Two")
    client = signed_in(world.alice.user)
    url = reverse("tickets:dashboard_time_left")
    with CaptureQueriesContext(connection) as one:
        assert client.get(url, {"ref": [first.reference]}).status_code == 200
    with django_assert_num_queries(len(one.captured_queries)):
        both = client.get(url, {"ref": [first.reference, second.reference, "HD-999999"]})
    tickets = both.json()["tickets"]
    assert set(tickets) == {first.reference, second.reference}
    assert tickets[first.reference]["left"].endswith(" left")


def test_the_dashboard_json_never_shows_another_organizations_ticket(world: PortalWorld) -> None:
    theirs = open_ticket(world.charlie, severity=1)
    response = signed_in(world.alice.user).get(
        reverse("tickets:dashboard_time_left"), {"ref": [theirs.reference]}
    )
    assert response.json()["tickets"] == {}


def test_the_pages_mark_the_time_left_for_the_script_and_load_it_from_static(
    world: PortalWorld,
) -> None:
    ticket = open_ticket(world.alice, severity=1)
    client = signed_in(world.alice.user)
    detail = client.get(ticket.get_absolute_url()).content.decode()
    json_url = reverse("tickets:ticket_time_left", args=[ticket.reference])
    assert f'data-time-left-url="{json_url}"' in detail
    assert 'data-metric="acknowledge"' in detail and 'data-live="left"' in detail
    assert 'src="/static/js/time-left.js" defer></script>' in detail
    assert "<script>" not in detail  # no inline script (the content security policy)
    dashboard = client.get(reverse("tickets:dashboard")).content.decode()
    assert f'data-ticket="{ticket.reference}"' in dashboard
    assert 'data-time-left-url="/time-left.json" data-time-left-refs' in dashboard
