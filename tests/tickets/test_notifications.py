"""Outgoing notifications: recorded with their cause, claimed, sent once, retried, re-driven."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import Client, override_settings
from django.urls import reverse

from tests.factories import TicketFactory, UserFactory
from tickets import notifications
from tickets.models import DeliveryStatus, OutgoingNotification, Ticket, TicketEvent
from tickets.selectors import notification_backlog

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 3, 10, 12, 0, tzinfo=dt.UTC)
REFUSING = "tests.support.mail_backends.RefusingBackend"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ticket() -> Ticket:
    return TicketFactory.create(
        subject="Can't export & <import>", requester=UserFactory.create(username="cara")
    )


def event_on(ticket: Ticket) -> TicketEvent:
    return TicketEvent.objects.create(ticket=ticket, kind="status", at=NOW, summary="Status")


def record_status_mail(ticket: Ticket, to: list[str]) -> TicketEvent:
    event = event_on(ticket)
    notifications.record(
        cause=OutgoingNotification.Cause.EVENT,
        cause_id=event.pk,
        name="status_changed",
        to=to,
        data={"ticket_id": ticket.pk, "reason": "Tom & Jerry's <script>"},
    )
    return event


def rows() -> list[OutgoingNotification]:
    return list(OutgoingNotification.objects.order_by("recipient"))


def test_it_records_a_row_per_recipient_and_sends_each_once_after_commit(
    ticket: Ticket, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record_status_mail(ticket, ["b@example.com", "a@example.com", "b@example.com", ""])
    assert [(r.recipient, r.status) for r in rows()] == [
        ("a@example.com", DeliveryStatus.PENDING),
        ("b@example.com", DeliveryStatus.PENDING),
    ]
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    sent = rows()
    assert [(r.status, r.attempts, r.sent_at) for r in sent] == [(DeliveryStatus.SENT, 1, NOW)] * 2
    assert sorted(m.to[0] for m in mail.outbox) == ["a@example.com", "b@example.com"]
    by_address = {m.to[0]: m for m in mail.outbox}
    for row in sent:
        assert str(row.send_id) in by_address[row.recipient].extra_headers["Message-ID"]


def test_a_cause_that_rolls_back_records_and_sends_nothing(
    ticket: Ticket, django_capture_on_commit_callbacks
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        record_status_mail(ticket, ["a@example.com"])
        raise RuntimeError("the service failed after recording")
    assert rows() == []
    assert mail.outbox == []


def test_the_same_cause_and_recipient_cannot_be_recorded_twice(ticket: Ticket) -> None:
    event = record_status_mail(ticket, ["a@example.com"])
    with pytest.raises(IntegrityError), transaction.atomic():
        notifications.record(
            cause=OutgoingNotification.Cause.EVENT,
            cause_id=event.pk,
            name="status_changed",
            to=["a@example.com"],
            data={"ticket_id": ticket.pk},
        )


def test_a_row_is_sent_once_however_many_times_its_task_runs(ticket: Ticket) -> None:
    record_status_mail(ticket, ["a@example.com"])
    (row,) = rows()
    assert notifications.send_notifications([row.pk]) == {"sent": 1}
    assert notifications.send_notifications([row.pk, row.pk]) == {"skipped": 2}
    assert len(mail.outbox) == 1


def test_a_claimed_row_is_marked_sending_with_a_send_id_and_not_claimed_again(
    ticket: Ticket,
) -> None:
    record_status_mail(ticket, ["a@example.com"])
    (row,) = rows()
    (claimed,) = notifications.claim(row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.claimed_at) == (DeliveryStatus.SENDING, 1, NOW)
    assert row.send_id == claimed.send_id
    assert notifications.claim(row.pk) == []
    assert notifications.deliver(row.pk) == "skipped"
    assert mail.outbox == []


def test_plain_text_is_not_html_escaped_and_html_is(ticket: Ticket) -> None:
    record_status_mail(ticket, ["a@example.com"])
    notifications.send_notifications([r.pk for r in rows()])
    (message,) = mail.outbox
    assert "Can't export & <import>" in message.subject
    assert "Can't export & <import>" in message.body
    assert "Tom & Jerry's <script>" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "<script>" not in html
    assert "Tom &amp; Jerry&#x27;s &lt;script&gt;" in html


@override_settings(EMAIL_BACKEND=REFUSING)
def test_a_refused_mail_is_retried_with_backoff_then_marked_failed(
    ticket: Ticket, frozen: time_machine.Coordinates
) -> None:
    record_status_mail(ticket, ["a@example.com"])
    (row,) = rows()
    outcomes = []
    waits = []
    for _ in range(notifications.MAX_ATTEMPTS):
        outcomes.append(notifications.deliver(row.pk))
        row.refresh_from_db()
        waits.append(row.next_attempt_at - dt.datetime.now(dt.UTC))
        assert notifications.deliver(row.pk) == "skipped"  # not before its backoff
        frozen.shift(row.next_attempt_at - dt.datetime.now(dt.UTC))
    assert outcomes == ["retry"] * (notifications.MAX_ATTEMPTS - 1) + ["failed"]
    assert waits[:4] == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, notifications.MAX_ATTEMPTS)
    assert "SMTPServerDisconnected" in row.last_error
    assert row.send_id is not None


def test_the_redrive_sends_rows_whose_task_was_lost(
    ticket: Ticket, frozen: time_machine.Coordinates, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False):  # the worker died: no task ran
        record_status_mail(ticket, ["a@example.com", "b@example.com"])
    assert notifications.redrive().enqueued == 0  # a fresh row is its own task's to send
    frozen.shift(notifications.REDRIVE_AFTER)
    result = notifications.redrive()
    assert (result.stale, result.enqueued) == (0, 2)
    assert [r.status for r in rows()] == [DeliveryStatus.SENT] * 2
    assert len(mail.outbox) == 2
    assert notifications.redrive().enqueued == 0


def test_a_row_left_sending_by_a_dead_worker_is_sent_again_with_the_same_message_id(
    ticket: Ticket, frozen: time_machine.Coordinates
) -> None:
    record_status_mail(ticket, ["a@example.com"])
    (row,) = rows()
    (claimed,) = notifications.claim(row.pk)  # the worker dies before handing the message over
    frozen.shift(notifications.STALE_AFTER - dt.timedelta(seconds=1))
    assert notifications.redrive().stale == 0  # it may still be sending
    frozen.shift(dt.timedelta(seconds=2))
    assert notifications.redrive().stale == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.send_id) == (DeliveryStatus.SENT, 2, claimed.send_id)
    assert "sent again with the same Message-ID" in row.last_error
    (message,) = mail.outbox
    assert str(claimed.send_id) in message.extra_headers["Message-ID"]


@override_settings(EMAIL_BACKEND=REFUSING)
def test_an_agent_can_send_failed_rows_again(
    ticket: Ticket, django_capture_on_commit_callbacks
) -> None:
    record_status_mail(ticket, ["a@example.com"])
    (row,) = rows()
    OutgoingNotification.objects.filter(pk=row.pk).update(
        status=DeliveryStatus.FAILED, attempts=notifications.MAX_ATTEMPTS
    )
    with (
        override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert notifications.retry_failed(ids=[row.pk]) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 1)
    assert len(mail.outbox) == 1


def test_the_backlog_counts_unsent_and_failed_rows_in_one_query(
    ticket: Ticket, frozen: time_machine.Coordinates, django_assert_num_queries
) -> None:
    record_status_mail(ticket, ["a@example.com", "b@example.com", "c@example.com"])
    a, b, c = rows()
    OutgoingNotification.objects.filter(pk=b.pk).update(status=DeliveryStatus.FAILED)
    OutgoingNotification.objects.filter(pk=c.pk).update(status=DeliveryStatus.SENT)
    frozen.shift(dt.timedelta(minutes=7))
    with django_assert_num_queries(1):
        backlog = notification_backlog()
    assert (backlog.pending, backlog.sending, backlog.failed) == (1, 0, 1)
    assert backlog.oldest_pending_age == dt.timedelta(minutes=7)
    assert backlog.oldest_pending_minutes == 7


def test_an_empty_backlog_has_no_oldest_age(db: None) -> None:
    backlog = notification_backlog()
    assert (backlog.unsent, backlog.failed, backlog.oldest_pending_age) == (0, 0, None)


# -- the admin -----------------------------------------------------------------------------------


def test_agents_see_notifications_read_only_filtered_by_status(
    admin_client: Client, ticket: Ticket, django_assert_max_num_queries
) -> None:
    for _ in range(5):
        record_status_mail(ticket, ["a@example.com", "b@example.com"])
    OutgoingNotification.objects.filter(recipient="b@example.com").update(
        status=DeliveryStatus.FAILED, last_error="attempt 5: refused"
    )
    url = reverse("admin:tickets_outgoingnotification_changelist")
    with django_assert_max_num_queries(12):
        response = admin_client.get(url, {"status__exact": "failed"})
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("b@example.com") >= 5
    assert "a@example.com" not in page
    assert ticket.reference in page
    row = OutgoingNotification.objects.first()
    assert row is not None
    detail = admin_client.get(reverse("admin:tickets_outgoingnotification_change", args=[row.pk]))
    assert detail.status_code == 200
    assert b'name="recipient"' not in detail.content  # read-only: no inputs
    assert admin_client.get(reverse("admin:tickets_outgoingnotification_add")).status_code == 403


def test_the_admin_index_shows_unsent_and_failed_counts(
    admin_client: Client, ticket: Ticket
) -> None:
    record_status_mail(ticket, ["a@example.com", "b@example.com"])
    OutgoingNotification.objects.filter(recipient="b@example.com").update(
        status=DeliveryStatus.FAILED
    )
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert 'id="notification-backlog"' in page
    assert "<strong>1</strong> unsent" in page
    assert "1</strong> failed" in page


def test_the_admin_index_says_when_everything_was_sent(admin_client: Client) -> None:
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "Every notification has been sent." in page
