"""Email in, end to end: real messages appended to a dovecot mailbox, the scheduled poll, and
what reaches the customer through a real SMTP server."""

from __future__ import annotations

import pytest
import time_machine

from plans.models import Channel
from sla.models import ClockState, SlaClock
from tests.builders.mail import send_held_mails
from tests.factories import AgentFactory
from tickets import services
from tickets.models import (
    AutoReply,
    InboundMail,
    InboundStatus,
    Status,
    Ticket,
    TicketMailThread,
)

pytestmark = pytest.mark.django_db


def test_it_opens_a_ticket_from_a_new_mail_and_answers_threaded(
    mailbox, customer, make_mail
) -> None:
    mailbox.deliver(
        make_mail(
            subject="[P1] Checkout is down",
            body="Nobody can pay.\n\nBest regards,\nAlice\n-- \nAlice Example, Acme\n",
            message_id="<first@acme.example>",
        )
    )

    mailbox.poll()

    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.severity.level, ticket.channel) == (
        "Checkout is down",
        1,
        Channel.EMAIL,
    )
    assert ticket.requester == customer.user
    message = ticket.messages.get()
    assert message.channel == Channel.EMAIL
    assert message.body == "Nobody can pay."
    original = message.attachments.get()
    assert (original.name, original.content_type) == ("original-message.eml", "message/rfc822")
    assert b"Alice Example, Acme" in original.file.read()
    clocks = SlaClock.objects.filter(ticket_id=ticket.pk)
    assert {c.state for c in clocks} == {ClockState.RUNNING}
    assert all(c.started_at == ticket.created_at for c in clocks)
    assert InboundMail.objects.get().status == InboundStatus.TICKET
    assert (mailbox.count("INBOX"), mailbox.count("Processed")) == (0, 1)
    [confirmation] = mailbox.sent
    assert confirmation["To"] == "alice@acme.example"
    assert ticket.reference in confirmation["Subject"]
    assert confirmation["Reply-To"] == "support@helpdesk.example"
    assert confirmation["In-Reply-To"] == "<first@acme.example>"
    assert confirmation["References"].split()[0] == f"<{ticket.reference}@helpdesk.example>"
    assert TicketMailThread.objects.filter(
        ticket=ticket, message_id=confirmation["Message-ID"], outgoing=True
    ).exists()


def _open_ticket(mailbox, make_mail) -> Ticket:
    mailbox.deliver(make_mail(subject="Export fails", message_id="<open@acme.example>"))
    mailbox.poll()
    return Ticket.objects.get()


def test_it_adds_a_reply_matched_by_its_headers_and_resumes_the_clock(
    mailbox, customer, make_mail
) -> None:
    ticket = _open_ticket(mailbox, make_mail)
    agent = AgentFactory.create()
    with mailbox.capture(execute=True):
        services.ticket_reply(ticket=ticket, author=agent, body="Which file did you export?")
        services.ticket_set_status(ticket=ticket, status=Status.WAITING, by=agent)
    send_held_mails()  # the two updates go out as one mail once their window closes
    resolution = SlaClock.objects.get(ticket_id=ticket.pk, metric="resolution")
    assert resolution.state == ClockState.PAUSED
    question = next(m for m in mailbox.sent if "Which file" in m.get_body(("plain",)).get_content())
    mailbox.sent.clear()

    mailbox.deliver(
        make_mail(
            subject="Re: something the client rewrote",
            body="The March one.\n\nOn Monday, Support wrote:\n> Which file did you export?\n",
            headers={
                "In-Reply-To": question["Message-ID"],
                "References": f"<open@acme.example> {question['Message-ID']}",
            },
        )
    )
    mailbox.poll()

    reply = ticket.messages.order_by("created_at", "id").last()
    assert (reply.body, reply.from_customer, reply.channel) == ("The March one.", True, "email")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    resolution.refresh_from_db()
    assert resolution.state == ClockState.RUNNING
    assert mailbox.sent == []  # the customer is not mailed about their own reply


