"""What a mail's content becomes: attachments under the portal's limits, HTML-only mail,
other charsets; and mailboxes tied to a queue or a policy."""

from __future__ import annotations

import pytest

from tests.factories import PolicyFactory, QueueFactory
from tickets.models import Attachment, InboundMail, InboundStatus, Ticket

pytestmark = pytest.mark.django_db


def test_it_keeps_accepted_attachments_and_lists_refused_ones(
    mailbox, customer, make_mail, settings
) -> None:
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    mailbox.deliver(
        make_mail(
            subject="Logs attached",
            body="See the files.",
            files=(
                ("server.log", b"line 1\nline 2\n", "text/plain"),
                ("huge.log", b"x" * (1024 * 1024 + 1), "text/plain"),
                ("tool.exe", b"MZ\x90\x00", "application/octet-stream"),
            ),
        )
    )

    mailbox.poll()

    message = Ticket.objects.get().messages.get()
    names = sorted(message.attachments.values_list("name", flat=True))
    assert names == ["original-message.eml", "server.log"]
    assert Attachment.objects.get(name="server.log").file.read() == b"line 1\nline 2\n"
    assert "**Attachments not accepted**" in message.body
    assert "huge.log is 1.0 MB; the limit is 1 MB." in message.body
    assert "tool.exe: files of type .exe are not accepted" in message.body
    assert "2 attachment(s) refused" in InboundMail.objects.get().detail


def test_it_refuses_a_mail_over_the_inbound_size_limit_and_says_so(
    mailbox, customer, make_mail, settings
) -> None:
    settings.INBOUND_MAX_BYTES = 50_000
    mailbox.deliver(
        make_mail(subject="Big", files=(("dump.zip", b"z" * 60_000, "application/zip"),))
    )

    mailbox.poll()

    assert Ticket.objects.count() == 0
    assert InboundMail.objects.get().status == InboundStatus.REFUSED
    [answer] = mailbox.sent
    assert "we accept up to" in answer.get_body(("plain",)).get_content()


def test_it_converts_and_sanitizes_html_only_mail(mailbox, customer, make_mail) -> None:
    mailbox.deliver(
        make_mail(
            subject="Formatted",
            html=(
                "<html><head><style>p {color: red}</style></head><body>"
                "<p>The <b>export</b> fails at <a href='https://acme.example/x'>this page</a>."
                "</p><script>alert('x')</script><ul><li>step one</li><li>step two</li></ul>"
                "</body></html>"
            ),
        )
    )

    mailbox.poll()

    message = Ticket.objects.get().messages.get()
    assert "The **export** fails at [this page](https://acme.example/x)." in message.body
    assert "- step one" in message.body
    assert "alert" not in message.body and "color" not in message.body
    assert "<script" not in message.body_html


def test_it_reads_a_mail_in_another_charset(mailbox, customer) -> None:
    latin1 = (
        b"From: =?iso-8859-1?q?Alice_M=FCller?= <alice@acme.example>\r\n"
        b"To: support@helpdesk.example\r\n"
        b"Subject: =?iso-8859-1?q?Gr=FC=DFe_aus_K=F6ln?=\r\n"
        b"Message-ID: <latin1@acme.example>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        b"Das Caf\xe9-Modul zeigt \xabFehler\xbb.\r\n"
    )
    mailbox.deliver(latin1)

    mailbox.poll()

    ticket = Ticket.objects.get()
    assert ticket.subject == "Grüße aus Köln"
    assert ticket.messages.get().body == "Das Café-Modul zeigt «Fehler»."


def test_a_mailbox_tied_to_a_queue_files_new_tickets_there(
    mailbox, customer, make_mail, settings, mail_servers
) -> None:
    dovecot, _ = mail_servers
    queue = QueueFactory.create(slug="l2", name="L2")
    settings.INBOUND_IMAP_URLS = [
        ("acme", dovecot.url(mailbox.user, queue="l2", policy="acme-policy"))
    ]
    mailbox.deliver(make_mail(subject="Queue me"))

    mailbox.poll()

    ticket = Ticket.objects.get()
    assert ticket.queue == queue
    assert InboundMail.objects.get().mailbox == "acme"


def test_a_mailbox_tied_to_another_policy_refuses_and_says_where_to_write(
    mailbox, customer, make_mail, settings, mail_servers
) -> None:
    dovecot, _ = mail_servers
    PolicyFactory.create(slug="other", name="Other Vendor Support")
    settings.INBOUND_IMAP_URLS = [("other", dovecot.url(mailbox.user, policy="other"))]
    mailbox.deliver(make_mail(subject="Wrong door"))

    mailbox.poll()

    assert Ticket.objects.count() == 0
    [answer] = mailbox.sent
    assert "serves customers of Other Vendor Support" in answer.get_body(("plain",)).get_content()


def test_it_refuses_a_new_request_when_the_plan_has_no_email(mailbox, customer, make_mail) -> None:
    plan = customer.organization.contracts.get().plan
    plan.channels = ["portal"]
    plan.save()
    mailbox.deliver(make_mail(subject="By mail"))

    mailbox.poll()

    assert Ticket.objects.count() == 0
    mail = InboundMail.objects.get()
    assert mail.status == InboundStatus.REFUSED
    assert "The email channel is not part of this plan" in mail.detail
    assert "not part of this plan" in mailbox.sent[0].get_body(("plain",)).get_content()


def test_a_mailbox_set_to_flag_keeps_processed_mail_in_place_and_skips_it_next_time(
    mailbox, customer, make_mail, settings, mail_servers
) -> None:
    dovecot, _ = mail_servers
    settings.INBOUND_IMAP_URLS = [("", dovecot.url(mailbox.user, done="flag"))]
    mailbox.deliver(make_mail(subject="Flag me"))

    first = mailbox.poll()
    second = mailbox.poll()

    assert Ticket.objects.count() == 1
    assert (first["default"], second["default"]) == ({"ticket": 1}, {})
    with mailbox.login() as client:
        [message] = client.fetch(mark_seen=False)
    assert {"\\Seen", "$HelpdeskDone"} <= set(message.flags)
    assert mailbox.count("Processed") == 0
