"""Headers for outgoing ticket mail, and how a reply's references find the ticket."""

import pytest

from tests.factories import TicketFactory
from tickets.inbound.thread import mail_headers, ticket_for_references, ticket_for_subject
from tickets.models import TicketMailThread

pytestmark = pytest.mark.django_db


def test_each_mail_replies_to_the_previous_one_of_the_thread(settings) -> None:
    settings.SUPPORT_EMAIL = "Acme Support <help@vendor.example>"
    ticket = TicketFactory.create(reference="HD-000042")

    first = mail_headers(ticket=ticket)
    second = mail_headers(ticket=ticket)

    assert first["Message-ID"].startswith("<HD-000042.")
    assert first["Message-ID"].endswith("@vendor.example>")
    assert first["In-Reply-To"] == "<HD-000042@vendor.example>"
    assert second["In-Reply-To"] == first["Message-ID"]
    assert second["References"] == f"<HD-000042@vendor.example> {first['Message-ID']}"
    assert second["Reply-To"] == "help@vendor.example"
    assert TicketMailThread.objects.filter(ticket=ticket, outgoing=True).count() == 2


def test_a_key_makes_the_message_id_stable_for_a_resent_copy() -> None:
    ticket = TicketFactory.create(reference="HD-000043")

    once = mail_headers(ticket=ticket, key="notification-17")
    again = mail_headers(ticket=ticket, key="notification-17")

    assert (
        once["Message-ID"] == again["Message-ID"] == "<HD-000043.notification-17@helpdesk.example>"
    )
    assert TicketMailThread.objects.filter(ticket=ticket).count() == 1


def test_a_reply_finds_its_ticket_by_a_recorded_id_or_by_our_own_id_format() -> None:
    ticket, other = (
        TicketFactory.create(reference="HD-000044"),
        TicketFactory.create(reference="HD-000045"),
    )
    sent = mail_headers(ticket=ticket)["Message-ID"]

    assert ticket_for_references(["<unknown@x>", sent]) == ticket
    assert ticket_for_references(["<HD-000045@helpdesk.example>"]) == other
    assert ticket_for_references(["<HD-000045@elsewhere.example>"]) is None
    assert ticket_for_subject("Re: [hd-000045] Export") == other
    assert ticket_for_subject("Re: Export (HD-12)") is None
