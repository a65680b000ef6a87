"""The inbound mail pages of the agents' desk, and the schedule that polls."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_q.models import Schedule

from tests.tickets.inbound.servers import build_mail
from tickets.inbound.processing import inbound_store
from tickets.models import InboundMail, InboundStatus

pytestmark = pytest.mark.django_db


def test_the_list_shows_failed_mail_first_to_the_eye_in_constant_queries(
    admin_client, django_assert_num_queries
) -> None:
    for n in range(30):
        mail, _ = inbound_store(raw=build_mail(subject=f"Mail {n}"))
    InboundMail.objects.filter(pk=mail.pk).update(status=InboundStatus.FAILED, error="Boom")
    url = reverse("admin:tickets_inboundmail_changelist")
    admin_client.get(url)  # warm the session and the content types

    with django_assert_num_queries(9):  # the viewer's zone and contact: one query
        page = admin_client.get(url + "?attention=yes").content.decode()

    assert "Failed (will be retried)" in page
    assert page.count("sla-breached") == 1


def test_the_retry_action_processes_a_failed_mail(admin_client) -> None:
    mail, _ = inbound_store(raw=build_mail(subject="Hello", sender="bob@stranger.example"))
    InboundMail.objects.filter(pk=mail.pk).update(status=InboundStatus.FAILED, error="Boom")

    response = admin_client.post(
        reverse("admin:tickets_inboundmail_changelist"),
        {"action": "retry", "_selected_action": [mail.pk]},
        follow=True,
    )

    assert "1 processed, 0 failed again." in response.content.decode()
    mail.refresh_from_db()
    assert (mail.status, mail.error) == (InboundStatus.STRANGER, "")


def test_the_mail_page_shows_the_headers_and_the_error(admin_client) -> None:
    mail, _ = inbound_store(raw=build_mail(subject="Hello"))
    InboundMail.objects.filter(pk=mail.pk).update(status=InboundStatus.FAILED, error="Boom!")

    page = admin_client.get(reverse("admin:tickets_inboundmail_change", args=[mail.pk]))

    assert "Subject: Hello" in page.content.decode()
    assert "Boom!" in page.content.decode()


def test_setup_schedules_adds_the_inbound_poll() -> None:
    call_command("setup_schedules", stdout=io.StringIO())
    call_command("setup_schedules", stdout=io.StringIO())

    schedule = Schedule.objects.get(name="inbound-mail")
    assert (schedule.func, schedule.minutes) == ("tickets.inbound.tasks.poll_mailboxes", 1)
    assert Schedule.objects.filter(name="sla-sweep").count() == 1
