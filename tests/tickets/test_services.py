"""Ticket services: entitlements at submission, the event log, emails, references."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from plans.models import Contract
from tests.builders.mail import send_held_mails
from tests.factories import (
    AgentFactory,
    UserFactory,
    customer_on,
    load_example_policy,
)
from tickets import services
from tickets.markdown import render_markdown
from tickets.models import CustomerEscalation, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def submit(user, **kwargs) -> Ticket:
    values = {"subject": "Checkout fails", "body": "Customers cannot pay.", "severity_level": 2}
    values.update(kwargs)
    return services.ticket_create(requester=user, **values)


@pytest.fixture
def moboom():
    load_example_policy("moboom")
    return customer_on("moboom-premium", time_zone="America/Los_Angeles")


@pytest.fixture
def vmoso():
    load_example_policy("vmoso")
    return customer_on("vmoso-standard", time_zone="America/Los_Angeles")


# -- entitlements at submission ---------------------------------------------------------------


def test_only_named_contacts_can_submit(moboom) -> None:
    with pytest.raises(ValidationError, match="named support contacts"):
        submit(UserFactory.create())


def test_an_organization_without_an_active_contract_cannot_submit(moboom) -> None:
    Contract.objects.update(ends_on="2020-06-30")
    with pytest.raises(ValidationError, match="no active support contract"):
        submit(moboom.user)


def test_a_channel_outside_the_plan_is_refused(moboom) -> None:
    with pytest.raises(ValidationError) as error:
        submit(moboom.user, channel="phone")
    assert "phone channel is not part of this plan" in error.value.message_dict["channel"][0]


def test_a_severity_the_policy_lacks_is_refused(moboom) -> None:
    with pytest.raises(ValidationError) as error:
        submit(moboom.user, severity_level=7)
    assert error.value.message_dict["severity"] == ["The Premium plan has no severity 7."]


def test_a_plan_with_categories_requires_one() -> None:
    load_example_policy("prismic")
    contact = customer_on("prismic-enterprise-premium")
    with pytest.raises(ValidationError) as error:
        submit(contact.user)
    assert "category" in error.value.message_dict


def test_a_category_only_accepts_its_own_channels() -> None:
    load_example_policy("prismic")
    contact = customer_on("prismic-enterprise-premium")
    plan = contact.organization.contracts.get().plan
    category = plan.categories.get(slug="api-outage")
    assert "chat" not in category.channels
    with pytest.raises(ValidationError) as error:
        submit(contact.user, category=category, severity_level=1, channel="chat")
    assert "channel" in error.value.message_dict


def test_post_incident_reports_only_for_the_severities_the_plan_grants(moboom) -> None:
    # Moboom Premium: post-incident reports for level 1 only (assumed in the example policy).
    with pytest.raises(ValidationError) as error:
        submit(moboom.user, severity_level=2, request_post_incident_report=True)
    assert "severity 1 only" in error.value.message_dict["request_post_incident_report"][0]
    ticket = submit(moboom.user, severity_level=1, request_post_incident_report=True)
    assert ticket.post_incident_report_requested_at is not None


def test_until_onboarding_is_completed_the_base_tier_applies() -> None:
    load_example_policy("openback")
    contact = customer_on("openback-enterprise", onboarded=False)
    ticket = submit(contact.user, channel="email")
    assert ticket.plan.slug == "openback-growth"
    assert "until technical onboarding is completed" in ticket.events.get(kind="created").summary


def test_after_onboarding_the_contract_plan_applies() -> None:
    load_example_policy("openback")
    contact = customer_on("openback-enterprise", onboarded=True)
    assert submit(contact.user, channel="phone").plan.slug == "openback-enterprise"


def test_phone_is_not_a_growth_channel_before_onboarding() -> None:
    load_example_policy("openback")
    contact = customer_on("openback-enterprise", onboarded=False)
    with pytest.raises(ValidationError, match="phone"):
        submit(contact.user, channel="phone")


# -- references -------------------------------------------------------------------------------


def test_a_ticket_gets_a_human_reference(moboom) -> None:
    ticket = submit(moboom.user)
    assert ticket.reference == f"HD-{ticket.pk:06d}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_references_stay_unique_when_20_threads_submit_at_once() -> None:
    load_example_policy("moboom")
    contact = customer_on("moboom-premium")
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            submit(contact.user)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    references = list(Ticket.objects.values_list("reference", flat=True))
    assert len(references) == len(set(references)) == 20
    assert all(ref and ref.startswith("HD-") for ref in references)


# -- the event log ----------------------------------------------------------------------------


def test_every_change_is_logged_with_who_and_why(vmoso) -> None:
    agent = AgentFactory.create()
    ticket = submit(vmoso.user, severity_level=3, channel="email")
    services.ticket_assign(ticket=ticket, assignee=agent, by=agent)
    services.ticket_acknowledge(ticket=ticket, by=agent)
    services.ticket_reply(ticket=ticket, author=agent, body="On it", internal=True)
    services.ticket_reply(ticket=ticket, author=agent, body="Which page?")
    services.ticket_request_clarification(ticket=ticket, by=agent, question="Is prod down?")
    services.ticket_change_severity(ticket=ticket, level=2, by=agent, reason="Launch blocked")
    services.ticket_set_status(ticket=ticket, status="waiting", by=agent)
    services.ticket_reply(ticket=ticket, author=vmoso.user, body="The checkout page.")
    services.ticket_request_escalation(ticket=ticket, by=vmoso.user, reason="Launch is Friday")
    services.ticket_resolve(ticket=ticket, by=agent, note="Fixed the config")
    services.ticket_reopen(ticket=ticket, by=vmoso.user, reason="Back again")
    services.ticket_close_out_of_scope(ticket=ticket, by=agent, reason="Custom designs")
    kinds = list(ticket.events.values_list("kind", flat=True))
    assert kinds == [
        "created",
        "assigned",
        "acknowledged",
        "note",
        "replied",
        "clarification",
        "severity",
        "waiting",
        "customer_replied",
        "escalation_requested",
        "resolved",
        "reopened",
        "out_of_scope",
    ]
    severity = ticket.events.get(kind="severity")
    assert (severity.actor, severity.reason, severity.customer_visible) == (
        agent,
        "Launch blocked",
        True,
    )
    assert not ticket.events.get(kind="note").customer_visible


def test_a_customer_reply_on_a_waiting_ticket_puts_it_back_in_progress(vmoso) -> None:
    agent = AgentFactory.create()
    ticket = submit(vmoso.user, channel="email")
    services.ticket_set_status(ticket=ticket, status="waiting", by=agent)
    services.ticket_reply(ticket=ticket, author=vmoso.user, body="Here you go")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS


def test_customers_cannot_write_internal_notes(vmoso) -> None:
    ticket = submit(vmoso.user, channel="email")
    with pytest.raises(ValidationError, match="Only agents"):
        services.ticket_reply(ticket=ticket, author=vmoso.user, body="x", internal=True)


def test_an_out_of_scope_close_needs_a_reason_and_cannot_be_reopened(vmoso) -> None:
    agent = AgentFactory.create()
    ticket = submit(vmoso.user, channel="email")
    with pytest.raises(ValidationError):
        services.ticket_close_out_of_scope(ticket=ticket, by=agent, reason=" ")
    services.ticket_close_out_of_scope(ticket=ticket, by=agent, reason="Product training")
    with pytest.raises(ValidationError, match="cannot be reopened"):
        services.ticket_reopen(ticket=ticket, by=vmoso.user)


def test_a_severity_change_needs_a_reason(vmoso) -> None:
    ticket = submit(vmoso.user, channel="email")
    with pytest.raises(ValidationError) as error:
        services.ticket_change_severity(ticket=ticket, level=1, by=AgentFactory.create(), reason="")
    assert "reason" in error.value.message_dict


# -- customer escalations ---------------------------------------------------------------------


def test_customer_escalation_is_refused_for_priority_1(vmoso) -> None:
    ticket = submit(vmoso.user, severity_level=1, channel="email")
    with pytest.raises(ValidationError, match="severity 2, 3, 4 only"):
        services.ticket_request_escalation(ticket=ticket, by=vmoso.user, reason="Hurry")


def test_customer_escalation_notifies_the_support_managers(
    vmoso,
    django_capture_on_commit_callbacks,
    mailoutbox,
) -> None:
    Group.objects.get_or_create(name="support managers")[0].user_set.add(
        UserFactory.create(username="boss", email="boss@vendor.example")
    )
    ticket = submit(vmoso.user, severity_level=3, channel="email")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_request_escalation(ticket=ticket, by=vmoso.user, reason="Launch Friday")
    assert [m.to for m in mailoutbox] == [["boss@vendor.example"]]
    assert "Launch Friday" in mailoutbox[0].body
    assert ticket.reference in mailoutbox[0].subject


def test_an_agent_marks_an_escalation_unwarranted(vmoso) -> None:
    ticket = submit(vmoso.user, severity_level=3, channel="email")
    escalation = services.ticket_request_escalation(ticket=ticket, by=vmoso.user, reason="x")
    services.escalation_mark_unwarranted(
        escalation=escalation, by=AgentFactory.create(), note="no issue"
    )
    assert (
        CustomerEscalation.objects.filter(organization=vmoso.organization, unwarranted=True).count()
        == 1
    )


# -- emails -----------------------------------------------------------------------------------


def test_submission_emails_an_acknowledgement_with_the_reference(
    moboom,
    django_capture_on_commit_callbacks,
    mailoutbox,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        ticket = submit(moboom.user)
    (message,) = mailoutbox
    assert message.to == [moboom.user.email]
    assert message.subject == f"[{ticket.reference}] We received your request: Checkout fails"
    assert ticket.get_absolute_url() in message.body
    assert message.alternatives[0][1] == "text/html"


def test_a_public_reply_emails_the_customer_and_a_note_does_not(
    moboom,
    django_capture_on_commit_callbacks,
    mailoutbox,
) -> None:
    agent = AgentFactory.create()
    ticket = submit(moboom.user)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reply(ticket=ticket, author=agent, body="Secret", internal=True)
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reply(ticket=ticket, author=agent, body="Try **again**")
    send_held_mails()  # a ticket update waits out its grouping window
    (message,) = mailoutbox
    assert "Support replied" in message.subject
    assert "Try **again**" in message.body
    assert "<strong>again</strong>" in message.alternatives[0][0]


def test_a_status_change_emails_the_reason(
    moboom,
    django_capture_on_commit_callbacks,
    mailoutbox,
) -> None:
    ticket = submit(moboom.user)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_resolve(ticket=ticket, by=AgentFactory.create(), note="Cache cleared")
    send_held_mails()  # a ticket update waits out its grouping window
    (message,) = mailoutbox
    assert "Now resolved" in message.subject
    assert "Cache cleared" in message.body


def test_nothing_is_emailed_for_a_change_that_rolled_back(
    moboom,
    django_capture_on_commit_callbacks,
    mailoutbox,
) -> None:
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        submit(moboom.user, channel="fax")
    assert mailoutbox == []
    assert not Ticket.objects.exists()


# -- attachments and Markdown -----------------------------------------------------------------


def test_an_attachment_of_a_refused_type_is_named_in_the_error(moboom) -> None:
    upload = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
    with pytest.raises(ValidationError) as error:
        submit(moboom.user, attachments=[upload])
    assert "run.exe" in error.value.message_dict["attachments"][0]
    assert not Ticket.objects.exists()


def test_an_attachment_over_the_limit_is_refused(moboom, settings) -> None:
    settings.ATTACHMENT_MAX_BYTES = 10
    upload = SimpleUploadedFile("big.log", b"x" * 11, content_type="text/plain")
    with pytest.raises(ValidationError, match="big.log"):
        submit(moboom.user, attachments=[upload])


def test_attachments_are_stored_with_the_message(moboom, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("trace.log", b"line", content_type="text/plain")
    ticket = submit(moboom.user, attachments=[upload])
    attachment = ticket.attachments.get()
    assert (attachment.name, attachment.size, attachment.message.from_customer) == (
        "trace.log",
        4,
        True,
    )
    assert TicketEvent.objects.filter(ticket=ticket, kind="attachment").exists()


def test_markdown_is_rendered_and_scripts_are_removed() -> None:
    html = render_markdown("**bold** <script>alert(1)</script> [x](javascript:alert(1))")
    assert "<strong>bold</strong>" in html
    assert "<script>" not in html
    assert "javascript:" not in html
