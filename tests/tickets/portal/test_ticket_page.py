"""The ticket page: conversation, actions, clarification, severity changes and SLA clocks."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from sla.models import SlaClock, Target
from tests.builders.mail import send_held_mails
from tests.builders.portal import PortalWorld, open_ticket, upload
from tests.factories import AgentFactory, UserFactory
from tickets import services
from tickets.models import CustomerEscalation, Status, Ticket

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 18, 10, 0, tzinfo=dt.UTC)  # a Wednesday


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(ticket: Ticket, action: str = "") -> str:
    if not action:
        return ticket.get_absolute_url()
    return reverse(f"tickets:{action}", args=[ticket.reference])


# -- conversation ---------------------------------------------------------------------------


def test_the_page_shows_public_replies_but_never_internal_notes(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice)
    agent = AgentFactory.create()
    services.ticket_reply(ticket=ticket, author=agent, body="We are on it.")
    services.ticket_reply(ticket=ticket, author=agent, body="Customer is wrong", internal=True)
    page = signed_in(world.bob.user).get(url(ticket))
    assert "We are on it." in page.text
    assert "Customer is wrong" not in page.text
    assert "Internal note" not in page.text


def test_the_history_hides_events_customers_may_not_see(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice)
    agent = AgentFactory.create(username="secret-agent")
    services.ticket_assign(ticket=ticket, assignee=agent, by=agent)
    page = signed_in(world.alice.user).get(url(ticket))
    assert "Assigned to secret-agent" not in page.text
    assert "Opened with severity 2" in page.text


def test_a_colleague_replies_with_an_attachment(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice)
    response = signed_in(world.bob.user).post(
        url(ticket, "reply"), {"body": "More detail", "attachments": [upload("more.txt")]}
    )
    assert response.status_code == 302
    message = ticket.messages.order_by("-id").first()
    assert message.author == world.bob.user
    assert message.from_customer
    assert [a.name for a in message.attachments.all()] == ["more.txt"]


def test_an_empty_reply_is_refused_on_the_body_field(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice)
    response = signed_in(world.alice.user).post(url(ticket, "reply"), {"body": "  "})
    assert response.status_code == 400
    assert response.context["reply_form"].errors["body"]
    assert ticket.messages.count() == 1


def test_a_reply_on_a_ticket_waiting_on_the_customer_puts_it_back_in_progress(
    world: PortalWorld,
) -> None:
    ticket = open_ticket(world.alice)
    agent = AgentFactory.create()
    services.ticket_set_status(ticket=ticket, status=Status.WAITING, by=agent)
    signed_in(world.alice.user).post(url(ticket, "reply"), {"body": "Here you go"})
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS


def test_a_reply_to_a_closed_ticket_is_refused_with_a_message(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice)
    services.ticket_close(ticket=ticket, by=world.alice.user)
    response = signed_in(world.alice.user).post(url(ticket, "reply"), {"body": "Hello?"})
    assert response.status_code == 400
    assert "reopen it to reply" in " ".join(response.context["reply_form"].errors["body"])


def test_a_closed_ticket_with_nothing_left_to_do_shows_no_empty_actions_card(
    world: PortalWorld,
) -> None:
    ticket = open_ticket(world.alice, severity=2)
    client = signed_in(world.alice.user)
    assert 'id="actions-title"' in client.get(url(ticket)).text
    services.ticket_close(ticket=ticket, by=world.alice.user)
    assert 'id="actions-title"' not in client.get(url(ticket)).text


# -- close and reopen -----------------------------------------------------------------------


def test_the_customer_closes_a_ticket_and_is_emailed_the_change(
    world: PortalWorld, mailoutbox: list, django_capture_on_commit_callbacks: object
) -> None:
    ticket = open_ticket(world.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(world.bob.user).post(url(ticket, "close"))
    send_held_mails()  # a ticket update waits out its grouping window
    ticket.refresh_from_db()
    assert response.status_code == 302
    assert ticket.status == Status.CLOSED
    assert [m.to for m in mailoutbox] == [[world.alice.user.email]]
    assert ticket.reference in mailoutbox[0].subject


def test_the_customer_reopens_a_resolved_ticket_with_a_reason(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice)
    services.ticket_resolve(ticket=ticket, by=AgentFactory.create())
    signed_in(world.alice.user).post(url(ticket, "reopen"), {"reason": "Still failing"})
    ticket.refresh_from_db()
    assert ticket.is_open
    assert ticket.events.filter(kind="reopened", reason="Still failing").exists()


def test_a_ticket_closed_as_out_of_scope_cannot_be_reopened(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice)
    services.ticket_close_out_of_scope(ticket=ticket, by=AgentFactory.create(), reason="Training")
    client = signed_in(world.alice.user)
    response = client.post(url(ticket, "reopen"), follow=True)
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert "cannot be reopened" in response.text
    assert "Closed as out of scope:" in response.text


# -- post-incident reports and escalations ---------------------------------------------------


def test_the_post_incident_report_button_appears_only_for_granted_severities(
    world: PortalWorld,
) -> None:
    granted = open_ticket(world.alice, severity=1)
    not_granted = open_ticket(world.alice, severity=2)
    client = signed_in(world.alice.user)
    assert "Request a post-incident report" in client.get(url(granted)).text
    assert "Request a post-incident report" not in client.get(url(not_granted)).text


def test_the_customer_requests_a_post_incident_report(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice, severity=1)
    signed_in(world.bob.user).post(url(ticket, "pir"))
    ticket.refresh_from_db()
    assert ticket.post_incident_report_requested_at is not None


def test_a_post_incident_report_for_a_severity_not_granted_is_refused(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice, severity=2)
    response = signed_in(world.alice.user).post(url(ticket, "pir"), follow=True)
    ticket.refresh_from_db()
    assert ticket.post_incident_report_requested_at is None
    assert "post-incident reports for severity 1 only" in response.text


def test_the_escalation_form_appears_only_where_the_plan_allows_it(world: PortalWorld) -> None:
    allowed = open_ticket(world.alice, severity=2)
    refused = open_ticket(world.alice, severity=1)
    client = signed_in(world.alice.user)
    assert "Request an escalation" in client.get(url(allowed)).text
    assert "Request an escalation" not in client.get(url(refused)).text


def test_the_customer_escalates_and_support_managers_are_emailed(
    world: PortalWorld, mailoutbox: list, django_capture_on_commit_callbacks: object
) -> None:
    manager = UserFactory.create(username="manager", email="manager@vendor.example")
    Group.objects.get_or_create(name="support managers")[0].user_set.add(manager)
    ticket = open_ticket(world.alice, severity=2)
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(world.alice.user).post(
            url(ticket, "escalate"), {"reason": "Launch is tomorrow"}
        )
    assert response.status_code == 302
    escalation = CustomerEscalation.objects.get()
    assert escalation.reason == "Launch is tomorrow"
    assert [m.to for m in mailoutbox] == [["manager@vendor.example"]]
    assert ticket.reference in mailoutbox[0].subject


def test_an_escalation_without_a_reason_is_refused_on_the_reason_field(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice, severity=2)
    response = signed_in(world.alice.user).post(url(ticket, "escalate"), {"reason": ""})
    assert response.status_code == 400
    assert response.context["escalation_form"].errors["reason"]
    assert not CustomerEscalation.objects.exists()


def test_an_escalation_for_a_severity_not_allowed_is_refused(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice, severity=1)
    response = signed_in(world.alice.user).post(
        url(ticket, "escalate"), {"reason": "Hurry"}, follow=True
    )
    assert "escalation on request for severity 2, 3, 4 only" in response.text
    assert not CustomerEscalation.objects.exists()


# -- severity clarification and changes ------------------------------------------------------


def test_a_clarification_question_is_shown_prominently_with_a_way_to_answer(
    world: PortalWorld,
) -> None:
    ticket = open_ticket(world.alice, severity=1)
    services.ticket_request_clarification(
        ticket=ticket, by=AgentFactory.create(), question="Are all users affected?"
    )
    page = signed_in(world.alice.user).get(url(ticket))
    assert 'id="clarification"' in page.text
    assert "Are all users affected?" in page.text
    assert 'href="#reply"' in page.text


def test_the_reason_for_a_severity_change_is_visible(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice, severity=1)
    services.ticket_change_severity(
        ticket=ticket, level=3, by=AgentFactory.create(), reason="Only one user is affected"
    )
    page = signed_in(world.alice.user).get(url(ticket))
    assert "Severity changed from 1 (Critical) to 3 (Normal)" in page.text
    assert "Only one user is affected" in page.text


# -- SLA clocks ------------------------------------------------------------------------------


def _word_targets(world: PortalWorld) -> None:
    """The policy's words for each severity's first-response target."""
    for level, words in ((1, "within four support hours"), (2, "within one support day")):
        Target.objects.filter(plan=world.plan, severity=world.severities[level]).update(
            wording={"first_response": words}
        )


def _times_card(page: str) -> str:
    return page[
        page.index('id="sla-title"') : page.index("</section>", page.index('id="sla-title"'))
    ]


def test_after_a_severity_change_the_page_shows_the_new_severitys_targets(
    world: PortalWorld,
) -> None:
    _word_targets(world)
    with time_machine.travel(START, tick=False):
        ticket = open_ticket(world.alice, severity=2)
    with time_machine.travel(START + dt.timedelta(minutes=10), tick=False):
        services.ticket_change_severity(
            ticket=ticket, level=1, by=AgentFactory.create(), reason="Every user is affected"
        )
        card = _times_card(signed_in(world.alice.user).get(url(ticket)).text)
    assert "Target 4 h (the policy: “within four support hours”)" in card
    assert "Target 1 h" in card  # severity 1 also promises an acknowledgement
    assert "8 h" not in card and "one support day" not in card
    assert _london(START + dt.timedelta(hours=4)) in card


def test_a_clock_met_before_a_severity_change_keeps_the_target_it_was_met_under(
    world: PortalWorld,
) -> None:
    _word_targets(world)
    with time_machine.travel(START, tick=False):
        ticket = open_ticket(world.alice, severity=1)
    with time_machine.travel(START + dt.timedelta(minutes=30), tick=False):
        services.ticket_reply(ticket=ticket, author=AgentFactory.create(), body="Looking")
    with time_machine.travel(START + dt.timedelta(minutes=40), tick=False):
        services.ticket_change_severity(
            ticket=ticket, level=2, by=AgentFactory.create(), reason="One user is affected"
        )
        card = _times_card(signed_in(world.alice.user).get(url(ticket)).text)
    assert "Target 4 h (the policy: “within four support hours”)" in card
    assert "one support day" not in card


def _london(value: dt.datetime) -> str:
    return f"{value.astimezone(zoneinfo.ZoneInfo('Europe/London')):%H:%M}"


def test_each_clock_shows_its_due_time_in_the_viewers_zone_with_the_zone_named(
    world: PortalWorld,
) -> None:
    with time_machine.travel(START, tick=False):
        ticket = open_ticket(world.alice, severity=1)
        page = signed_in(world.alice.user).get(url(ticket))
    due = ticket.sla_clocks.get(metric="first_response").due_at
    assert due == START + dt.timedelta(hours=4)
    assert f'{_london(due)} <span class="text-body-secondary">Europe/London</span>' in page.text
    assert page.text.count("On track") == 2


def test_a_metric_without_a_target_says_no_guarantee(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice, severity=1)
    page = signed_in(world.alice.user).get(url(ticket))
    assert "No guarantee under your plan" in page.text


def test_a_profile_time_zone_changes_the_zone_times_are_shown_in(world: PortalWorld) -> None:
    with time_machine.travel(START, tick=False):
        ticket = open_ticket(world.alice, severity=1)
        client = signed_in(world.alice.user)
        client.post("/account/", {"time_zone": "Asia/Tokyo"})
        page = client.get(url(ticket))
    assert '23:00 <span class="text-body-secondary">Asia/Tokyo</span>' in page.text


def test_a_clock_past_75_percent_is_at_risk(world: PortalWorld) -> None:
    with time_machine.travel(START, tick=False):
        ticket = open_ticket(world.alice, severity=1)
    with time_machine.travel(START + dt.timedelta(hours=3, minutes=30), tick=False):
        page = signed_in(world.alice.user).get(url(ticket))
    assert "At risk" in page.text


def test_a_clock_past_its_due_time_is_breached(world: PortalWorld) -> None:
    with time_machine.travel(START, tick=False):
        ticket = open_ticket(world.alice, severity=1)
    with time_machine.travel(START + dt.timedelta(hours=5), tick=False):
        page = signed_in(world.alice.user).get(url(ticket))
    assert "Breached" in page.text


def test_a_clock_met_in_time_says_met_on_time(world: PortalWorld) -> None:
    with time_machine.travel(START, tick=False):
        ticket = open_ticket(world.alice, severity=1)
    with time_machine.travel(START + dt.timedelta(minutes=30), tick=False):
        services.ticket_reply(ticket=ticket, author=AgentFactory.create(), body="Looking")
        page = signed_in(world.alice.user).get(url(ticket))
    assert page.text.count("Met on time") == 2


def test_a_clock_met_after_its_due_time_says_met_late(world: PortalWorld) -> None:
    with time_machine.travel(START, tick=False):
        ticket = open_ticket(world.alice, severity=1)
    with time_machine.travel(START + dt.timedelta(hours=6), tick=False):
        services.ticket_reply(ticket=ticket, author=AgentFactory.create(), body="Sorry")
        page = signed_in(world.alice.user).get(url(ticket))
    assert "Met late" in page.text


def test_the_page_runs_a_fixed_number_of_queries(
    world: PortalWorld, django_assert_num_queries: object
) -> None:
    ticket = open_ticket(world.alice, severity=1, attachments=(upload(),))
    client = signed_in(world.alice.user)
    client.get(url(ticket))
    for n in range(10):
        services.ticket_reply(
            ticket=ticket,
            author=world.bob.user,
            body=f"reply {n}",
            attachments=[upload(f"f{n}.txt")],
        )
    with django_assert_num_queries(TICKET_PAGE_QUERIES):
        client.get(url(ticket))


def test_the_page_of_a_new_ticket_runs_the_same_number_of_queries(
    world: PortalWorld, django_assert_num_queries: object
) -> None:
    ticket = open_ticket(world.alice, severity=1, attachments=(upload(),))
    client = signed_in(world.alice.user)
    with django_assert_num_queries(TICKET_PAGE_QUERIES):
        client.get(url(ticket))


def test_a_paused_clock_past_its_old_due_instant_shows_paused_not_breached(
    world: PortalWorld,
) -> None:
    opened = dt.datetime(2026, 11, 18, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(opened, tick=False):
        ticket = open_ticket(world.alice)
    # The plan promises no resolution time; give this ticket's resolution clock one, paused.
    SlaClock.objects.filter(ticket=ticket, metric="resolution").update(
        state="paused",
        started_at=opened,
        target=dt.timedelta(hours=8),
        due_at=opened + dt.timedelta(hours=8),
        paused_at=opened + dt.timedelta(hours=2),
    )
    with time_machine.travel(opened + dt.timedelta(days=2), tick=False):
        response = signed_in(world.alice.user).get(url(ticket))
    resolution = next(c for c in response.context["clocks"] if c.metric == "resolution")
    assert (resolution.state, resolution.state_label) == ("paused", "Paused (waiting on you)")
    assert (
        '<span data-live="left">6 h left</span> in support hours, on hold while we wait for you'
    ) in response.content.decode()


# Session, user, the viewer's zone and contact (one query), ticket, messages, their attachments,
# loose attachments, events, clocks, the policy's wording of the targets, the nav's
# support-manager check.
TICKET_PAGE_QUERIES = 11
