"""The dashboard: filters, search, pagination and a fixed number of queries."""

from __future__ import annotations

import zoneinfo

import pytest
from django.test import Client
from django.urls import reverse

from tests.builders.portal import PortalWorld, open_ticket
from tests.factories import SlaClockFactory, TicketFactory
from tickets.models import Status

pytestmark = pytest.mark.django_db


def signed_in(world: PortalWorld) -> Client:
    client = Client()
    client.force_login(world.alice.user)
    return client


def make_tickets(world: PortalWorld, count: int) -> None:
    for n in range(count):
        ticket = TicketFactory.create(
            organization=world.acme,
            requester=world.bob.user,
            plan=world.plan,
            severity=world.severities[1 + n % 4],
            subject=f"Problem {n}",
        )
        SlaClockFactory.create(ticket=ticket, metric="first_response")
        SlaClockFactory.create(ticket=ticket, metric="resolution", target=None)


def count_queries(client: Client, django_assert_num_queries: object, expected: int) -> None:
    with django_assert_num_queries(expected):
        response = client.get(reverse("tickets:dashboard") + "?status=all")
    assert response.status_code == 200


# Session, user, the viewer's zone and contact (one query), count, page of tickets, live clocks
# (one prefetch), the nav's support-manager check, severities for the filter.
DASHBOARD_QUERIES = 8


@pytest.mark.parametrize("count", [5, 50])
def test_dashboard_runs_the_same_number_of_queries_for_5_and_50_tickets(
    world: PortalWorld, django_assert_num_queries: object, count: int
) -> None:
    make_tickets(world, count)
    count_queries(signed_in(world), django_assert_num_queries, DASHBOARD_QUERIES)


def test_dashboard_shows_the_next_due_clock_with_the_zone_named(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice, severity=1)
    response = signed_in(world).get(reverse("tickets:dashboard"))
    clock = ticket.sla_clocks.filter(metric="acknowledge").get()
    local = clock.due_at.astimezone(zoneinfo.ZoneInfo("Europe/London"))
    assert "Acknowledge" in response.text
    assert f'{local:%H:%M} <span class="text-body-secondary">Europe/London</span>' in (
        response.text
    )
    assert "On track" in response.text


def test_dashboard_lists_open_tickets_by_default(world: PortalWorld) -> None:
    TicketFactory.create(
        organization=world.acme, requester=world.alice.user, plan=world.plan, subject="Still broken"
    )
    TicketFactory.create(
        organization=world.acme,
        requester=world.alice.user,
        plan=world.plan,
        subject="Long fixed",
        status=Status.CLOSED,
    )
    response = signed_in(world).get(reverse("tickets:dashboard"))
    assert "Still broken" in response.text
    assert "Long fixed" not in response.text


def test_dashboard_closed_filter_shows_resolved_and_closed(world: PortalWorld) -> None:
    TicketFactory.create(
        organization=world.acme, requester=world.alice.user, plan=world.plan, subject="Still broken"
    )
    TicketFactory.create(
        organization=world.acme,
        requester=world.alice.user,
        plan=world.plan,
        subject="Long fixed",
        status=Status.RESOLVED,
    )
    response = signed_in(world).get(reverse("tickets:dashboard") + "?status=closed")
    assert "Long fixed" in response.text
    assert "Still broken" not in response.text


def test_dashboard_filters_by_severity(world: PortalWorld) -> None:
    TicketFactory.create(
        organization=world.acme,
        requester=world.alice.user,
        plan=world.plan,
        severity=world.severities[1],
        subject="Everything down",
    )
    TicketFactory.create(
        organization=world.acme,
        requester=world.alice.user,
        plan=world.plan,
        severity=world.severities[4],
        subject="Typo in footer",
    )
    response = signed_in(world).get(reverse("tickets:dashboard") + "?severity=1")
    assert "Everything down" in response.text
    assert "Typo in footer" not in response.text


def test_dashboard_searches_subjects(world: PortalWorld) -> None:
    TicketFactory.create(
        organization=world.acme,
        requester=world.alice.user,
        plan=world.plan,
        subject="Invoice export broken",
    )
    TicketFactory.create(
        organization=world.acme, requester=world.alice.user, plan=world.plan, subject="Login slow"
    )
    response = signed_in(world).get(reverse("tickets:dashboard") + "?q=invoice")
    assert "Invoice export broken" in response.text
    assert "Login slow" not in response.text


def test_dashboard_searches_references(world: PortalWorld) -> None:
    wanted = TicketFactory.create(
        organization=world.acme, requester=world.alice.user, plan=world.plan, subject="Wanted one"
    )
    TicketFactory.create(
        organization=world.acme, requester=world.alice.user, plan=world.plan, subject="Other one"
    )
    response = signed_in(world).get(reverse("tickets:dashboard") + f"?q={wanted.reference}")
    assert "Wanted one" in response.text
    assert "Other one" not in response.text


def test_dashboard_paginates_by_25(world: PortalWorld) -> None:
    make_tickets(world, 30)
    client = signed_in(world)
    first = client.get(reverse("tickets:dashboard"))
    second = client.get(reverse("tickets:dashboard") + "?page=2")
    assert first.text.count("ticket-subject") == 25
    assert second.text.count("ticket-subject") == 5
    assert "Page 1 of 2" in first.text


def test_dashboard_falls_back_to_open_tickets_all_severities_page_1_on_nonsense_filters(
    world: PortalWorld,
) -> None:
    for number in range(27):
        TicketFactory.create(
            organization=world.acme,
            requester=world.alice.user,
            plan=world.plan,
            severity=world.severities[1 + number % 2],
            subject=f"Open problem {number:02d}",
        )
    TicketFactory.create(
        organization=world.acme,
        requester=world.alice.user,
        plan=world.plan,
        subject="Long fixed",
        status=Status.CLOSED,
    )
    response = signed_in(world).get(
        reverse("tickets:dashboard") + "?status=bogus&severity=abc&page=zz"
    )
    assert response.status_code == 200
    assert response.context["status"] == "open"
    assert response.context["severity"] is None
    assert response.context["page"].number == 1
    assert "Page 1 of 2" in response.text
    shown = [ticket.subject for ticket in response.context["page"].object_list]
    assert len(shown) == 25
    assert "Long fixed" not in shown
    # Both severities are listed: the nonsense severity filtered nothing out.
    assert {t.severity.level for t in response.context["page"].object_list} == {1, 2}
