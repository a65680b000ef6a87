"""Recalculation: a changed calendar, closure or target retargets open clocks only."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from sla.calendars import calendar_touch
from sla.models import BusinessCalendar, Closure, SlaClock, Target
from tests.factories import AgentFactory, customer_on, load_example_policy
from tickets import services

pytestmark = pytest.mark.django_db


def utc(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso)


@pytest.fixture
def two_tickets():  # noqa: ANN201
    """Vmoso priority 3 tickets opened Monday 23 Nov 2026 09:00 Pacific; one already answered."""
    load_example_policy("vmoso")
    contact = customer_on("vmoso-standard", time_zone="America/Los_Angeles")
    with time_machine.travel(utc("2026-11-23T17:00:00+00:00"), tick=False):
        open_one = services.ticket_create(
            requester=contact.user, subject="a", body="b", severity_level=3, channel="email"
        )
        answered = services.ticket_create(
            requester=contact.user, subject="c", body="d", severity_level=3, channel="email"
        )
        services.ticket_reply(ticket=answered, author=AgentFactory(), body="Hello")
    return open_one, answered


def first_response(ticket) -> SlaClock:  # noqa: ANN001
    return SlaClock.objects.get(ticket=ticket, metric="first_response")


def test_a_new_closure_moves_the_due_of_open_clocks(two_tickets) -> None:  # noqa: ANN001
    open_one, answered = two_tickets
    assert first_response(open_one).due_at == utc("2026-11-24T01:00:00+00:00")  # Mon 17:00 PST
    calendar = BusinessCalendar.objects.get(slug="local-business")
    Closure.objects.create(calendar=calendar, date=dt.date(2026, 11, 23), name="Shutdown")
    calendar_touch(calendar=calendar)
    call_command(
        "recalculate_sla", "--calendar", "local-business", stdout=StringIO(), stderr=StringIO()
    )
    clock = first_response(open_one)
    assert clock.due_at == utc("2026-11-25T01:00:00+00:00")  # the whole of Tuesday instead
    assert clock.events.filter(kind="retargeted").exists()
    met = first_response(answered)
    assert met.due_at == utc("2026-11-24T01:00:00+00:00")
    assert not met.events.filter(kind="retargeted").exists()


def test_a_changed_target_retargets_from_the_original_start(two_tickets) -> None:  # noqa: ANN001
    open_one, _ = two_tickets
    Target.objects.filter(plan__slug="vmoso-standard", severity__level=3).update(
        first_response=dt.timedelta(hours=4)
    )
    out = StringIO()
    call_command("recalculate_sla", "--plan", "vmoso-standard", stdout=out, stderr=StringIO())
    assert first_response(open_one).due_at == utc("2026-11-23T21:00:00+00:00")
    assert "retargeted" in out.getvalue()


def test_an_unknown_calendar_is_named(two_tickets) -> None:  # noqa: ANN001
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--calendar: no calendar nope"):
        call_command("recalculate_sla", "--calendar", "nope", stdout=StringIO())


def test_the_calendar_admin_action_retargets_and_says_how_many(
    two_tickets, admin_client  # noqa: ANN001
) -> None:
    open_one, _ = two_tickets
    calendar = BusinessCalendar.objects.get(slug="local-business")
    Closure.objects.create(calendar=calendar, date=dt.date(2026, 11, 23), name="Shutdown")
    calendar_touch(calendar=calendar)
    response = admin_client.post(
        "/admin/sla/businesscalendar/",
        {"action": "retarget", "_selected_action": [calendar.pk]},
        follow=True,
    )
    assert "retargeted" in response.content.decode()
    assert first_response(open_one).due_at == utc("2026-11-25T01:00:00+00:00")
