"""The agents' queue: the ticket changelist, its SLA badge, filters, sorting and actions."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from sla.models import ClockState, SlaClock
from tests.admin_checks import message_texts
from tests.builders.desk import build_desk_world, submit_ticket
from tests.factories import (
    AgentFactory,
    CategoryFactory,
    OrganizationFactory,
    PlanFactory,
    PolicyFactory,
    QueueFactory,
    SeverityFactory,
    SlaClockFactory,
    TicketFactory,
)
from tickets import services
from tickets.desk.admin import severity_pill, short_instant, sla_badge, sla_badge_parts
from tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:tickets_ticket_changelist"


def queue_rows(client: Client, **params: str) -> list[str]:
    response = client.get(reverse(CHANGELIST), params)
    assert response.status_code == 200
    return [ticket.reference for ticket in response.context["cl"].result_list]


def post_action(client: Client, action: str, tickets: list[Ticket], **extra: str):
    """Post an action from the queue showing every ticket (open and closed)."""
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [t.pk for t in tickets], **extra}
    return client.post(reverse(CHANGELIST) + "?open=all", data)


# --------------------------------------------------------------------------------------------
# Fixed query count


def varied_tickets(count: int, start: int) -> None:
    """Tickets of different organizations, assignees, queues and clock states."""
    plan = PlanFactory.create(slug="bulk-plan")
    states = [ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED]
    now = timezone.now()
    for index in range(start, start + count):
        ticket = TicketFactory.create(
            plan=plan,
            organization=OrganizationFactory.create(slug=f"bulk-{index}"),
            assignee=AgentFactory.create(username=f"bulk-agent-{index}"),
            queue=QueueFactory.create(slug=f"q{index % 3}"),
        )
        state = states[index % 3]
        SlaClockFactory.create(
            ticket=ticket,
            metric="first_response",
            state=state,
            breached_at=now if state == ClockState.BREACHED else None,
        )
        SlaClockFactory.create(ticket=ticket, metric="resolution", target=dt.timedelta(hours=24))


def test_the_queue_runs_the_same_queries_for_5_and_50_tickets(
    admin_client: Client, django_assert_num_queries
) -> None:
    varied_tickets(5, 0)
    admin_client.get(reverse(CHANGELIST))  # warm the session
    with CaptureQueriesContext(connection) as five:
        assert admin_client.get(reverse(CHANGELIST)).status_code == 200
    varied_tickets(45, 5)
    with django_assert_num_queries(len(five.captured_queries)):
        response = admin_client.get(reverse(CHANGELIST))
    assert len(response.context["cl"].result_list) == 50


def test_the_queue_runs_the_same_queries_when_filtered_by_sla_state(
    admin_client: Client, django_assert_num_queries
) -> None:
    varied_tickets(5, 0)
    with CaptureQueriesContext(connection) as five:
        admin_client.get(reverse(CHANGELIST), {"sla": "paused", "o": "9"})
    varied_tickets(45, 5)
    with django_assert_num_queries(len(five.captured_queries)):
        admin_client.get(reverse(CHANGELIST), {"sla": "paused", "o": "9"})


# --------------------------------------------------------------------------------------------
# Columns and the SLA badge


def clock(state: str = "running", due_in: dt.timedelta | None = None, **fields) -> SlaClock:
    """A first-response clock on a 24x7 calendar, so business time left is wall-clock time."""
    now = timezone.now()
    fields.setdefault("at_risk_at", now + dt.timedelta(minutes=30))
    return SlaClockFactory.create(
        state=state,
        target=dt.timedelta(hours=4),
        due_at=now + due_in if due_in is not None else None,
        **fields,
    )


def test_the_badge_shows_business_time_left_when_on_track() -> None:
    now = timezone.now()
    parts = sla_badge_parts([clock(due_in=dt.timedelta(hours=2, minutes=10, seconds=30))], now)
    assert parts is not None and parts[:2] == ("sla-ok", "On track \u00b7 2h 10m left")


def test_the_badge_turns_amber_once_the_clock_is_at_risk() -> None:
    now = timezone.now()
    due_soon = clock(due_in=dt.timedelta(hours=3), at_risk_at=now - dt.timedelta(minutes=1))
    parts = sla_badge_parts([due_soon], now)
    assert parts is not None and parts[:2] == ("sla-amber", "At risk \u00b7 3h left")


def test_the_badge_stays_green_with_little_time_left_while_under_the_at_risk_share() -> None:
    now = timezone.now()
    parts = sla_badge_parts([clock(due_in=dt.timedelta(minutes=40))], now)
    assert parts is not None and parts[0] == "sla-ok"


def test_the_badge_writes_breached_and_the_time_over() -> None:
    now = timezone.now()
    breached = clock(
        state="breached", due_in=-dt.timedelta(minutes=35, seconds=10), breached_at=now
    )
    parts = sla_badge_parts([breached], now)
    assert parts is not None and parts[:2] == ("sla-breached", "Breached \u00b7 35m over")


def test_the_badge_marks_a_paused_clock_with_the_time_it_keeps() -> None:
    now = timezone.now()
    paused = clock(state="paused", due_in=dt.timedelta(hours=1), paused_at=now)
    parts = sla_badge_parts([paused], now)
    assert parts is not None and parts[:2] == ("sla-paused", "Paused \u00b7 1h left")


def test_a_paused_clock_past_its_old_due_instant_is_paused_not_breached() -> None:
    now = timezone.now()
    paused = clock(
        state="paused", due_in=-dt.timedelta(hours=1), paused_at=now - dt.timedelta(hours=2)
    )
    parts = sla_badge_parts([paused], now)
    assert parts is not None and parts[0] == "sla-paused"


def test_the_badge_speaks_of_the_running_clock_due_first() -> None:
    now = timezone.now()
    ticket = TicketFactory.create()
    later = clock(ticket=ticket, due_in=dt.timedelta(hours=5))
    sooner = clock(ticket=ticket, metric="acknowledge", due_in=dt.timedelta(minutes=20))
    paused = clock(
        ticket=ticket,
        metric="resolution",
        state="paused",
        paused_at=now,
        due_in=dt.timedelta(minutes=1),
    )
    parts = sla_badge_parts([later, paused, sooner], now)
    assert parts is not None and parts[1] == "On track \u00b7 20m left"


def test_the_queue_shows_the_badge_and_the_severity_pill(admin_client: Client) -> None:
    world = build_desk_world()
    opened = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(opened, tick=False):
        ticket = submit_ticket(world)
    with time_machine.travel(opened + dt.timedelta(minutes=10), tick=False):
        response = admin_client.get(reverse(CHANGELIST))
    html = response.content.decode()
    assert ticket.reference in html
    assert (
        'On track<span class="sla-sep"> \u00b7 </span><span class="sla-amount">50m left</span>'
        in html
    )
    assert 'title="Acknowledge on track, due Fri 20 Nov 10:00 ' in html
    assert 'class="sla-badge sla-ok"' in html
    assert 'class="sev-pill sev-1"' in html
    assert world.organization.name in html and world.plan.name in html
    # Times are 24-hour, in the viewer's zone, with the zone named.
    assert '<time datetime="2026-11-20T09:00:00+00:00">Fri 20 Nov 09:00 UTC</time>' in html


def test_the_queue_folds_its_filters_and_leaves_out_the_side_navigation(
    admin_client: Client,
) -> None:
    build_desk_world()
    html = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert '<details class="queue-filters" id="queue-filters">' in html
    assert 'id="nav-sidebar"' not in html
    filtered = admin_client.get(reverse(CHANGELIST), {"assigned": "mine"}).content.decode()
    assert '<details class="queue-filters" id="queue-filters" open>' in filtered


def test_the_admin_index_starts_with_the_queue_and_links_the_reports(
    admin_client: Client,
) -> None:
    html = admin_client.get(reverse("admin:index")).content.decode()
    queue = reverse(CHANGELIST)
    assert html.index('id="desk-queue"') < html.index('id="desk-reports"') < html.index("app-")
    assert f'href="{queue}?sla=breached"' in html
    assert f'href="{reverse("reports:report")}"' in html
    assert f'href="{reverse("reports:hours_overage")}"' in html


def test_an_agent_who_is_no_manager_is_not_offered_the_reports(client: Client) -> None:
    agent = AgentFactory.create()
    agent.user_permissions.add(Permission.objects.get(codename="view_ticket"))
    client.force_login(agent)
    html = client.get(reverse("admin:index")).content.decode()
    assert 'id="desk-queue"' in html and 'id="desk-reports"' not in html


# --------------------------------------------------------------------------------------------
# Sorting and filters


def test_the_queue_is_sorted_by_next_due_with_nothing_due_last(admin_client: Client) -> None:
    plan = PlanFactory.create(slug="sort-plan")
    later = SlaClockFactory.create(
        ticket=TicketFactory.create(plan=plan), target=dt.timedelta(hours=8)
    ).ticket
    sooner = SlaClockFactory.create(
        ticket=TicketFactory.create(plan=plan), target=dt.timedelta(hours=1)
    ).ticket
    nothing = TicketFactory.create(plan=plan)
    assert queue_rows(admin_client) == [sooner.reference, later.reference, nothing.reference]


def test_the_sla_column_sorts_by_next_due(admin_client: Client) -> None:
    plan = PlanFactory.create(slug="sort-plan")
    later = SlaClockFactory.create(
        ticket=TicketFactory.create(plan=plan), target=dt.timedelta(hours=8)
    ).ticket
    sooner = SlaClockFactory.create(
        ticket=TicketFactory.create(plan=plan), target=dt.timedelta(hours=1)
    ).ticket
    response = admin_client.get(reverse(CHANGELIST))
    column = response.context["cl"].list_display.index("sla")
    rows = queue_rows(admin_client, o=f"-{column}")
    assert rows.index(later.reference) < rows.index(sooner.reference)


def sla_buckets() -> dict[str, Ticket]:
    plan = PlanFactory.create(slug="bucket-plan")
    now = timezone.now()
    hour = dt.timedelta(hours=1)
    tickets = {
        name: TicketFactory.create(plan=plan, subject=name)
        for name in ["breached", "at_risk", "paused", "on_track", "no_target", "met"]
    }
    SlaClockFactory.create(
        ticket=tickets["breached"],
        state="breached",
        started_at=now - 5 * hour,
        due_at=now - hour,
        at_risk_at=now - 2 * hour,
        breached_at=now - hour,
    )
    SlaClockFactory.create(
        ticket=tickets["at_risk"],
        started_at=now - 3 * hour,
        due_at=now + hour,
        at_risk_at=now - hour,
    )
    SlaClockFactory.create(
        ticket=tickets["paused"],
        metric="resolution",
        state="paused",
        paused_at=now - hour,
        at_risk_at=now + hour,
    )
    SlaClockFactory.create(ticket=tickets["on_track"], at_risk_at=now + 2 * hour)
    SlaClockFactory.create(ticket=tickets["no_target"], target=None, due_at=None)
    SlaClockFactory.create(ticket=tickets["met"], state="met", met_at=now)
    return tickets


@pytest.mark.parametrize("bucket", ["breached", "at_risk", "paused", "on_track"])
def test_the_sla_filter_finds_each_bucket(admin_client: Client, bucket: str) -> None:
    tickets = sla_buckets()
    assert queue_rows(admin_client, sla=bucket) == [tickets[bucket].reference]


def test_a_breached_ticket_is_not_also_at_risk(admin_client: Client) -> None:
    tickets = sla_buckets()
    SlaClockFactory.create(
        ticket=tickets["breached"],
        metric="resolution",
        at_risk_at=timezone.now() - dt.timedelta(minutes=5),
    )
    assert tickets["breached"].reference not in queue_rows(admin_client, sla="at_risk")


def test_the_mine_filter_shows_my_tickets(admin_client: Client) -> None:
    me = get_user_model().objects.get(username="admin")
    mine = TicketFactory.create(assignee=me)
    TicketFactory.create(assignee=AgentFactory.create())
    assert queue_rows(admin_client, assigned="mine") == [mine.reference]


def test_the_unassigned_filter_shows_tickets_nobody_has(admin_client: Client) -> None:
    nobodys = TicketFactory.create()
    TicketFactory.create(assignee=AgentFactory.create())
    assert queue_rows(admin_client, assigned="nobody") == [nobodys.reference]


def test_the_queue_filters_by_tier_severity_status_and_category(admin_client: Client) -> None:
    plan = PlanFactory.create(slug="filters-plan")
    category = CategoryFactory.create(plan=plan)
    l2 = QueueFactory.create(slug="l2")
    in_l2 = TicketFactory.create(plan=plan, queue=l2)
    critical = TicketFactory.create(
        plan=plan, severity=SeverityFactory.create(policy=plan.policy, level=1)
    )
    waiting = TicketFactory.create(plan=plan, status=Status.WAITING)
    categorized = TicketFactory.create(plan=plan, category=category)
    assert queue_rows(admin_client, queue__id__exact=str(l2.pk)) == [in_l2.reference]
    assert queue_rows(admin_client, severity__level="1") == [critical.reference]
    assert queue_rows(admin_client, status__exact="waiting") == [waiting.reference]
    assert queue_rows(admin_client, category=str(category.pk)) == [categorized.reference]


def test_the_queue_searches_reference_subject_organization_and_requester_email(
    admin_client: Client,
) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world, subject="Checkout is broken")
    other = TicketFactory.create(subject="Something else")
    for term in [ticket.reference, "Checkout", world.organization.name, world.customer.email]:
        rows = queue_rows(admin_client, q=term)
        assert ticket.reference in rows and other.reference not in rows, term


# --------------------------------------------------------------------------------------------
# Actions


def test_assign_to_me_assigns_the_selected_tickets(admin_client: Client) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    post_action(admin_client, "assign_to_me", [ticket])
    ticket.refresh_from_db()
    assert ticket.assignee.username == "admin"


def test_acknowledge_meets_the_acknowledge_clock(admin_client: Client) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    post_action(admin_client, "acknowledge", [ticket])
    ticket.refresh_from_db()
    assert ticket.status == Status.ACKNOWLEDGED
    assert ticket.sla_clocks.get(metric="acknowledge").state == ClockState.MET


def test_move_to_a_tier_asks_for_the_tier_first(admin_client: Client) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    response = post_action(admin_client, "move_to_tier", [ticket])
    assert response.status_code == 200
    assert b"Move tickets to a tier" in response.content and ticket.reference.encode() in (
        response.content
    )
    ticket.refresh_from_db()
    assert ticket.queue_id is None


def test_move_to_a_tier_moves_the_tickets(admin_client: Client) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    post_action(
        admin_client,
        "move_to_tier",
        [ticket],
        apply="1",
        queue=str(world.l2.pk),
        reason="Needs an engineer",
    )
    ticket.refresh_from_db()
    assert ticket.queue == world.l2
    assert ticket.events.get(kind="queue").reason == "Needs an engineer"


def test_waiting_on_customer_pauses_the_resolution_clock(admin_client: Client) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    post_action(admin_client, "waiting_on_customer", [ticket])
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING
    assert ticket.sla_clocks.get(metric="resolution").state == ClockState.PAUSED


def test_resolve_resolves_the_tickets(admin_client: Client) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    post_action(admin_client, "resolve", [ticket])
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


def test_an_action_refused_for_one_ticket_reports_it_and_does_the_others(
    admin_client: Client,
) -> None:
    world = build_desk_world()
    closed = submit_ticket(world, subject="Old")
    services.ticket_close(ticket=closed, by=world.agent)
    fresh = submit_ticket(world, subject="New")
    response = post_action(admin_client, "resolve", [closed, fresh])
    assert response.status_code == 302
    texts = message_texts(response)
    assert any(text.startswith(f"{closed.reference}: ") and "closed" in text for text in texts)
    assert "1 ticket(s) resolved." in texts
    fresh.refresh_from_db()
    assert fresh.status == Status.RESOLVED


def test_close_as_out_of_scope_offers_the_policys_reasons(admin_client: Client) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    response = post_action(admin_client, "close_out_of_scope", [ticket])
    assert response.status_code == 200
    assert b"Custom designs for your site" in response.content
    assert b"Product training" in response.content


def test_close_as_out_of_scope_closes_with_the_chosen_reason(admin_client: Client) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    post_action(
        admin_client,
        "close_out_of_scope",
        [ticket],
        apply="1",
        **{"oos-choice": "Product training"},
    )
    ticket.refresh_from_db()
    assert (ticket.status, ticket.out_of_scope_reason) == (Status.CLOSED, "Product training")


def test_close_as_out_of_scope_takes_a_written_reason(admin_client: Client) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    post_action(
        admin_client,
        "close_out_of_scope",
        [ticket],
        apply="1",
        **{"oos-choice": "__other__", "oos-other": "Hosting is not ours"},
    )
    ticket.refresh_from_db()
    assert ticket.out_of_scope_reason == "Hosting is not ours"


def test_close_as_out_of_scope_without_a_reason_asks_again(admin_client: Client) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    response = post_action(
        admin_client, "close_out_of_scope", [ticket], apply="1", **{"oos-choice": "__other__"}
    )
    assert response.status_code == 200
    assert b"Write the reason" in response.content
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_the_queue_shows_open_tickets_unless_asked_for_all(admin_client: Client) -> None:
    world = build_desk_world()
    done = submit_ticket(world, subject="Done")
    services.ticket_close(ticket=done, by=world.agent)
    waiting = submit_ticket(world, subject="Still open")
    assert queue_rows(admin_client) == [waiting.reference]
    assert set(queue_rows(admin_client, open="all")) == {waiting.reference, done.reference}


def test_the_queue_puts_breached_before_at_risk_before_on_track(admin_client: Client) -> None:
    tickets = sla_buckets()
    rows = queue_rows(admin_client)
    order = [tickets[name].reference for name in ("breached", "at_risk", "on_track", "paused")]
    assert [row for row in rows if row in order] == order


def test_the_plan_the_policy_ranks_higher_comes_first_among_equally_urgent_tickets(
    admin_client: Client,
) -> None:
    policy = PolicyFactory.create(slug="ranked")
    low = PlanFactory.create(policy=policy, slug="on-demand", priority=0)
    high = PlanFactory.create(policy=policy, slug="package", priority=1)
    older = TicketFactory.create(plan=low, subject="Older, on demand")
    newer = TicketFactory.create(plan=high, subject="Newer, in a package")
    assert queue_rows(admin_client)[:2] == [newer.reference, older.reference]


def test_tickets_with_nothing_due_are_first_in_first_out(admin_client: Client) -> None:
    plan = PlanFactory.create(slug="fifo")
    first = TicketFactory.create(plan=plan, created_at=timezone.now() - dt.timedelta(hours=2))
    second = TicketFactory.create(plan=plan, created_at=timezone.now() - dt.timedelta(hours=1))
    assert queue_rows(admin_client) == [first.reference, second.reference]


# --------------------------------------------------------------------------------------------
# Columns written out: what format_html wrote, escaped alike


def test_the_columns_escape_what_they_show_as_format_html_did(admin_client: Client) -> None:
    ticket = TicketFactory.create(
        subject='<b>"Down"</b> & out',
        organization=OrganizationFactory.create(name="A&B <Ltd>"),
        plan=PlanFactory.create(name='Gold "plus"'),
        severity=SeverityFactory.create(level=2, name="<High>", definition='Loss & "harm"'),
    )
    model_admin = admin.site._registry[Ticket]
    assert model_admin.organization_name(ticket) == format_html(
        '{}<br><span class="quiet queue-plan">{}</span>', ticket.organization.name, ticket.plan.name
    )
    assert severity_pill(ticket) == format_html(
        '<span class="sev-pill sev-{}" title="{}">{} {}</span>',
        2,
        ticket.severity.definition,
        2,
        ticket.severity.name,
    )
    assert model_admin.action_checkbox(ticket) == format_html(
        '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
        helpers.ACTION_CHECKBOX_NAME,
        ticket.pk,
        f"Select this object for an action - {ticket}",
    )


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC),
        dt.datetime(2025, 12, 31, 23, 5, tzinfo=dt.UTC),
    ],
    ids=str,
)
def test_an_instant_column_is_what_format_html_wrote(value: dt.datetime) -> None:
    with timezone.override(ZoneInfo("Europe/London")):
        local = timezone.localtime(value)
        year = "" if local.year == timezone.localtime().year else f" {local.year}"
        assert short_instant(value) == format_html(
            '<time datetime="{}">{}{} {}</time>',
            local.isoformat(),
            f"{local:%a %d %b}",
            year,
            f"{local:%H:%M} {local.tzname()}",
        )


def test_a_badge_is_what_format_html_wrote() -> None:
    for state, due_in in [("running", 2), ("running", -2), ("paused", 2)]:
        badge_clock = clock(state=state, due_in=dt.timedelta(hours=due_in))
        parts = sla_badge_parts([badge_clock], timezone.now())
        assert parts is not None
        css, text, title = parts
        standing, separator, amount = text.partition(" \u00b7 ")
        if separator:
            expected = format_html(
                '<span class="sla-badge {}" title="{}">{}<span class="sla-sep"> \u00b7 </span>'
                '<span class="sla-amount">{}</span></span>',
                css,
                title,
                standing,
                amount,
            )
        else:
            expected = format_html(
                '<span class="sla-badge {}" title="{}">{}</span>', css, title, text
            )
        assert sla_badge([badge_clock], timezone.now()) == expected
