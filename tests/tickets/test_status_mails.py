"""What the status mail says: a severity change is not "now in progress", a customer's own
reopen reason is not "Support says", and nobody is mailed about their own action."""

import pytest

from tests.builders.mail import send_held_mails
from tests.factories import (
    AgentFactory,
    ContractFactory,
    NamedContactFactory,
    OrganizationFactory,
    PlanFactory,
    SeverityFactory,
    UserFactory,
)
from tickets import services
from tickets.models import Status

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(django_capture_on_commit_callbacks):
    plan = PlanFactory.create(slug="mail-plan")
    for level in (1, 2, 3):
        SeverityFactory.create(policy=plan.policy, level=level)
    organization = OrganizationFactory.create(slug="mail-org")
    ContractFactory.create(organization=organization, plan=plan)
    alice = NamedContactFactory.create(
        organization=organization, user=UserFactory.create(username="m-alice")
    )
    with django_capture_on_commit_callbacks(execute=True):
        return services.ticket_create(
            requester=alice.user, subject="Export fails", body="It fails.", severity_level=3
        )


def test_a_severity_change_says_so_not_in_progress(
    ticket, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    agent = AgentFactory.create()
    services.ticket_acknowledge(ticket=ticket, by=agent)
    send_held_mails()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_change_severity(
            ticket=ticket, level=2, by=agent, reason="Many users hit it"
        )
    send_held_mails()  # a ticket update waits out its grouping window

    [mail] = mailoutbox
    assert mail.subject == f"[{ticket.reference}] Severity changed to 2 (Level 2): Export fails"
    assert "Support changed the severity" in mail.body
    assert "Support says: Many users hit it" in mail.body
    assert "Now in progress" not in mail.subject


def test_the_customer_is_not_mailed_about_their_own_reopen(
    ticket, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    services.ticket_resolve(ticket=ticket, by=AgentFactory.create())
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reopen(ticket=ticket, by=ticket.requester, reason="Still broken")

    assert mailoutbox == []


def test_a_colleagues_reopen_reason_is_quoted_as_theirs(
    ticket, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    colleague = NamedContactFactory.create(
        organization=ticket.organization,
        user=UserFactory.create(username="m-bob", first_name="Bob"),
    ).user
    services.ticket_resolve(ticket=ticket, by=AgentFactory.create())
    send_held_mails()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reopen(ticket=ticket, by=colleague, reason="Still broken")
    send_held_mails()  # a ticket update waits out its grouping window

    [mail] = mailoutbox
    assert "Bob Person wrote: Still broken" in mail.body
    assert "Support says" not in mail.body


def test_a_clarification_request_asks_rather_than_announcing_a_status(
    ticket, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_request_clarification(
            ticket=ticket, by=AgentFactory.create(), question="Is production down?"
        )
    send_held_mails()  # a ticket update waits out its grouping window

    [mail] = mailoutbox
    assert mail.subject == f"[{ticket.reference}] Support asks about the severity: Export fails"
    assert "Support says: Is production down?" in mail.body


def test_every_ticket_mail_threads_and_names_the_support_address(
    ticket, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_reply(ticket=ticket, author=AgentFactory.create(), body="Looking.")
    send_held_mails()  # a ticket update waits out its grouping window

    [mail] = mailoutbox
    assert mail.reply_to == ["support@helpdesk.example"]
    assert mail.extra_headers["Message-ID"].startswith(f"<{ticket.reference}.")
    assert mail.extra_headers["References"].startswith(f"<{ticket.reference}@")
    assert ticket.status != Status.CLOSED
