"""What a sweep's firings do on the ticket side: events, queue moves and durable mails."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail

from sla.models import EscalationFiring
from sla.services import sweep
from tests.factories import (
    EscalationRuleFactory,
    PlanFactory,
    QueueFactory,
    SeverityFactory,
    TargetFactory,
    UserFactory,
    customer_on,
)
from tickets import services
from tickets.models import DeliveryStatus, OutgoingNotification, Ticket

pytestmark = pytest.mark.django_db

OPENED = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def ticket() -> Ticket:
    """A 24x7 plan whose 1-hour rule tells two people and moves the ticket to L2."""
    plan = PlanFactory.create(slug="fast")
    severity = SeverityFactory.create(policy=plan.policy, level=1)
    TargetFactory.create(plan=plan, severity=severity, resolution=dt.timedelta(hours=8))
    EscalationRuleFactory.create(
        plan=plan,
        severity=severity,
        metric="resolution",
        after=dt.timedelta(hours=1),
        after_percent=None,
        notify=["email:lead@vendor.example", "group:directors"],
        move_to="l2",
    )
    QueueFactory.create(slug="l2", name="L2", position=2)
    Group.objects.create(name="directors").user_set.add(UserFactory.create(username="dee"))
    contact = customer_on("fast", time_zone="UTC")
    with time_machine.travel(OPENED, tick=False):
        return services.ticket_create(
            requester=contact.user, subject="Down", body="All down.", severity_level=1
        )


def test_a_firing_records_its_mails_with_it_and_they_are_sent_after_commit(
    ticket: Ticket, django_capture_on_commit_callbacks
) -> None:
    mail.outbox.clear()
    with (
        time_machine.travel(OPENED + dt.timedelta(hours=1, seconds=30), tick=False),
        django_capture_on_commit_callbacks(execute=False) as callbacks,
    ):
        assert sweep().fired == 1
    firing = EscalationFiring.objects.get()
    rows = OutgoingNotification.objects.filter(cause="firing", cause_id=firing.pk)
    # `notified` is the list the firing addressed, written with its rows; nothing sent yet.
    assert sorted(rows.values_list("recipient", flat=True)) == firing.notified
    assert firing.notified == ["dee@example.com", "lead@vendor.example"]
    assert set(rows.values_list("status", flat=True)) == {DeliveryStatus.PENDING}
    assert set(rows.values_list("ticket", flat=True)) == {ticket.pk}
    assert mail.outbox == []
    with time_machine.travel(OPENED + dt.timedelta(hours=1, seconds=31), tick=False):
        for callback in callbacks:
            callback()
    assert set(rows.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert sorted(m.to[0] for m in mail.outbox) == firing.notified
    assert all(ticket.reference in m.subject for m in mail.outbox)
    ticket.refresh_from_db()
    assert ticket.queue is not None and ticket.queue.slug == "l2"
