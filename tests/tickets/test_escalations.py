"""What an SLA escalation does to tickets: whom each role reaches, queue moves, the audit trail."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from plans.roles import SUPPORT_MANAGERS
from sla.services import EscalationAction
from tests.factories import (
    AgentFactory,
    OrganizationFactory,
    QueueFactory,
    TicketFactory,
    UserFactory,
)
from tickets.escalations import Recipients, handle_escalations
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def member_of(group: str, username: str, **fields: object) -> object:
    user = UserFactory.create(username=username, email=f"{username}@example.com", **fields)
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def ticket() -> Ticket:
    csm = UserFactory.create(username="casey", email="casey@example.com")
    l1 = QueueFactory.create(slug="l1")
    l1.agents.add(AgentFactory.create(username="lou", email="lou@example.com"))
    return TicketFactory.create(
        organization=OrganizationFactory.create(customer_success_manager=csm),
        assignee=AgentFactory.create(username="ash", email="ash@example.com"),
        queue=l1,
    )


def action(ticket: Ticket, *notify: str, firing_id: int = 1, **fields: object) -> EscalationAction:
    values: dict = {
        "firing_id": firing_id,
        "ticket_id": ticket.pk,
        "metric": "resolution",
        "rule_text": "Not resolved within 2h",
        "notify": notify,
        "move_to": "",
        "late": False,
    }
    return EscalationAction(**{**values, **fields})


def test_each_role_reaches_its_people(ticket: Ticket) -> None:
    member_of(SUPPORT_MANAGERS, "maria")
    member_of("directors", "dora")
    member_of("directors", "retired", is_active=False)
    recipients = Recipients([ticket])
    assert recipients.for_ticket(ticket, ["assignee"]) == ["ash@example.com"]
    assert recipients.for_ticket(ticket, ["queue"]) == ["lou@example.com"]
    assert recipients.for_ticket(ticket, ["customer_success_manager"]) == ["casey@example.com"]
    assert recipients.for_ticket(ticket, ["support_managers"]) == ["maria@example.com"]
    assert recipients.for_ticket(ticket, ["group:directors"]) == ["dora@example.com"]
    assert recipients.for_ticket(ticket, ["email:noc@example.com"]) == ["noc@example.com"]


def test_the_same_person_named_twice_is_told_once(ticket: Ticket) -> None:
    ticket.assignee.groups.add(Group.objects.get_or_create(name="directors")[0])
    found = Recipients([ticket]).for_ticket(ticket, ["assignee", "group:directors"])
    assert found == ["ash@example.com"]


def test_a_role_with_nobody_behind_it_reaches_nobody() -> None:
    lonely = TicketFactory.create()
    found = Recipients([lonely]).for_ticket(
        lonely, ["assignee", "queue", "customer_success_manager", "group:nobody"]
    )
    assert found == []


def test_a_batch_reads_each_group_and_queue_once(
    ticket: Ticket, django_assert_num_queries: object
) -> None:
    member_of("directors", "dora")
    others = [TicketFactory.create(queue=ticket.queue) for _ in range(5)]
    recipients = Recipients([ticket, *others])
    with django_assert_num_queries(2):  # type: ignore[operator]
        for each in [ticket, *others]:
            recipients.for_ticket(each, ["queue", "group:directors"])


def test_handling_a_firing_logs_it_on_the_ticket_and_mails_the_people(
    ticket: Ticket, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        outcomes = handle_escalations([action(ticket, "assignee", "queue", late=True)])
    assert outcomes[1].notified == ["ash@example.com", "lou@example.com"]
    assert outcomes[1].moved_to == ""
    event = TicketEvent.objects.get(ticket=ticket, kind=TicketEvent.Kind.SLA_ESCALATED)
    assert event.summary == "Escalated (late): Not resolved within 2h"
    assert event.data["notified"] == ["ash@example.com", "lou@example.com"]
    assert not event.customer_visible
    # One mail per recipient (each its own outgoing-notification row).
    assert sorted(to for sent in mail.outbox for to in sent.to) == [
        "ash@example.com",
        "lou@example.com",
    ]


def test_a_rule_that_moves_the_ticket_tells_the_new_queues_agents(ticket: Ticket) -> None:
    l2 = QueueFactory.create(slug="l2", position=2)
    l2.agents.add(AgentFactory.create(username="lee", email="lee@example.com"))
    outcomes = handle_escalations([action(ticket, "queue", move_to="l2")])
    ticket.refresh_from_db()
    assert ticket.queue == l2
    assert outcomes[1].moved_to == "l2"
    assert outcomes[1].notified == ["lee@example.com"]
    assert ticket.events.filter(kind=TicketEvent.Kind.QUEUE).exists()


def test_a_move_to_an_unknown_queue_leaves_the_ticket_where_it_is(ticket: Ticket) -> None:
    queue = ticket.queue
    outcomes = handle_escalations([action(ticket, "queue", move_to="nowhere")])
    ticket.refresh_from_db()
    assert ticket.queue == queue
    assert outcomes[1].moved_to == ""


def test_a_firing_that_tells_nobody_sends_no_mail_but_is_logged(
    django_capture_on_commit_callbacks: object,
) -> None:
    lonely = TicketFactory.create()
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        outcomes = handle_escalations([action(lonely, "assignee")])
    assert outcomes[1].notified == []
    assert mail.outbox == []
    assert lonely.events.filter(kind=TicketEvent.Kind.SLA_ESCALATED).count() == 1
