"""Ticket emails: queued on commit, rendered from three templates, sent to the right people."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import transaction

from plans.roles import SUPPORT_MANAGERS
from tests.builders.portal import PortalWorld, build_portal_world, open_ticket
from tests.factories import AgentFactory, UserFactory
from tickets import emails, services
from tickets.models import CustomerEscalation

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> PortalWorld:
    return build_portal_world()


def manager(username: str, **fields: object) -> object:
    user = UserFactory(username=username, **fields)
    user.groups.add(Group.objects.get_or_create(name=SUPPORT_MANAGERS)[0])
    return user


def test_deliver_renders_the_subject_text_and_html_for_the_requester(
    world: PortalWorld, settings: object
) -> None:
    settings.SITE_URL = "https://help.example.com"  # type: ignore[attr-defined]
    ticket = open_ticket(world.alice, subject="Checkout fails")
    mail.outbox.clear()
    assert emails.deliver("ticket_created", {"ticket_id": ticket.pk}) == 1
    (sent,) = mail.outbox
    assert sent.to == ["alice@example.com"]
    assert sent.subject == f"[{ticket.reference}] We received your request: Checkout fails"
    assert "\n" not in sent.subject
    assert f"https://help.example.com{ticket.get_absolute_url()}" in sent.body
    ((html, mimetype),) = sent.alternatives
    assert mimetype == "text/html"
    assert ticket.reference in html
    assert "<" in html and html != sent.body


def test_nothing_is_sent_to_a_requester_without_an_address(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice)
    world.alice.user.email = ""
    world.alice.user.save()
    mail.outbox.clear()
    assert emails.deliver("status_changed", {"ticket_id": ticket.pk, "reason": "Fixed"}) == 0
    assert mail.outbox == []


def test_a_queued_email_is_sent_once_the_change_commits(
    world: PortalWorld, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        ticket = open_ticket(world.alice, subject="Site down")
    assert [m.subject for m in mail.outbox] == [
        f"[{ticket.reference}] We received your request: Site down"
    ]


def test_a_queued_email_of_a_change_that_rolled_back_is_never_sent(
    world: PortalWorld, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:  # type: ignore[operator]
        try:
            with transaction.atomic():
                open_ticket(world.alice)
                raise RuntimeError("the request failed after the service ran")
        except RuntimeError:
            pass
    assert callbacks == []
    assert mail.outbox == []


def test_an_agents_reply_quotes_the_reply_to_the_customer(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice)
    reply = services.ticket_reply(ticket=ticket, author=AgentFactory(), body="Try **again**.")
    mail.outbox.clear()
    emails.deliver("agent_replied", {"ticket_id": ticket.pk, "message_id": reply.pk})
    (sent,) = mail.outbox
    assert sent.subject.startswith(f"[{ticket.reference}] Support replied:")
    assert "again" in sent.body


def test_a_customer_escalation_goes_to_the_active_support_managers_with_an_address(
    world: PortalWorld,
) -> None:
    manager("maria", email="maria@example.com")
    manager("gone", email="gone@example.com", is_active=False)
    manager("silent", email="")
    ticket = open_ticket(world.alice, severity=2)
    escalation = CustomerEscalation.objects.create(
        ticket=ticket,
        organization=world.acme,
        requested_by=world.alice.user,
        reason="Blocking our launch",
        requested_at=ticket.created_at,
    )
    assert emails.support_manager_addresses() == ["maria@example.com"]
    built = emails.customer_escalation(escalation_id=escalation.pk)
    assert built.to == ["maria@example.com"]
    assert built.context["escalation"] == escalation


def test_an_sla_escalation_says_when_it_is_late(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice, severity=1)
    mail.outbox.clear()
    ids = {"ticket_id": ticket.pk, "rule": "75% of first response", "metric": "first_response"}
    sent = emails.deliver_many(
        "sla_escalation",
        [
            {**ids, "to": ["a@example.com"], "late": False},
            {**ids, "to": ["b@example.com", "c@example.com"], "late": True},
        ],
    )
    assert sent == 3
    on_time, late = mail.outbox
    assert on_time.subject == f"[{ticket.reference}] SLA escalation: 75% of first response"
    assert late.subject == f"[{ticket.reference}] SLA escalation (late): 75% of first response"
    assert late.to == ["b@example.com", "c@example.com"]
    assert "This escalation is late" in late.body
    assert "This escalation is late" not in on_time.body


def test_an_empty_batch_queues_nothing(django_capture_on_commit_callbacks: object) -> None:
    with django_capture_on_commit_callbacks() as callbacks:  # type: ignore[operator]
        emails.queue_many(emails.sla_escalation, [])
    assert callbacks == []
