"""Grouped ticket updates (issue 15): a customer's updates of one ticket within the grouping
window go out as one mail, listed in order; urgent mails are never held; exactly once holds."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.db import connection
from django.test import Client, override_settings

from plans.roles import SUPPORT_MANAGERS
from sla.tasks import sweep_task
from tests.builders.mail import send_held_mails
from tests.factories import (
    AgentFactory,
    ContractFactory,
    NamedContactFactory,
    OrganizationFactory,
    PlanFactory,
    SeverityFactory,
    TicketFactory,
    UserFactory,
)
from tickets import emails, notifications, services
from tickets.models import DeliveryStatus, OutgoingNotification, Ticket, TicketEvent
from tickets.selectors import notification_backlog

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2027, 3, 10, 12, 0, tzinfo=dt.UTC)  # 13:00 in Paris
WINDOW = dt.timedelta(seconds=60)
REFUSING = "tests.support.mail_backends.RefusingBackend"


@pytest.fixture(autouse=True)
def frozen(settings: Any) -> Iterator[time_machine.Coordinates]:
    settings.NOTIFICATION_GROUP_WINDOW = 60
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ticket(django_capture_on_commit_callbacks: Any) -> Ticket:
    """A Paris customer's new ticket; its acknowledgement mail is already sent."""
    plan = PlanFactory.create(slug="group-plan")
    for level in (1, 2, 3):
        SeverityFactory.create(policy=plan.policy, level=level)
    organization = OrganizationFactory.create(slug="group-org", time_zone="Europe/Paris")
    ContractFactory.create(organization=organization, plan=plan)
    alice = NamedContactFactory.create(
        organization=organization, user=UserFactory.create(username="g-alice")
    )
    with django_capture_on_commit_callbacks(execute=True):
        created = services.ticket_create(
            requester=alice.user, subject="Export fails", body="It fails.", severity_level=3
        )
    mail.outbox.clear()
    return created


@pytest.fixture
def agent() -> Any:
    return AgentFactory.create(first_name="Sam", last_name="Agent")


def act(callbacks: Any, frozen: time_machine.Coordinates, seconds: int, action: Any) -> None:
    """Run a service `seconds` after the previous step, committing as a request would."""
    frozen.shift(dt.timedelta(seconds=seconds))
    with callbacks(execute=True):
        action()


def unsent_rows() -> list[OutgoingNotification]:
    return list(OutgoingNotification.objects.exclude(status=DeliveryStatus.SENT))


def test_updates_within_the_window_go_out_as_one_mail_listing_each_in_order(
    ticket: Ticket, agent: Any, frozen: time_machine.Coordinates, django_capture_on_commit_callbacks
) -> None:
    on_commit = django_capture_on_commit_callbacks
    act(on_commit, frozen, 0, lambda: services.ticket_acknowledge(ticket=ticket, by=agent))
    act(
        on_commit,
        frozen,
        20,
        lambda: services.ticket_reply(ticket=ticket, author=agent, body="On it."),
    )
    act(
        on_commit,
        frozen,
        25,
        lambda: services.ticket_change_severity(ticket=ticket, level=2, by=agent, reason="Many"),
    )
    assert mail.outbox == []  # held: the window (60 s from the first update) is still open

    assert send_held_mails() == 1  # one mail for the group
    (message,) = mail.outbox
    assert message.to == [ticket.requester.email]
    assert message.subject == f"[{ticket.reference}] 3 updates: Export fails"
    body = message.body
    first = body.index("-- 2027-03-10 13:00 Europe/Paris")
    second = body.index("-- 2027-03-10 13:00 Europe/Paris", first + 1)  # 12:00:20 UTC
    third = body.index("-- 2027-03-10 13:00 Europe/Paris", second + 1)
    assert first < body.index("is now acknowledged") < second
    assert second < body.index("Sam Agent from support replied") < body.index("On it.") < third
    assert third < body.index("Support changed the severity") < body.index("Support says: Many")
    assert body.count("Follow the ticket") == 1
    html, _ = message.alternatives[0]
    assert html.index("is now <strong>acknowledged") < html.index("On it.")
    rows = OutgoingNotification.objects.filter(group__isnull=False)
    assert {(r.status, r.send_id, r.sent_at) for r in rows} == {
        (DeliveryStatus.SENT, rows[0].send_id, NOW + WINDOW)
    }


def test_each_update_in_a_group_says_what_it_did_then_not_what_the_ticket_is_now(
    ticket: Ticket, agent: Any, frozen: time_machine.Coordinates, django_capture_on_commit_callbacks
) -> None:
    on_commit = django_capture_on_commit_callbacks
    act(on_commit, frozen, 0, lambda: services.ticket_acknowledge(ticket=ticket, by=agent))
    act(on_commit, frozen, 5, lambda: services.ticket_resolve(ticket=ticket, by=agent))
    send_held_mails()
    (message,) = mail.outbox
    assert message.body.index("is now acknowledged") < message.body.index("is now resolved")


