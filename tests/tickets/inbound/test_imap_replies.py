"""Replies to resolved and closed tickets, staff answering a notification, and a named-contact
change asked by mail."""

from __future__ import annotations

import pytest

from plans.models import ContactChangeRequest
from tests.factories import AgentFactory
from tickets import services
from tickets.models import InboundMail, InboundStatus, Message, Status, Ticket

pytestmark = pytest.mark.django_db


def _ticket(mailbox, make_mail) -> Ticket:
    mailbox.deliver(make_mail(subject="Export fails"))
    mailbox.poll()
    mailbox.sent.clear()
    return Ticket.objects.get()


def test_a_reply_to_a_resolved_ticket_reopens_it(mailbox, customer, make_mail) -> None:
    ticket = _ticket(mailbox, make_mail)
    services.ticket_resolve(ticket=ticket, by=AgentFactory.create())

    mailbox.deliver(make_mail(subject=f"Re: {ticket.reference}", body="It is back."))
    mailbox.poll()

    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert ticket.messages.last().body == "It is back."
    assert mailbox.sent == []  # not mailed about their own reopen


def test_a_reply_to_a_closed_ticket_is_refused_with_the_way_forward(
    mailbox, customer, make_mail
) -> None:
    ticket = _ticket(mailbox, make_mail)
    services.ticket_close(ticket=ticket, by=customer.user)

    mailbox.deliver(make_mail(subject=f"Re: {ticket.reference}", body="One more thing."))
    mailbox.poll()

    assert ticket.messages.count() == 1
    [answer] = mailbox.sent
    text = answer.get_body(("plain",)).get_content()
    assert f"{ticket.reference} is closed. Write a new email" in text
    assert ticket.get_absolute_url() in text


def test_staff_answering_a_notification_by_mail_write_an_internal_note(
    mailbox, customer, make_mail
) -> None:
    ticket = _ticket(mailbox, make_mail)
    manager = AgentFactory.create(username="manager", email="manager@helpdesk-staff.example")

    mailbox.deliver(
        make_mail(subject=f"Re: [{ticket.reference}]", sender=manager.email, body="On it.")
    )
    mailbox.poll()

    note = ticket.messages.last()
    assert (note.author, note.kind, note.body) == (manager, Message.Kind.INTERNAL, "On it.")
    assert mailbox.sent == []


def test_a_named_contact_change_asked_by_mail_waits_for_support(
    mailbox, customer, make_mail
) -> None:
    mailbox.deliver(
        make_mail(
            subject="Named contact change",
            body="Hello,\n\nFormer: alice@acme.example\nNew: Carol Jones <carol@acme.example>\n",
        )
    )

    mailbox.poll()

    change = ContactChangeRequest.objects.get()
    assert (change.former_user, change.new_email, change.new_name, change.via) == (
        customer.user,
        "carol@acme.example",
        "Carol Jones",
        "email",
    )
    assert Ticket.objects.count() == 0
    assert InboundMail.objects.get().status == InboundStatus.CONTACT_CHANGE
    [answer] = mailbox.sent
    assert f"request #{change.pk}" in answer.get_body(("plain",)).get_content()


def test_a_change_request_without_the_two_lines_explains_the_format(
    mailbox, customer, make_mail
) -> None:
    mailbox.deliver(make_mail(subject="Named support contact change", body="Please swap us."))

    mailbox.poll()

    assert ContactChangeRequest.objects.count() == 0
    assert "'Former: <address>'" in mailbox.sent[0].get_body(("plain",)).get_content()