def test_it_adds_a_reply_matched_by_the_reference_in_the_subject(
    mailbox, customer, make_mail
) -> None:
    ticket = _open_ticket(mailbox, make_mail)

    mailbox.deliver(make_mail(subject=f"Re: [{ticket.reference}] Export fails", body="Still."))
    mailbox.poll()

    assert Ticket.objects.count() == 1
    assert list(ticket.messages.values_list("body", flat=True)) == [
        "Hello,\n\nIt is broken.",
        "Still.",
    ]
    assert InboundMail.objects.filter(status=InboundStatus.REPLY, ticket=ticket).count() == 1


def test_it_refuses_a_reply_from_someone_who_may_not_see_the_ticket(
    mailbox, customer, make_mail
) -> None:
    ticket = _open_ticket(mailbox, make_mail)
    mailbox.sent.clear()

    mailbox.deliver(
        make_mail(
            subject=f"Re: [{ticket.reference}] Export fails",
            sender="mallory@elsewhere.example",
            body="Let me in.",
        )
    )
    mailbox.poll()

    assert ticket.messages.count() == 1
    mail = InboundMail.objects.get(sender="mallory@elsewhere.example")
    assert mail.status == InboundStatus.REFUSED
    [answer] = mailbox.sent
    assert answer["To"] == "mallory@elsewhere.example"
    assert answer["Auto-Submitted"] == "auto-replied"
    assert "only the named support contacts" in answer.get_body(("plain",)).get_content()


def test_it_answers_a_stranger_once_a_day_and_opens_no_ticket(mailbox, customer, make_mail) -> None:
    with time_machine.travel("2026-11-02 10:00Z", tick=True):
        mailbox.deliver(
            make_mail(subject="Help", sender="bob@stranger.example"),
            make_mail(subject="Help again", sender="bob@stranger.example"),
        )
        mailbox.poll()
    with time_machine.travel("2026-11-03 10:00Z", tick=True):
        mailbox.deliver(make_mail(subject="Hello?", sender="bob@stranger.example"))
        mailbox.poll()

    assert Ticket.objects.count() == 0
    assert InboundMail.objects.filter(status=InboundStatus.STRANGER).count() == 3
    assert AutoReply.objects.filter(sender="bob@stranger.example").count() == 2
    assert [m["To"] for m in mailbox.sent] == ["bob@stranger.example"] * 2
    assert "How to get access" in mailbox.sent[0].get_body(("plain",)).get_content()
    assert mailbox.count("INBOX") == 0


@pytest.mark.parametrize(
    "headers, sender",
    [
        ({"Auto-Submitted": "auto-replied"}, "alice@acme.example"),
        ({"Precedence": "bulk"}, "alice@acme.example"),
        ({"Precedence": "junk"}, "bob@stranger.example"),
        ({}, "MAILER-DAEMON@mx.acme.example"),
        ({}, "support@helpdesk.example"),
    ],
)
def test_it_never_answers_robots_nor_itself(mailbox, customer, make_mail, headers, sender) -> None:
    mailbox.deliver(make_mail(subject="Out of office", sender=sender, headers=headers))

    mailbox.poll()

    assert Ticket.objects.count() == 0
    assert InboundMail.objects.get().status == InboundStatus.IGNORED
    assert mailbox.sent == []
    assert mailbox.count("Processed") == 1


def test_it_ignores_a_bounce(mailbox, customer) -> None:
    bounce = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\n"
        b"To: support@helpdesk.example\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\n"
        b"Message-ID: <bounce-1@mx.example>\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: text/plain\r\n\r\nThis is the mail system.\r\n"
        b"--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; x@acme.example\r\n"
        b"Action: failed\r\nStatus: 5.1.1\r\n\r\n--b1--\r\n"
    )
    mailbox.deliver(bounce)

    mailbox.poll()

    mail = InboundMail.objects.get()
    assert (mail.status, mail.ticket) == (InboundStatus.IGNORED, None)
    assert mailbox.sent == []