def test_an_update_after_the_window_goes_out_in_a_mail_of_its_own(
    ticket: Ticket, agent: Any, frozen: time_machine.Coordinates, django_capture_on_commit_callbacks
) -> None:
    on_commit = django_capture_on_commit_callbacks
    act(on_commit, frozen, 0, lambda: services.ticket_acknowledge(ticket=ticket, by=agent))
    act(on_commit, frozen, 59, lambda: services.ticket_reply(ticket=ticket, author=agent, body="A"))
    frozen.shift(dt.timedelta(seconds=2))  # the window closed; no worker has sent it yet
    act(on_commit, frozen, 0, lambda: services.ticket_reply(ticket=ticket, author=agent, body="B"))
    notifications.redrive()
    (first,) = mail.outbox
    assert first.subject == f"[{ticket.reference}] 2 updates: Export fails"
    send_held_mails()
    assert len(mail.outbox) == 2
    second = mail.outbox[1]
    assert second.subject == f"[{ticket.reference}] Support replied: Export fails"
    assert "B" in second.body and "is now acknowledged" not in second.body


def test_a_lone_update_is_sent_as_its_own_mail_when_the_window_closes(
    ticket: Ticket, agent: Any, frozen: time_machine.Coordinates, django_capture_on_commit_callbacks
) -> None:
    act(
        django_capture_on_commit_callbacks,
        frozen,
        0,
        lambda: services.ticket_reply(ticket=ticket, author=agent, body="Looking."),
    )
    assert notifications.redrive().enqueued == 0  # not before the window closes
    frozen.shift(WINDOW)
    assert notifications.redrive().enqueued == 1
    (message,) = mail.outbox
    assert message.subject == f"[{ticket.reference}] Support replied: Export fails"


def test_different_recipients_get_separate_mails(
    ticket: Ticket, frozen: time_machine.Coordinates
) -> None:
    for _ in range(2):
        event = TicketEvent.objects.create(ticket=ticket, kind="status", at=NOW, summary="S")
        notifications.record(
            cause=OutgoingNotification.Cause.EVENT,
            cause_id=event.pk,
            name="status_changed",
            to=["a@example.com", "b@example.com"],
            data={"ticket_id": ticket.pk},
            groupable=True,
        )
    rows = unsent_rows()
    assert len({r.group for r in rows}) == 2
    send_held_mails()
    assert sorted((m.to[0], m.subject.split("]")[1]) for m in mail.outbox) == [
        ("a@example.com", " 2 updates: Export fails"),
        ("b@example.com", " 2 updates: Export fails"),
    ]


def test_escalations_are_sent_at_once_while_the_customers_updates_are_held(
    ticket: Ticket, agent: Any, frozen: time_machine.Coordinates, django_capture_on_commit_callbacks
) -> None:
    act(
        django_capture_on_commit_callbacks,
        frozen,
        0,
        lambda: services.ticket_reply(ticket=ticket, author=agent, body="Looking."),
    )
    notice = emails.sla_escalation(
        firing_id=1,
        ticket_id=ticket.pk,
        to=[ticket.requester.email],
        rule="r",
        metric="m",
        late=False,
    )
    with django_capture_on_commit_callbacks(execute=True):
        notifications.record_many([notice])
    (escalation,) = mail.outbox
    assert "Support replied" not in escalation.subject
    assert OutgoingNotification.objects.get(cause="firing").status == DeliveryStatus.SENT
    assert [r.template for r in unsent_rows()] == ["agent_replied"]


def test_a_customer_escalation_reaches_the_managers_at_once(
    ticket: Ticket, agent: Any, frozen: time_machine.Coordinates, django_capture_on_commit_callbacks
) -> None:
    boss = UserFactory.create(username="g-boss", email="boss@vendor.example")
    boss.groups.add(Group.objects.get_or_create(name=SUPPORT_MANAGERS)[0])
    on_commit = django_capture_on_commit_callbacks
    act(on_commit, frozen, 0, lambda: services.ticket_acknowledge(ticket=ticket, by=agent))
    act(
        on_commit,
        frozen,
        5,
        lambda: services.ticket_request_escalation(
            ticket=ticket, by=ticket.requester, reason="Production is down"
        ),
    )
    assert [m.to for m in mail.outbox] == [["boss@vendor.example"]]


