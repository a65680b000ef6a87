"""Maintenance releases: tickets planned for a release, publishing resolves them and mails their
customers once; a severity resolved in a maintenance release shows that instead of a due time."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client

from plans.models import Resolution
from sla.models import ClockState, SlaClock
from sla.policy.schema import RESOLUTIONS, PolicyError, parse_policy
from tests.builders.portal import PortalWorld as World
from tests.builders.portal import open_ticket
from tests.factories import AgentFactory, load_example_policy
from tickets.models import Release, Status, Ticket, TicketEvent
from tickets.releases.services import release_plan_ticket, release_publish
from tickets.services import ticket_resolve

pytestmark = pytest.mark.django_db


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def agent() -> object:
    return AgentFactory.create(username="agent.pat")


@pytest.fixture
def release() -> Release:
    return Release.objects.create(version="4.2", notes="Faster exports.")


def test_planning_a_ticket_records_it_in_the_history_the_customer_sees(
    world: World, agent: object, release: Release
) -> None:
    ticket = release_plan_ticket(ticket=open_ticket(world.alice), release=release, by=agent)
    assert ticket.release == release
    event = ticket.events.get(kind=TicketEvent.Kind.RELEASE_PLANNED)
    assert (event.summary, event.customer_visible) == ("Planned for release 4.2", True)
    page = signed_in(world.bob.user).get(ticket.get_absolute_url())
    assert "Planned for 4.2" in page.text


def test_publishing_resolves_the_open_tickets_and_mails_each_customer_once(
    world: World,
    agent: object,
    release: Release,
    mailoutbox: list,
    django_capture_on_commit_callbacks: object,
) -> None:
    alice_1, alice_2 = open_ticket(world.alice), open_ticket(world.alice, subject="Export slow")
    bob_1, bob_2 = open_ticket(world.bob, subject="Logo"), open_ticket(world.bob, subject="Old")
    for ticket in (alice_1, alice_2, bob_1, bob_2):
        release_plan_ticket(ticket=ticket, release=release, by=agent)
    ticket_resolve(ticket=bob_2, by=agent)  # resolved before the release: left alone
    unplanned = open_ticket(world.alice, subject="Unrelated")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        resolved = release_publish(release=release, by=agent)
    assert {t.pk for t in resolved} == {alice_1.pk, alice_2.pk, bob_1.pk}
    for ticket in (alice_1, alice_2, bob_1):
        ticket.refresh_from_db()
        assert ticket.status == Status.RESOLVED
        assert ticket.events.filter(
            kind=TicketEvent.Kind.RESOLVED, reason="Fixed in release 4.2."
        ).exists()
        clocks = SlaClock.objects.filter(ticket=ticket, metric="resolution")
        assert all(c.state == ClockState.MET for c in clocks)
    unplanned.refresh_from_db()
    assert unplanned.status == Status.NEW
    assert sorted((m.to[0], m.subject) for m in mailoutbox) == [
        ("alice@example.com", "Fixed in release 4.2: 2 of your tickets"),
        ("bob@example.com", f"Fixed in release 4.2: [{bob_1.reference}] Logo"),
    ]
    assert alice_2.reference in mailoutbox[0].body or alice_2.reference in mailoutbox[1].body
    release.refresh_from_db()
    assert release.published_at is not None


def test_publishing_twice_is_refused_and_mails_nobody_again(
    world: World,
    agent: object,
    release: Release,
    mailoutbox: list,
    django_capture_on_commit_callbacks: object,
) -> None:
    release_plan_ticket(ticket=open_ticket(world.alice), release=release, by=agent)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        release_publish(release=release, by=agent)
    mailoutbox.clear()
    with pytest.raises(ValidationError, match="already published"):
        release_publish(release=release, by=agent)
    with pytest.raises(ValidationError, match="already published"):
        release_plan_ticket(ticket=open_ticket(world.bob), release=release, by=agent)
    assert mailoutbox == []


def test_customers_cannot_publish(world: World, release: Release) -> None:
    with pytest.raises(ValidationError):
        release_publish(release=release, by=world.alice.user)


def test_the_admin_action_publishes_and_the_queue_action_plans(
    world: World, release: Release, admin_client: Client
) -> None:
    ticket = open_ticket(world.alice)
    response = admin_client.post(
        "/admin/tickets/ticket/",
        {
            "action": "plan_for_release",
            "_selected_action": [ticket.pk],
            "apply": "1",
            "release": release.pk,
        },
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.release == release
    assert admin_client.get(f"/admin/tickets/release/{release.pk}/change/").status_code == 200
    admin_client.post(
        "/admin/tickets/release/", {"action": "publish", "_selected_action": [release.pk]}
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert ticket.events.get(kind="resolved").actor == get_user_model().objects.get(
        username="admin"
    )


# -- "resolved in a maintenance release" ------------------------------------------------------


def test_the_prismic_policy_resolves_category_3_in_a_maintenance_release() -> None:
    load_example_policy("prismic")
    from plans.models import Severity  # noqa: PLC0415 - read after the policy is loaded

    levels = dict(
        Severity.objects.filter(policy__slug="prismic").values_list("level", "resolution")
    )
    assert levels == {
        1: Resolution.TARGETS,
        2: Resolution.TARGETS,
        3: Resolution.MAINTENANCE_RELEASE,
    }


def test_the_policy_schema_knows_the_same_resolutions_as_the_model() -> None:
    assert set(RESOLUTIONS) == set(Resolution.values)


def test_the_policy_schema_names_a_bad_resolution() -> None:
    data = {
        "policy": {"slug": "p", "name": "P"},
        "calendars": [{"slug": "c", "name": "C", "timezone": "UTC", "always_open": True}],
        "severities": [{"level": 1, "name": "One", "resolution": "someday"}],
        "plans": [],
    }
    with pytest.raises(PolicyError, match=r"severities\[0\]\.resolution: 'someday'"):
        parse_policy(data, "p")


def test_the_ticket_page_says_resolved_in_a_maintenance_release_instead_of_a_due_time(
    world: World, agent: object, release: Release
) -> None:
    severity = world.severities[2]
    severity.resolution = Resolution.MAINTENANCE_RELEASE
    severity.save()
    ticket = open_ticket(world.alice, severity=2)
    client = signed_in(world.alice.user)
    page = client.get(ticket.get_absolute_url())
    assert "Resolved in a maintenance release" in page.text
    assert "Due " not in page.text
    release_plan_ticket(ticket=ticket, release=release, by=agent)
    assert "Planned for 4.2" in client.get(ticket.get_absolute_url()).text


def test_an_outsider_does_not_see_the_release_of_another_organization(
    world: World, agent: object, release: Release
) -> None:
    ticket = release_plan_ticket(ticket=open_ticket(world.alice), release=release, by=agent)
    assert signed_in(world.charlie.user).get(ticket.get_absolute_url()).status_code == 404
    assert Ticket.objects.filter(release=release).count() == 1
