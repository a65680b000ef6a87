"""Phone calls and chats logged by an agent on behalf of a named contact."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from sla.models import SlaClock
from tests.factories import (
    AgentFactory,
    ContractFactory,
    NamedContactFactory,
    OrganizationFactory,
    PlanFactory,
    SeverityFactory,
    TargetFactory,
    UserFactory,
)
from tickets import services
from tickets.models import LoggedContact, Message, Ticket, TicketEvent

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)
CALL = NOW - dt.timedelta(minutes=40)


def contact_on(channels: list[str], slug: str) -> object:
    plan = PlanFactory.create(slug=f"{slug}-plan", channels=channels)
    severity = SeverityFactory.create(policy=plan.policy, level=2)
    TargetFactory.create(plan=plan, severity=severity, first_response=dt.timedelta(hours=2))
    organization = OrganizationFactory.create(slug=f"{slug}-org")
    ContractFactory.create(organization=organization, plan=plan)
    return NamedContactFactory.create(
        organization=organization, user=UserFactory.create(username=f"{slug}-c")
    )


@time_machine.travel(NOW, tick=False)
def test_a_logged_call_opens_a_ticket_whose_clocks_start_at_the_call() -> None:
    contact = contact_on(["portal", "email", "phone"], "pro")
    agent = AgentFactory.create()

    logged = services.contact_log(
        agent=agent,
        contact_user=contact.user,
        channel="phone",
        occurred_at=CALL,
        body="Their checkout fails for every card.",
        subject="Checkout fails",
        severity_level=2,
    )

    ticket = logged.ticket
    assert (ticket.channel, ticket.requester, ticket.created_at) == ("phone", contact.user, CALL)
    message = ticket.messages.get()
    assert (message.channel, message.author, message.created_at) == ("phone", contact.user, CALL)
    first_response = SlaClock.objects.get(ticket_id=ticket.pk, metric="first_response")
    assert first_response.started_at == CALL
    assert first_response.due_at == CALL + dt.timedelta(hours=2)
    event = ticket.events.get(kind=TicketEvent.Kind.CONTACT_LOGGED)
    assert event.actor == agent and not event.customer_visible
    assert (logged.recorded_by, logged.opened_ticket) == (agent, True)


@time_machine.travel(NOW, tick=False)
def test_phone_is_refused_where_the_plan_does_not_include_it() -> None:
    contact = contact_on(["portal", "email", "chat"], "growth")

    with pytest.raises(ValidationError) as refused:
        services.contact_log(
            agent=AgentFactory.create(),
            contact_user=contact.user,
            channel="phone",
            occurred_at=CALL,
            body="Hello",
            subject="Call",
            severity_level=2,
        )

    assert "The phone channel is not part of this plan" in str(refused.value)
    assert Ticket.objects.count() == 0


@time_machine.travel(NOW, tick=False)
def test_a_chat_adds_a_message_to_an_existing_ticket_of_the_contact() -> None:
    contact = contact_on(["portal", "chat"], "chatty")
    ticket = services.ticket_create(
        requester=contact.user, subject="Slow", body="Slow pages.", severity_level=2
    )

    logged = services.contact_log(
        agent=AgentFactory.create(),
        contact_user=contact.user,
        channel="chat",
        occurred_at=CALL,
        body="Only on the search page.",
        ticket=ticket,
    )

    assert logged.opened_ticket is False
    assert list(ticket.messages.values_list("channel", "from_customer")) == [
        ("portal", True),
        ("chat", True),
    ]


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("occurred_at", "field"),
    [(NOW + dt.timedelta(hours=1), "occurred_at"), (NOW - dt.timedelta(days=8), "occurred_at")],
)
def test_a_call_in_the_future_or_long_ago_is_refused(occurred_at, field) -> None:
    contact = contact_on(["phone"], "odd")

    with pytest.raises(ValidationError) as refused:
        services.contact_log(
            agent=AgentFactory.create(),
            contact_user=contact.user,
            channel="phone",
            occurred_at=occurred_at,
            body="x",
            subject="x",
            severity_level=2,
        )

    assert field in refused.value.error_dict


@time_machine.travel(NOW, tick=True)
def test_an_agent_logs_a_call_in_the_admin(admin_client) -> None:
    contact = contact_on(["portal", "phone"], "desk")
    url = reverse("admin:tickets_loggedcontact_add")
    form = {
        "contact": contact.pk,
        "channel": "phone",
        "occurred_at_0": "2026-11-02",
        "occurred_at_1": "14:20:00",
        "subject": "Cannot sign in",
        "severity_level": "2",
        "body": "SSO fails since this morning.",
    }

    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, form)

    assert response.status_code == 302, response.context["adminform"].form.errors
    logged = LoggedContact.objects.get()
    assert logged.occurred_at == dt.datetime(2026, 11, 2, 14, 20, tzinfo=dt.UTC)
    assert logged.ticket.subject == "Cannot sign in"


@time_machine.travel(NOW, tick=True)
def test_the_admin_form_shows_the_reason_a_call_is_refused(admin_client) -> None:
    contact = contact_on(["portal"], "nophone")
    form = {
        "contact": contact.pk,
        "channel": "phone",
        "occurred_at_0": "2026-11-02",
        "occurred_at_1": "14:20:00",
        "subject": "Call",
        "severity_level": "2",
        "body": "Hello.",
    }

    response = admin_client.post(reverse("admin:tickets_loggedcontact_add"), form)

    assert response.status_code == 200
    assert "The phone channel is not part of this plan" in response.content.decode()
    assert (LoggedContact.objects.count(), Message.objects.count()) == (0, 0)