def test_a_new_tickets_acknowledgement_is_sent_at_once(
    ticket: Ticket, django_capture_on_commit_callbacks: Any
) -> None:
    created = OutgoingNotification.objects.get(ticket=ticket, template="ticket_created")
    assert (created.status, created.group, created.send_after) == (DeliveryStatus.SENT, None, NOW)


@override_settings(NOTIFICATION_GROUP_WINDOW=0)
def test_a_window_of_zero_sends_each_update_at_once(
    ticket: Ticket, agent: Any, frozen: time_machine.Coordinates, django_capture_on_commit_callbacks
) -> None:
    on_commit = django_capture_on_commit_callbacks
    act(on_commit, frozen, 0, lambda: services.ticket_acknowledge(ticket=ticket, by=agent))
    act(on_commit, frozen, 1, lambda: services.ticket_reply(ticket=ticket, author=agent, body="A"))
    assert len(mail.outbox) == 2


def test_a_grouped_mail_threads_to_the_ticket_with_a_stable_message_id(
    ticket: Ticket, agent: Any, frozen: time_machine.Coordinates, django_capture_on_commit_callbacks
) -> None:
    acknowledgement = OutgoingNotification.objects.get(template="ticket_created")
    first_id = f"<{ticket.reference}.{acknowledgement.send_id}@helpdesk.example>"
    on_commit = django_capture_on_commit_callbacks
    act(on_commit, frozen, 0, lambda: services.ticket_acknowledge(ticket=ticket, by=agent))
    act(on_commit, frozen, 5, lambda: services.ticket_reply(ticket=ticket, author=agent, body="A"))
    send_held_mails()
    (message,) = mail.outbox
    (group_send_id,) = {r.send_id for r in OutgoingNotification.objects.filter(group__isnull=False)}
    headers = message.extra_headers
    assert headers["Message-ID"] == f"<{ticket.reference}.{group_send_id}@helpdesk.example>"
    assert headers["In-Reply-To"] == first_id
    assert headers["References"] == f"<{ticket.reference}@helpdesk.example> {first_id}"
    assert message.reply_to == ["support@helpdesk.example"]


def test_a_worker_dying_between_claim_and_send_leaves_the_group_to_be_sent_once(
    ticket: Ticket, agent: Any, frozen: time_machine.Coordinates, django_capture_on_commit_callbacks
) -> None:
    on_commit = django_capture_on_commit_callbacks
    act(on_commit, frozen, 0, lambda: services.ticket_acknowledge(ticket=ticket, by=agent))
    act(on_commit, frozen, 5, lambda: services.ticket_reply(ticket=ticket, author=agent, body="A"))
    first, second = sorted(unsent_rows(), key=lambda r: r.pk)
    frozen.shift(WINDOW)
    claimed = notifications.claim(second.pk)  # a worker claims the group, then is killed
    assert [r.pk for r in claimed] == [first.pk, second.pk]  # oldest first
    assert notifications.deliver(first.pk) == "skipped"  # another worker: the group is taken
    frozen.shift(notifications.STALE_AFTER + dt.timedelta(seconds=1))
    result = notifications.redrive()
    assert (result.stale, result.enqueued) == (2, 2)
    (message,) = mail.outbox
    assert str(claimed[0].send_id) in message.extra_headers["Message-ID"]
    assert message.subject == f"[{ticket.reference}] 2 updates: Export fails"
    rows = OutgoingNotification.objects.filter(pk__in=[first.pk, second.pk])
    assert {(r.status, r.attempts, r.send_id) for r in rows} == {
        (DeliveryStatus.SENT, 2, claimed[0].send_id)
    }
    assert notifications.redrive().enqueued == 0
    assert len(mail.outbox) == 1


def test_an_update_recorded_while_its_group_is_being_sent_starts_a_new_group(
    ticket: Ticket, agent: Any, frozen: time_machine.Coordinates, django_capture_on_commit_callbacks
) -> None:
    on_commit = django_capture_on_commit_callbacks
    act(on_commit, frozen, 0, lambda: services.ticket_reply(ticket=ticket, author=agent, body="A"))
    (row,) = unsent_rows()
    frozen.shift(WINDOW)
    assert notifications.claim(row.pk)  # the worker holds it (sending)
    act(on_commit, frozen, 0, lambda: services.ticket_reply(ticket=ticket, author=agent, body="B"))
    later = OutgoingNotification.objects.exclude(pk=row.pk).get(template="agent_replied")
    assert later.group != row.group
    assert later.send_after == NOW + 2 * WINDOW


