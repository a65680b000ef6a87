"""The ticket's page in the admin (conversation, work forms, clocks, escalations, time), and
every admin page of the workplace opening for a superuser."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.mail import EmailMessage
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from plans.models import UserProfile
from sla.models import EscalationFiring, SlaClock
from tests.admin_checks import message_texts
from tests.builders.desk import build_desk_world, submit_ticket
from tests.builders.mail import send_held_mails
from tests.factories import AgentFactory, TimeEntryFactory
from tickets import services
from tickets.models import CustomerEscalation, Message, Status, Ticket, TicketEvent, TimeEntry

pytestmark = pytest.mark.django_db


def change_url(ticket: Ticket) -> str:
    return reverse("admin:tickets_ticket_change", args=[ticket.pk])


def work_url(ticket: Ticket, name: str) -> str:
    return reverse(f"admin:tickets_ticket_{name}", args=[ticket.pk])


def admin_user() -> User:
    return get_user_model().objects.get(username="admin")


def fire(ticket: Ticket, rule_text: str = "Not resolved within 2h: support managers") -> None:
    """An escalation firing as the sweep records it (the sweep itself is tested in sla)."""
    clock = ticket.sla_clocks.get(metric="resolution")
    now = timezone.now()
    EscalationFiring.objects.create(
        clock=clock,
        rule_text=rule_text,
        due_at=now,
        fired_at=now,
        notified=["boss@example.com"],
        sweep=uuid.uuid4(),
    )


# --------------------------------------------------------------------------------------------
# The change page


def test_the_ticket_page_shows_the_conversation_with_notes_set_apart(admin_client: Client) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    services.ticket_reply(ticket=ticket, author=world.agent, body="Looking now", internal=False)
    services.ticket_reply(ticket=ticket, author=world.agent, body="Check the DB", internal=True)
    html = admin_client.get(change_url(ticket)).content.decode()
    assert "<strong>down</strong>" in html
    assert 'class="msg msg-public"' in html and "Looking now" in html
    assert 'class="msg msg-internal"' in html and "Check the DB" in html


def test_the_ticket_page_links_to_organization_contract_and_contacts(
    admin_client: Client,
) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    html = admin_client.get(change_url(ticket)).content.decode()
    assert reverse("admin:plans_organization_change", args=[world.organization.pk]) in html
    assert reverse("admin:plans_contract_change", args=[world.contract.pk]) in html
    assert reverse("admin:plans_namedcontact_change", args=[world.contact.pk]) in html


def test_the_ticket_page_shows_the_clocks_with_their_logs(admin_client: Client) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    services.ticket_set_status(ticket=ticket, status=Status.WAITING, by=world.agent)
    html = admin_client.get(change_url(ticket)).content.decode()
    assert 'id="clocks"' in html
    for text in ["Acknowledge", "First response", "Resolution", "Started", "Paused", "Met"]:
        assert text in html, text
    assert "UTC" in html  # times carry the viewer's zone


def test_the_ticket_page_shows_the_escalations_fired(admin_client: Client) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    fire(ticket)
    html = admin_client.get(change_url(ticket)).content.decode()
    assert "Not resolved within 2h: support managers" in html
    assert "boss@example.com" in html


def test_the_ticket_page_has_no_save_button(admin_client: Client) -> None:
    ticket = submit_ticket(build_desk_world())
    html = admin_client.get(change_url(ticket)).content.decode()
    assert 'name="_save"' not in html


def test_posting_the_read_only_ticket_form_changes_nothing(admin_client: Client) -> None:
    ticket = submit_ticket(build_desk_world())
    response = admin_client.post(change_url(ticket), {"subject": "Hacked"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.subject == "Site down"


# --------------------------------------------------------------------------------------------
# Replies


def test_a_public_reply_emails_the_customer(
    admin_client: Client, mailoutbox: list[EmailMessage], django_capture_on_commit_callbacks: Any
) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            work_url(ticket, "reply"), {"reply-kind": "public", "reply-body": "We are on it."}
        )
    assert response.status_code == 302
    send_held_mails()  # a ticket update waits out its grouping window
    assert [mail.to for mail in mailoutbox] == [[world.customer.email]]
    assert "We are on it." in mailoutbox[0].body
    assert ticket.messages.filter(kind=Message.Kind.PUBLIC, from_customer=False).count() == 1


def test_an_internal_note_emails_nobody(
    admin_client: Client, mailoutbox: list[EmailMessage], django_capture_on_commit_callbacks: Any
) -> None:
    ticket = submit_ticket(build_desk_world())
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            work_url(ticket, "reply"), {"reply-kind": "internal", "reply-body": "Between us."}
        )
    assert mailoutbox == []
    assert ticket.messages.get(kind=Message.Kind.INTERNAL).body == "Between us."


def test_a_reply_carries_its_attachments(
    admin_client: Client, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    ticket = submit_ticket(build_desk_world())
    upload = SimpleUploadedFile("trace.log", b"stack", content_type="text/plain")
    admin_client.post(
        work_url(ticket, "reply"),
        {"reply-kind": "public", "reply-body": "Log attached.", "reply-attachments": [upload]},
    )
    message = ticket.messages.get(body="Log attached.")
    assert [a.name for a in message.attachments.all()] == ["trace.log"]


def test_a_refused_attachment_is_shown_on_the_reply_form(
    admin_client: Client, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path
    ticket = submit_ticket(build_desk_world())
    upload = SimpleUploadedFile("tool.exe", b"MZ", content_type="application/octet-stream")
    response = admin_client.post(
        work_url(ticket, "reply"),
        {"reply-kind": "public", "reply-body": "Here.", "reply-attachments": [upload]},
    )
    assert response.status_code == 200
    assert "files of type .exe are not accepted" in response.content.decode()
    assert not ticket.messages.filter(body="Here.").exists()


def test_an_empty_reply_is_refused_with_a_message(admin_client: Client) -> None:
    ticket = submit_ticket(build_desk_world())
    response = admin_client.post(work_url(ticket, "reply"), {"reply-kind": "public"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


# --------------------------------------------------------------------------------------------
# Severity, clarification, assignment, tier, status, out of scope


def test_a_severity_change_requires_a_reason(admin_client: Client) -> None:
    ticket = submit_ticket(build_desk_world())
    response = admin_client.post(work_url(ticket, "severity"), {"severity-level": "2"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.severity.level == 1


def test_a_blank_severity_reason_is_refused_by_the_service(admin_client: Client) -> None:
    ticket = submit_ticket(build_desk_world())
    response = admin_client.post(
        work_url(ticket, "severity"), {"severity-level": "2", "severity-reason": "   "}
    )
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.severity.level == 1


def test_a_severity_change_with_a_reason_retargets_and_logs_it(admin_client: Client) -> None:
    ticket = submit_ticket(build_desk_world())
    admin_client.post(
        work_url(ticket, "severity"),
        {"severity-level": "2", "severity-reason": "Only one page is affected."},
    )
    ticket.refresh_from_db()
    assert ticket.severity.level == 2
    event = ticket.events.get(kind=TicketEvent.Kind.SEVERITY)
    assert (event.reason, event.customer_visible) == ("Only one page is affected.", True)
    assert ticket.sla_clocks.get(metric="resolution").target == dt.timedelta(days=3)


def test_support_can_ask_the_customer_to_clarify_the_severity(admin_client: Client) -> None:
    ticket = submit_ticket(build_desk_world())
    admin_client.post(work_url(ticket, "clarify"), {"clarify-question": "Are all users affected?"})
    ticket.refresh_from_db()
    assert ticket.severity_clarification == "Are all users affected?"


def test_the_assign_form_assigns_an_agent(admin_client: Client) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    admin_client.post(work_url(ticket, "assign"), {"assign-assignee": str(world.agent.pk)})
    ticket.refresh_from_db()
    assert ticket.assignee == world.agent


def test_the_tier_form_moves_the_ticket(admin_client: Client) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    admin_client.post(work_url(ticket, "queue"), {"queue-queue": str(world.l2.pk)})
    ticket.refresh_from_db()
    assert ticket.queue == world.l2


def test_the_status_form_puts_the_ticket_waiting_on_the_customer(admin_client: Client) -> None:
    ticket = submit_ticket(build_desk_world())
    response = admin_client.post(
        work_url(ticket, "status"), {"status-move": "waiting", "status-reason": "Need logs"}
    )
    assert "is now waiting on customer" in " ".join(message_texts(response))
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING


def test_a_status_move_not_allowed_from_the_current_status_is_refused_not_raised(
    admin_client: Client,
) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    services.ticket_resolve(ticket=ticket, by=world.agent)
    response = admin_client.post(work_url(ticket, "status"), {"status-move": "waiting"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


def test_the_status_list_offers_only_the_moves_allowed_from_the_current_status(
    admin_client: Client,
) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    offered = admin_client.get(change_url(ticket)).context["status_form"].fields["move"].choices
    assert [value for value, _ in offered] == [
        "acknowledge",
        "in_progress",
        "waiting",
        "resolve",
        "close",
    ]
    services.ticket_resolve(ticket=ticket, by=world.agent)
    offered = admin_client.get(change_url(ticket)).context["status_form"].fields["move"].choices
    assert [value for value, _ in offered] == ["close", "reopen"]


def test_the_ticket_page_shows_the_conversation_and_reply_box_before_the_details(
    admin_client: Client,
) -> None:
    ticket = submit_ticket(build_desk_world())
    html = admin_client.get(change_url(ticket)).content.decode()
    assert html.index('id="conversation"') < html.index('id="reply"') < html.index("Triage")


def test_the_ticket_page_closes_as_out_of_scope_with_the_policys_reason(
    admin_client: Client,
) -> None:
    ticket = submit_ticket(build_desk_world())
    admin_client.post(work_url(ticket, "out_of_scope"), {"oos-choice": "Product training"})
    ticket.refresh_from_db()
    assert (ticket.status, ticket.out_of_scope_reason) == (Status.CLOSED, "Product training")


# --------------------------------------------------------------------------------------------
# Time


def test_an_agent_logs_time_on_the_ticket(admin_client: Client) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    admin_client.post(
        work_url(ticket, "time"),
        {
            "time-agent": str(world.agent.pk),
            "time-date": "2026-11-02",
            "time-minutes": "45",
            "time-note": "Reproduced",
        },
    )
    entry = TimeEntry.objects.get(ticket=ticket)
    assert (entry.agent, entry.date, entry.minutes, entry.billable, entry.note) == (
        world.agent,
        dt.date(2026, 11, 2),
        45,
        False,
        "Reproduced",
    )
    assert ticket.events.filter(kind=TicketEvent.Kind.TIME_LOGGED).exists()


def test_time_logged_without_a_date_counts_today(admin_client: Client) -> None:
    ticket = submit_ticket(build_desk_world())
    admin_client.post(
        work_url(ticket, "time"),
        {"time-agent": str(admin_user().pk), "time-minutes": "30", "time-billable": "on"},
    )
    entry = TimeEntry.objects.get(ticket=ticket)
    assert entry.billable and entry.date is not None


def test_time_outside_a_day_is_refused_naming_the_field(admin_client: Client) -> None:
    ticket = submit_ticket(build_desk_world())
    response = admin_client.post(
        work_url(ticket, "time"), {"time-agent": str(admin_user().pk), "time-minutes": "0"}
    )
    assert response.status_code == 200
    assert "greater than or equal to 1" in response.content.decode()
    assert not TimeEntry.objects.exists()


def test_the_ticket_page_lists_the_time_entries(admin_client: Client) -> None:
    ticket = submit_ticket(build_desk_world())
    TimeEntryFactory.create(ticket=ticket, minutes=90, note="Call with the customer")
    html = admin_client.get(change_url(ticket)).content.decode()
    assert "Call with the customer" in html and "1h 30m logged" in html


# --------------------------------------------------------------------------------------------
# Customer escalations


def escalated(world: SimpleNamespace) -> CustomerEscalation:
    ticket = submit_ticket(world, level=2)
    return services.ticket_request_escalation(
        ticket=ticket, by=world.customer, reason="Nobody answers"
    )


def test_an_agent_marks_a_customer_escalation_unwarranted(admin_client: Client) -> None:
    world = build_desk_world()
    escalation = escalated(world)
    url = reverse("admin:tickets_ticket_unwarranted", args=[escalation.ticket_id, escalation.pk])
    admin_client.post(url, {"unwarranted-note": "Answered within target"})
    escalation.refresh_from_db()
    assert escalation.unwarranted and escalation.review_note == "Answered within target"
    assert escalation.reviewed_by == admin_user()


def test_the_ticket_page_offers_to_mark_an_escalation_unwarranted(admin_client: Client) -> None:
    escalation = escalated(build_desk_world())
    html = admin_client.get(change_url(escalation.ticket)).content.decode()
    assert "Nobody answers" in html and 'value="Mark unwarranted"' in html


def test_the_escalation_admin_action_marks_them_unwarranted(admin_client: Client) -> None:

    escalation = escalated(build_desk_world())
    admin_client.post(
        reverse("admin:tickets_customerescalation_changelist"),
        {"action": "mark_unwarranted", helpers.ACTION_CHECKBOX_NAME: [escalation.pk]},
    )
    escalation.refresh_from_db()
    assert escalation.unwarranted


def test_managers_see_each_organizations_count_of_unwarranted_escalations(
    admin_client: Client,
) -> None:
    world = build_desk_world()
    for _ in range(2):
        services.escalation_mark_unwarranted(escalation=escalated(world), by=world.agent)
    escalated(world)  # warranted: not counted
    response = admin_client.get(reverse("admin:plans_organization_changelist"))
    organization = next(
        row for row in response.context["cl"].result_list if row.pk == world.organization.pk
    )
    assert organization.unwarranted_total == 2
    assert "unwarranted__exact=1" in response.content.decode()


def test_the_organization_list_runs_the_same_queries_with_more_escalations(
    admin_client: Client, django_assert_num_queries: Any
) -> None:

    world = build_desk_world()
    url = reverse("admin:plans_organization_changelist")
    with CaptureQueriesContext(connection) as before:
        admin_client.get(url)
    for _ in range(3):
        services.escalation_mark_unwarranted(escalation=escalated(world), by=world.agent)
    with django_assert_num_queries(len(before.captured_queries)):
        admin_client.get(url)


# --------------------------------------------------------------------------------------------
# Every page opens


@pytest.mark.parametrize(
    "name",
    [
        "tickets_ticket_changelist",
        "tickets_queue_changelist",
        "tickets_queue_add",
        "tickets_customerescalation_changelist",
        "tickets_timeentry_changelist",
        "tickets_ticketevent_changelist",
        "sla_slaclock_changelist",
        "sla_escalationfiring_changelist",
        "plans_userprofile_changelist",
        "plans_userprofile_add",
        "plans_organization_changelist",
        "plans_contract_changelist",
    ],
)
def test_each_list_and_add_page_opens(admin_client: Client, name: str) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    services.escalation_mark_unwarranted(escalation=escalated(world), by=world.agent)
    TimeEntryFactory.create(ticket=ticket)
    fire(ticket)
    UserProfile.objects.create(user=world.agent, time_zone="Europe/Paris")
    assert admin_client.get(reverse(f"admin:{name}")).status_code == 200


def test_each_change_page_opens(admin_client: Client) -> None:
    world = build_desk_world()
    ticket = submit_ticket(world)
    world.l1.agents.add(world.agent)
    escalation = escalated(world)
    entry = TimeEntryFactory.create(ticket=ticket)
    fire(ticket)
    profile = UserProfile.objects.create(user=world.agent, time_zone="Europe/Paris")
    clock = SlaClock.objects.filter(ticket=ticket).earliest("pk")
    pages = [
        ("tickets_ticket_change", ticket.pk),
        ("tickets_queue_change", world.l1.pk),
        ("tickets_customerescalation_change", escalation.pk),
        ("tickets_timeentry_change", entry.pk),
        ("tickets_ticketevent_change", ticket.events.get(kind="created").pk),
        ("sla_slaclock_change", clock.pk),
        ("sla_escalationfiring_change", EscalationFiring.objects.get().pk),
        ("plans_userprofile_change", profile.pk),
        ("plans_contract_change", world.contract.pk),
        ("plans_organization_change", world.organization.pk),
    ]
    for name, pk in pages:
        response = admin_client.get(reverse(f"admin:{name}", args=[pk]))
        assert response.status_code == 200, name


def test_tickets_are_not_added_or_deleted_in_the_admin(admin_client: Client) -> None:
    ticket = submit_ticket(build_desk_world())
    assert admin_client.get(reverse("admin:tickets_ticket_add")).status_code == 403
    assert (
        admin_client.get(reverse("admin:tickets_ticket_delete", args=[ticket.pk])).status_code
        == 403
    )


def test_a_staff_user_without_permission_cannot_use_the_work_views(client: Client) -> None:
    ticket = submit_ticket(build_desk_world())
    agent = AgentFactory.create()
    client.force_login(agent)
    response = client.post(work_url(ticket, "reply"), {"reply-kind": "public", "reply-body": "x"})
    assert response.status_code == 403
    assert not ticket.messages.filter(body="x").exists()


def test_pooled_months_are_agreed_on_the_contract_page(admin_client: Client) -> None:
    world = build_desk_world()
    world.plan.poolable_months = 2  # the plan allows two months to be pooled
    world.plan.save()
    url = reverse("admin:plans_contract_change", args=[world.contract.pk])
    data = {
        "organization": world.organization.pk,
        "plan": world.plan.pk,
        "starts_on": "2020-01-01",
        "onboarding_completed": "on",
        "condition_records-TOTAL_FORMS": "0",
        "condition_records-INITIAL_FORMS": "0",
        "pooled_months-TOTAL_FORMS": "1",
        "pooled_months-INITIAL_FORMS": "0",
        "pooled_months-0-first_month": "2026-11-01",
        "pooled_months-0-months": "2",
        "pooled_months-0-note": "Agreed on the phone",
    }
    refused = admin_client.post(url, {**data, "pooled_months-0-months": "3"})
    assert refused.status_code == 200
    assert "allows pooling at most 2 months" in refused.content.decode()
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert world.contract.pooled_months.get().note == "Agreed on the phone"
