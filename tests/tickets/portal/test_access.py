"""Owner, colleague and outsider for every portal URL and the attachment download."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.builders.portal import PortalWorld, open_ticket, upload
from tests.factories import AgentFactory
from tickets import services
from tickets.models import Attachment, Message, Status

pytestmark = pytest.mark.django_db


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def ticket_and_file(world: PortalWorld) -> tuple:
    ticket = open_ticket(world.alice, attachments=(upload("trace.log", b"boom"),))
    return ticket, Attachment.objects.get(ticket=ticket)


def _pages(ticket: object, attachment: Attachment) -> list[str]:
    return [
        reverse("tickets:detail", args=[ticket.reference]),
        reverse("tickets:attachment", args=[ticket.reference, attachment.pk]),
    ]


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_owner_and_colleague_see_the_ticket_page(
    world: PortalWorld, ticket_and_file: tuple, who: str
) -> None:
    ticket, _ = ticket_and_file
    response = client_for(getattr(world, who).user).get(ticket.get_absolute_url())
    assert response.status_code == 200
    assert ticket.subject in response.text


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_owner_and_colleague_download_the_attachment(
    world: PortalWorld, ticket_and_file: tuple, who: str
) -> None:
    ticket, attachment = ticket_and_file
    response = client_for(getattr(world, who).user).get(
        reverse("tickets:attachment", args=[ticket.reference, attachment.pk])
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"boom"
    assert response["Content-Disposition"].startswith('attachment; filename="trace.log"')


def test_outsider_gets_404_on_every_ticket_url(world: PortalWorld, ticket_and_file: tuple) -> None:
    ticket, attachment = ticket_and_file
    client = client_for(world.charlie.user)
    for url in _pages(ticket, attachment):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("action", ["reply", "close", "reopen", "pir", "escalate"])
def test_outsider_gets_404_on_every_ticket_action(
    world: PortalWorld, ticket_and_file: tuple, action: str
) -> None:
    ticket, _ = ticket_and_file
    response = client_for(world.charlie.user).post(
        reverse(f"tickets:{action}", args=[ticket.reference]), {"body": "x", "reason": "x"}
    )
    assert response.status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert ticket.messages.count() == 1


def test_attachment_of_another_ticket_is_404_under_this_reference(
    world: PortalWorld, ticket_and_file: tuple
) -> None:
    ticket, _ = ticket_and_file
    theirs = open_ticket(world.charlie, attachments=(upload("secret.txt", b"secret"),))
    their_file = Attachment.objects.get(ticket=theirs)
    response = client_for(world.alice.user).get(
        reverse("tickets:attachment", args=[ticket.reference, their_file.pk])
    )
    assert response.status_code == 404


def test_attachment_on_an_internal_note_is_404_for_customers(
    world: PortalWorld, ticket_and_file: tuple
) -> None:
    ticket, _ = ticket_and_file
    agent = AgentFactory.create()
    services.ticket_reply(
        ticket=ticket,
        author=agent,
        body="Internal",
        internal=True,
        attachments=[upload("internal.txt", b"agents only")],
    )
    note_file = Attachment.objects.get(message__kind=Message.Kind.INTERNAL)
    response = client_for(world.alice.user).get(
        reverse("tickets:attachment", args=[ticket.reference, note_file.pk])
    )
    assert response.status_code == 404


def test_unknown_reference_is_404(world: PortalWorld) -> None:
    response = client_for(world.alice.user).get(reverse("tickets:detail", args=["HD-999999"]))
    assert response.status_code == 404


@pytest.mark.parametrize(
    "name", ["tickets:dashboard", "tickets:new", "tickets:plan", "tickets:account"]
)
def test_anonymous_visitors_are_sent_to_sign_in(db: None, name: str) -> None:
    response = Client().get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_visitors_cannot_download_attachments(
    world: PortalWorld, ticket_and_file: tuple
) -> None:
    ticket, attachment = ticket_and_file
    response = Client().get(reverse("tickets:attachment", args=[ticket.reference, attachment.pk]))
    assert response.status_code == 302


def test_dashboard_shows_only_the_viewers_organization(world: PortalWorld) -> None:
    ours = open_ticket(world.bob, subject="Our own problem")
    theirs = open_ticket(world.charlie, subject="Their private problem")
    response = client_for(world.alice.user).get(reverse("tickets:dashboard"))
    assert ours.reference in response.text
    assert theirs.reference not in response.text
    assert "Their private problem" not in response.text


def test_colleague_sees_the_organizations_tickets_on_the_dashboard(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice, subject="Alice's problem")
    response = client_for(world.bob.user).get(reverse("tickets:dashboard"))
    assert ticket.reference in response.text


def test_outsider_plan_page_shows_their_own_organization(world: PortalWorld) -> None:
    response = client_for(world.charlie.user).get(reverse("tickets:plan"))
    assert response.status_code == 200
    assert "Globex" in response.text
    assert "alice@example.com" not in response.text


def test_staff_who_are_not_contacts_get_a_link_to_the_agent_desk(db: None) -> None:
    response = client_for(AgentFactory.create()).get(reverse("tickets:dashboard"))
    assert response.status_code == 200
    assert 'href="/admin/"' in response.text
    assert "agent desk" in response.text


def test_staff_who_are_not_contacts_get_404_on_the_plan_page(db: None) -> None:
    assert client_for(AgentFactory.create()).get(reverse("tickets:plan")).status_code == 404


def test_account_page_opens_for_any_signed_in_person(world: PortalWorld) -> None:
    response = client_for(world.charlie.user).get(reverse("tickets:account"))
    assert response.status_code == 200
    assert "Your account" in response.text