def test_a_late_joiner_left_out_of_a_claimed_group_is_sent_alone_not_lost(
    ticket: Ticket, agent: Any, frozen: time_machine.Coordinates, django_capture_on_commit_callbacks
) -> None:
    on_commit = django_capture_on_commit_callbacks
    act(on_commit, frozen, 0, lambda: services.ticket_reply(ticket=ticket, author=agent, body="A"))
    act(on_commit, frozen, 5, lambda: services.ticket_reply(ticket=ticket, author=agent, body="B"))
    first, late = sorted(unsent_rows(), key=lambda r: r.pk)
    # The race on SQLite or without the join's row lock: the worker claimed before B committed.
    OutgoingNotification.objects.filter(pk=late.pk).update(status=DeliveryStatus.FAILED)
    frozen.shift(WINDOW)
    assert notifications.deliver(first.pk) == "sent"
    OutgoingNotification.objects.filter(pk=late.pk).update(status=DeliveryStatus.PENDING)
    notifications.redrive()
    assert [m.subject.split("] ")[1] for m in mail.outbox] == ["Support replied: Export fails"] * 2
    assert "B" in mail.outbox[1].body
    first.refresh_from_db()
    late.refresh_from_db()
    assert first.send_id != late.send_id
    assert {first.status, late.status} == {DeliveryStatus.SENT}


@override_settings(EMAIL_BACKEND=REFUSING)
def test_a_refused_group_is_retried_together_with_one_message_id(
    ticket: Ticket, agent: Any, frozen: time_machine.Coordinates, django_capture_on_commit_callbacks
) -> None:
    on_commit = django_capture_on_commit_callbacks
    act(on_commit, frozen, 0, lambda: services.ticket_acknowledge(ticket=ticket, by=agent))
    act(on_commit, frozen, 5, lambda: services.ticket_reply(ticket=ticket, author=agent, body="A"))
    first, second = sorted(unsent_rows(), key=lambda r: r.pk)
    frozen.shift(WINDOW)
    assert notifications.deliver(first.pk) == "retry"
    rows = OutgoingNotification.objects.filter(pk__in=[first.pk, second.pk])
    assert len({(r.status, r.attempts, r.send_id, r.next_attempt_at) for r in rows}) == 1
    assert rows[0].status == DeliveryStatus.PENDING


def test_the_backlog_counts_a_held_group_as_held_not_as_late(
    ticket: Ticket, agent: Any, frozen: time_machine.Coordinates, django_capture_on_commit_callbacks
) -> None:
    on_commit = django_capture_on_commit_callbacks
    act(on_commit, frozen, 0, lambda: services.ticket_acknowledge(ticket=ticket, by=agent))
    act(on_commit, frozen, 50, lambda: services.ticket_reply(ticket=ticket, author=agent, body="A"))
    backlog = notification_backlog()
    assert (backlog.held, backlog.unsent, backlog.oldest_pending_age) == (2, 0, None)
    frozen.shift(dt.timedelta(seconds=10 + 90))  # closed 90 s ago and no worker sent it
    backlog = notification_backlog()
    assert (backlog.held, backlog.unsent) == (0, 2)
    assert backlog.oldest_pending_age == dt.timedelta(seconds=90)  # late since the window closed


def test_readyz_shows_a_held_group_apart_from_the_unsent_backlog(
    ticket: Ticket, agent: Any, frozen: time_machine.Coordinates, django_capture_on_commit_callbacks
) -> None:
    sweep_task()
    act(
        django_capture_on_commit_callbacks,
        frozen,
        0,
        lambda: services.ticket_reply(ticket=ticket, author=agent, body="A"),
    )
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["notifications"] == {
        "unsent": 0,
        "held": 1,
        "failed": 0,
        "oldest_unsent_minutes": None,
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_taking_two_rows_of_one_group_at_once_send_it_once_whole(
    frozen: time_machine.Coordinates,
) -> None:
    ticket = TicketFactory.create(subject="Export fails")
    for _ in range(2):
        event = TicketEvent.objects.create(ticket=ticket, kind="status", at=NOW, summary="S")
        notifications.record(
            cause=OutgoingNotification.Cause.EVENT,
            cause_id=event.pk,
            name="status_changed",
            to=["a@example.com"],
            data={"ticket_id": ticket.pk},
            groupable=True,
        )
    ids = sorted(OutgoingNotification.objects.values_list("pk", flat=True))
    frozen.shift(WINDOW)
    start = threading.Barrier(len(ids))
    outcomes: list[str] = []

    def worker(pk: int) -> None:
        try:
            start.wait()
            outcomes.append(notifications.deliver(pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(pk,)) for pk in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["sent", "skipped"]
    (message,) = mail.outbox
    assert message.subject == f"[{ticket.reference}] 2 updates: Export fails"
    assert set(OutgoingNotification.objects.values_list("status", flat=True)) == {"sent"}
