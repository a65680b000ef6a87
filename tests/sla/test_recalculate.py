"""Recalculation: a changed calendar, closure or target retargets open clocks only."""

import datetime as dt
import threading
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from plans.models import NamedContact
from sla.calendars import calendar_touch
from sla.models import BusinessCalendar, Closure, SlaClock, SlaClockEvent, Target
from sla.recalculation import clocks_recalculate
from tests.factories import AgentFactory, customer_on, load_example_policy
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def utc(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso)


@pytest.fixture
def two_tickets():
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
        services.ticket_reply(ticket=answered, author=AgentFactory.create(), body="Hello")
    return open_one, answered


def first_response(ticket) -> SlaClock:
    return SlaClock.objects.get(ticket=ticket, metric="first_response")


def test_a_new_closure_moves_the_due_of_open_clocks(two_tickets) -> None:
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


def test_a_changed_target_retargets_from_the_original_start(two_tickets) -> None:
    open_one, _ = two_tickets
    Target.objects.filter(plan__slug="vmoso-standard", severity__level=3).update(
        first_response=dt.timedelta(hours=4)
    )
    out = StringIO()
    call_command("recalculate_sla", "--plan", "vmoso-standard", stdout=out, stderr=StringIO())
    assert first_response(open_one).due_at == utc("2026-11-23T21:00:00+00:00")
    assert "retargeted" in out.getvalue()


def test_an_unknown_calendar_is_named(two_tickets) -> None:
    with pytest.raises(CommandError, match="--calendar: no calendar nope"):
        call_command("recalculate_sla", "--calendar", "nope", stdout=StringIO())


def test_the_calendar_admin_action_retargets_and_says_how_many(
    two_tickets,
    admin_client,
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


def open_tickets(count: int) -> list[Ticket]:
    """Vmoso priority 3 tickets, opened on Monday 23 Nov 2026 09:00 Pacific."""
    contact = NamedContact.objects.first() or customer_on(
        "vmoso-standard", time_zone="America/Los_Angeles"
    )
    with time_machine.travel(utc("2026-11-23T17:00:00+00:00"), tick=False):
        return [
            services.ticket_create(
                requester=contact.user, subject="a", body="b", severity_level=3, channel="email"
            )
            for _ in range(count)
        ]


def four_hour_first_response() -> None:
    Target.objects.filter(plan__slug="vmoso-standard", severity__level=3).update(
        first_response=dt.timedelta(hours=4)
    )


def retargeted(tickets: list[Ticket]) -> int:
    return SlaClockEvent.objects.filter(
        clock__ticket__in=tickets, kind=SlaClockEvent.Kind.RETARGETED
    ).count()


def test_the_recalculation_costs_the_same_queries_for_5_and_15_tickets() -> None:
    load_example_policy("vmoso")
    counts = []
    for count in (5, 15):
        SlaClock.objects.all().delete()
        Ticket.objects.all().delete()
        tickets = open_tickets(count)
        four_hour_first_response()
        with CaptureQueriesContext(connection) as queries:
            assert clocks_recalculate() == count
        assert retargeted(tickets) == count
        counts.append(len(queries))
        Target.objects.update(first_response=dt.timedelta(hours=9))
    assert counts[0] == counts[1]


def test_the_recalculation_goes_through_every_chunk() -> None:
    load_example_policy("vmoso")
    tickets = open_tickets(5)
    four_hour_first_response()
    done: list[int] = []
    assert clocks_recalculate(chunk=2, progress=done.append) == 5
    assert sum(done) == SlaClock.objects.filter(state__in=["running", "paused"]).count()
    dues = SlaClock.objects.filter(metric="first_response").values_list("due_at", flat=True)
    assert set(dues) == {utc("2026-11-23T21:00:00+00:00")}
    assert retargeted(tickets) == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_ticket_an_agent_holds_is_retargeted_once_the_agent_lets_go() -> None:
    load_example_policy("vmoso")
    held, *others = open_tickets(3)
    four_hour_first_response()
    holding, done = threading.Event(), threading.Event()

    def agent() -> None:
        try:
            with transaction.atomic():
                Ticket.objects.select_for_update().get(pk=held.pk)
                holding.set()
                done.wait(timeout=5)  # the recalculation has passed this ticket by
        finally:
            connection.close()

    thread = threading.Thread(target=agent)
    thread.start()
    holding.wait(timeout=5)

    def progress(count: int) -> None:
        if retargeted(others) == 2:
            done.set()

    assert clocks_recalculate(progress=progress) == 3
    thread.join()
    assert done.is_set()
    assert retargeted([held]) == 1
