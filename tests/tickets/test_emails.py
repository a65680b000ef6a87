"""Ticket emails: queued on commit, rendered from three templates, sent to the right people."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import transaction

from plans.roles import SUPPORT_MANAGERS
from tests.builders.portal import PortalWorld, build_portal_world, open_ticket
from tests.factories import UserFactory
from tickets import emails
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> PortalWorld:
    return build_portal_world()


def manager(username: str, **fields: object) -> object:
    user = UserFactory.create(username=username, **fields)
    user.groups.add(Group.objects.get_or_create(name=SUPPORT_MANAGERS)[0])
    return user


def test_a_queued_email_is_sent_once_the_change_commits(
    world: PortalWorld, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        ticket = open_ticket(world.alice, subject="Site down")
    assert [m.subject for m in mail.outbox] == [
        f"[{ticket.reference}] We received your request: Site down"
    ]


def test_a_queued_email_of_a_change_that_rolled_back_is_never_sent(
    world: PortalWorld, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:  # type: ignore[operator]
        try:
            with transaction.atomic():
                open_ticket(world.alice)
                raise RuntimeError("the request failed after the service ran")
        except RuntimeError:
            pass
    assert callbacks == []
    assert mail.outbox == []


def test_the_requester_is_not_mailed_about_their_own_reopen(world: PortalWorld) -> None:
    ticket = open_ticket(world.alice)
    event = TicketEvent.objects.filter(ticket=ticket).first()
    assert event is not None
    assert emails.status_changed(event=event, actor=world.alice.user) == 0


def test_an_sla_escalation_notice_carries_its_due_instant_for_the_lag_metric() -> None:
    notice = emails.sla_escalation(
        firing_id=7,
        ticket_id=3,
        to=["boss@vendor.example"],
        rule="75%",
        metric="first_response",
        late=False,
        due_at="2026-11-20T10:00:00+00:00",
    )
    assert (notice.cause_id, notice.data["due_at"]) == (7, "2026-11-20T10:00:00+00:00")
