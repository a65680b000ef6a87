"""The portal's reads: scoped to the viewer's organization, filtered and shaped for the pages."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.http import Http404

from sla.models import ClockState
from tests.builders.portal import PortalWorld, build_portal_world, open_ticket
from tests.factories import (
    AgentFactory,
    CalendarFactory,
    CategoryFactory,
    SlaClockFactory,
    TargetFactory,
    TicketFactory,
    UserFactory,
)
from tickets import selectors, services
from tickets.models import Attachment, Message, Status

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def world() -> PortalWorld:
    return build_portal_world()


def subjects(tickets: object) -> list[str]:
    return [ticket.subject for ticket in tickets]  # type: ignore[attr-defined]


def acme_ticket(world: PortalWorld, subject: str, **fields: object) -> object:
    return TicketFactory.create(
        organization=world.acme,
        requester=world.alice.user,
        plan=world.plan,
        subject=subject,
        **fields,
    )


# -- the dashboard's list ---------------------------------------------------------------------


def test_portal_tickets_lists_only_the_organizations_tickets_newest_first(
    world: PortalWorld,
) -> None:
    acme_ticket(world, "Older", created_at=NOW - dt.timedelta(days=2))
    acme_ticket(world, "Newer", created_at=NOW - dt.timedelta(days=1))
    TicketFactory.create(organization=world.globex, plan=world.plan, subject="Theirs")
    assert subjects(selectors.portal_tickets(organization=world.acme)) == ["Newer", "Older"]


def test_portal_tickets_filters_open_closed_and_all(world: PortalWorld) -> None:
    acme_ticket(world, "Waiting", status=Status.WAITING, created_at=NOW)
    acme_ticket(world, "Resolved", status=Status.RESOLVED, created_at=NOW - dt.timedelta(hours=1))
    acme_ticket(world, "Closed", status=Status.CLOSED, created_at=NOW - dt.timedelta(hours=2))

    def listed(status: str) -> list[str]:
        return subjects(selectors.portal_tickets(organization=world.acme, status=status))

    assert listed("open") == ["Waiting"]
    assert listed("closed") == ["Resolved", "Closed"]
    assert listed("all") == ["Waiting", "Resolved", "Closed"]


def test_portal_tickets_filters_by_severity_level(world: PortalWorld) -> None:
    acme_ticket(world, "Critical", severity=world.severities[1])
    acme_ticket(world, "Normal", severity=world.severities[3])
    found = selectors.portal_tickets(organization=world.acme, severity=1)
    assert subjects(found) == ["Critical"]


def test_portal_tickets_searches_subjects_and_references(world: PortalWorld) -> None:
    acme_ticket(world, "Checkout fails", reference="HD-000111")
    acme_ticket(world, "Search is slow", reference="HD-000222")

    def found(search: str) -> list[str]:
        return subjects(selectors.portal_tickets(organization=world.acme, search=search))

    assert found("checkout") == ["Checkout fails"]
    assert found("  hd-000222 ") == ["Search is slow"]
    assert found("000") == ["Search is slow", "Checkout fails"]


def test_severities_for_lists_the_levels_of_the_organizations_plan(world: PortalWorld) -> None:
    levels = selectors.severities_for(organization=world.acme).values_list("level", flat=True)
    assert sorted(levels) == [1, 2, 3, 4]


# -- one ticket, as its organization sees it --------------------------------------------------


def test_a_ticket_is_found_for_its_organization_only(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice)
    assert selectors.ticket_for_viewer(user=world.bob.user, reference=ticket.reference) == ticket
    with pytest.raises(Http404):
        selectors.ticket_for_viewer(user=world.charlie.user, reference=ticket.reference)
    with pytest.raises(Http404):
        selectors.ticket_for_viewer(user=UserFactory.create(), reference=ticket.reference)


def test_the_conversation_leaves_out_internal_notes(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice)
    agent = AgentFactory.create()
    services.ticket_reply(ticket=ticket, author=agent, body="Looking into it.")
    services.ticket_reply(ticket=ticket, author=agent, body="Probably the cache.", internal=True)
    bodies = [m.body for m in selectors.ticket_conversation(ticket=ticket)]
    assert bodies == ["It **fails**.", "Looking into it."]


def test_the_timeline_shows_only_what_the_customer_may_see(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice)
    agent = AgentFactory.create()
    services.ticket_reply(ticket=ticket, author=agent, body="A note.", internal=True)
    services.ticket_reply(ticket=ticket, author=agent, body="A reply.")
    kinds = [event.kind for event in selectors.ticket_timeline(ticket=ticket)]
    assert kinds == ["created", "replied"]


def test_an_attachment_on_an_internal_note_is_not_found_for_the_customer(
    world: PortalWorld,
) -> None:
    ticket = open_ticket(world.alice)
    agent = AgentFactory.create()
    note = services.ticket_reply(ticket=ticket, author=agent, body="Logs.", internal=True)
    hidden = Attachment.objects.create(
        ticket=ticket,
        message=note,
        file="attachments/logs.txt",
        name="logs.txt",
        content_type="text/plain",
        size=4,
        uploaded_by=agent,
        created_at=NOW,
    )
    loose = Attachment.objects.create(
        ticket=ticket,
        file="attachments/shot.png",
        name="shot.png",
        content_type="image/png",
        size=4,
        uploaded_by=world.alice.user,
        created_at=NOW,
    )
    reference = ticket.reference
    with pytest.raises(Http404):
        selectors.attachment_for_viewer(user=world.alice.user, reference=reference, pk=hidden.pk)
    found = selectors.attachment_for_viewer(user=world.bob.user, reference=reference, pk=loose.pk)
    assert found == loose
    with pytest.raises(Http404):
        selectors.attachment_for_viewer(user=world.charlie.user, reference=reference, pk=loose.pk)
    assert list(selectors.ticket_loose_attachments(ticket=ticket)) == [loose]
    assert note.kind == Message.Kind.INTERNAL


# -- clocks as the customer sees them ---------------------------------------------------------


def test_a_clock_view_tells_business_time_left_or_over(world: PortalWorld) -> None:
    ticket = acme_ticket(world, "Down", created_at=NOW - dt.timedelta(hours=1))
    running = SlaClockFactory.create(ticket=ticket, metric="first_response")
    late = SlaClockFactory.create(
        ticket=ticket,
        metric="acknowledge",
        target=dt.timedelta(minutes=30),
        state=ClockState.BREACHED,
        breached_at=NOW - dt.timedelta(minutes=30),
    )
    assert selectors.clock_view(running, now=NOW).business_left_text == "3 h left"
    late_view = selectors.clock_view(late, now=NOW)
    assert late_view.business_left_text == "30 min over"
    assert late_view.label == "Acknowledge"
    assert late_view.target_text == "30 min"


def test_a_paused_clock_tells_the_customer_it_waits_on_them(world: PortalWorld) -> None:
    ticket = acme_ticket(world, "Waiting", created_at=NOW - dt.timedelta(hours=6))
    # Paused an hour in (3h of its 4h left): past its old due instant now, yet paused.
    paused = SlaClockFactory.create(
        ticket=ticket,
        metric="resolution",
        state=ClockState.PAUSED,
        paused_at=NOW - dt.timedelta(hours=5),
        business_elapsed=dt.timedelta(hours=1),
    )
    view = selectors.clock_view(paused, now=NOW)
    assert view.state_label == "Paused (waiting on you)"
    assert view.business_left_text == "3 h left"


def test_ticket_clocks_shows_the_latest_cycle_of_each_metric_in_metric_order(
    world: PortalWorld,
) -> None:
    ticket = acme_ticket(world, "Reopened", created_at=NOW - dt.timedelta(days=1))
    SlaClockFactory.create(
        ticket=ticket, metric="resolution", cycle=1, state=ClockState.MET, met_at=NOW
    )
    second = SlaClockFactory.create(ticket=ticket, metric="resolution", cycle=2, started_at=NOW)
    SlaClockFactory.create(ticket=ticket, metric="acknowledge")
    views = selectors.ticket_clocks(ticket=ticket, now=NOW)
    assert [(view.metric, view.cycle) for view in views] == [
        ("acknowledge", 1),
        ("resolution", second.cycle),
    ]


@time_machine.travel(NOW, tick=False)
def test_next_due_is_the_most_urgent_live_clock_from_the_prefetch(
    world: PortalWorld, django_assert_num_queries: object
) -> None:
    ticket = acme_ticket(world, "Two clocks", created_at=NOW - dt.timedelta(hours=1))
    SlaClockFactory.create(ticket=ticket, metric="resolution", target=dt.timedelta(hours=24))
    SlaClockFactory.create(ticket=ticket, metric="first_response", target=dt.timedelta(hours=2))
    (listed,) = selectors.portal_tickets(organization=world.acme)
    with django_assert_num_queries(0):  # type: ignore[operator]
        view = selectors.next_due(listed, now=NOW)
    assert view is not None
    assert view.metric == "first_response"


# -- the plan page ----------------------------------------------------------------------------


def test_response_times_has_a_row_per_severity_and_category_and_none_for_no_guarantee(
    world: PortalWorld,
) -> None:
    outage = CategoryFactory.create(plan=world.plan, name="API outage")
    night = CalendarFactory.create(policy=world.plan.policy, slug="night", name="Night desk")
    TargetFactory.create(
        plan=world.plan,
        severity=world.severities[1],
        category=outage,
        calendar=night,
        acknowledge=dt.timedelta(minutes=15),
        first_response=None,
        resolution=None,
    )
    rows = selectors.response_times(plan=world.plan)
    by_key = {(row.severity.level, row.category_name): row for row in rows}
    assert sorted(by_key) == [(1, ""), (1, "API outage"), (2, ""), (3, ""), (4, "")]
    assert by_key[(1, "")].cells == ["1 h", "4 h", None]
    assert by_key[(1, "API outage")].cells == ["15 min", None, None]
    assert by_key[(1, "API outage")].calendar_name == "Night desk"
    assert not by_key[(3, "")].has_guarantee
    assert by_key[(3, "")].calendar_name == world.plan.support_hours.calendar.name


def test_a_contact_of_another_organization_is_not_found(world: PortalWorld) -> None:
    contacts = selectors.organization_contacts(organization=world.acme)
    assert {c.user.username for c in contacts} == {"alice", "bob"}
    pk = world.bob.pk
    assert selectors.contact_of_organization(organization=world.acme, pk=pk) == world.bob
    with pytest.raises(Http404):
        selectors.contact_of_organization(organization=world.globex, pk=pk)
