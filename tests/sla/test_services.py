"""SLA clocks on tickets and the escalation sweep, with time frozen and moved (time-machine)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import time_machine
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from plans.models import Plan, TicketCategory
from sla.models import ClockState, EscalationFiring, SlaClock, SlaClockEvent
from sla.services import sweep
from tests.factories import (
    AgentFactory,
    EscalationRuleFactory,
    PlanFactory,
    SeverityFactory,
    TargetFactory,
    UserFactory,
    customer_on,
    load_example_policy,
)
from tickets import services
from tickets.models import Queue, Ticket

pytestmark = pytest.mark.django_db


@contextmanager
def at(iso: str) -> Iterator[None]:
    with time_machine.travel(dt.datetime.fromisoformat(iso.replace("Z", "+00:00")), tick=False):
        yield


def utc(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))


def clock(ticket: Ticket, metric: str, cycle: int = 1) -> SlaClock:
    return SlaClock.objects.get(ticket=ticket, metric=metric, cycle=cycle)


def open_ticket(
    contact_user: AbstractBaseUser,
    *,
    severity: int,
    when: str,
    channel: str = "portal",
    category: TicketCategory | None = None,
) -> Ticket:
    """A ticket the contact submits through the services at `when` (ISO 8601, UTC)."""
    with at(when):
        return services.ticket_create(
            requester=contact_user,
            subject="Help",
            body="It broke.",
            severity_level=severity,
            channel=channel,
            category=category,
        )


def run_sweep(when: str, capture) -> object:
    with at(when), capture(execute=True):
        return sweep()


@pytest.fixture
def vmoso(django_capture_on_commit_callbacks):
    load_example_policy("vmoso")
    contact = customer_on("vmoso-standard", time_zone="America/Los_Angeles")
    directors = Group.objects.create(name="directors")
    directors.user_set.add(UserFactory.create(username="director", email="director@vendor.example"))
    return contact


@pytest.fixture
def resolution_plan():
    """A 24x7 plan with a 10-hour resolution target and a 50% warning to the assignee."""
    plan = PlanFactory.create(slug="r24")
    severity = SeverityFactory.create(policy=plan.policy, level=1)
    SeverityFactory.create(policy=plan.policy, level=2)
    TargetFactory.create(
        plan=plan,
        severity=severity,
        acknowledge=dt.timedelta(hours=1),
        first_response=dt.timedelta(hours=2),
        resolution=dt.timedelta(hours=10),
    )
    TargetFactory.create(
        plan=plan,
        severity=SeverityFactory.create(policy=plan.policy, level=2),
        acknowledge=None,
        first_response=dt.timedelta(hours=8),
        resolution=dt.timedelta(hours=40),
    )
    EscalationRuleFactory.create(
        plan=plan,
        severity=severity,
        metric="resolution",
        after=None,
        after_percent=50,
        notify=["email:warn@vendor.example"],
    )
    return customer_on("r24", time_zone="UTC")


# -- the Vmoso ladder -------------------------------------------------------------------------


def test_vmoso_ladder_notifies_the_csm_then_directors_across_a_weekend_and_a_holiday(
    vmoso,
    django_capture_on_commit_callbacks,
) -> None:
    # Friday 15 Jan 2027 16:00 Pacific; Monday 18 Jan is Martin Luther King Day.
    ticket = open_ticket(vmoso.user, severity=1, when="2027-01-16T00:00:00Z")
    mail.outbox.clear()
    # Two business hours: Friday 16-17, then Tuesday 9-10 Pacific (18:00 UTC).
    assert run_sweep("2027-01-19T17:59:00Z", django_capture_on_commit_callbacks).fired == 0
    assert run_sweep("2027-01-19T18:00:30Z", django_capture_on_commit_callbacks).fired == 1
    assert [m.to for m in mail.outbox] == [["acme-csm@example.com"]]
    assert run_sweep("2027-01-19T19:00:30Z", django_capture_on_commit_callbacks).fired == 1
    assert mail.outbox[-1].to == ["director@vendor.example"]
    assert "Customer Support Manager" not in mail.outbox[-1].subject
    assert run_sweep("2027-01-19T23:00:00Z", django_capture_on_commit_callbacks).fired == 0
    firings = EscalationFiring.objects.filter(clock__ticket=ticket).order_by("due_at")
    assert [(f.due_at, f.late) for f in firings] == [
        (utc("2027-01-19T18:00:00Z"), False),
        (utc("2027-01-19T19:00:00Z"), False),
    ]
    assert ticket.events.filter(kind="sla_escalated").count() == 2


def test_a_resolved_priority_1_does_not_climb_the_ladder(
    vmoso,
    django_capture_on_commit_callbacks,
) -> None:
    ticket = open_ticket(vmoso.user, severity=1, when="2027-01-16T00:00:00Z")
    agent = AgentFactory.create()
    with at("2027-01-16T00:30:00Z"):
        services.ticket_resolve(ticket=ticket, by=agent)
    assert run_sweep("2027-01-20T00:00:00Z", django_capture_on_commit_callbacks).fired == 0
    assert clock(ticket, "resolution").state == ClockState.MET


def test_catch_up_after_downtime_fires_each_rung_once_marked_late(
    vmoso,
    django_capture_on_commit_callbacks,
) -> None:
    ticket = open_ticket(vmoso.user, severity=1, when="2027-01-16T00:00:00Z")
    result = run_sweep("2027-01-21T12:00:00Z", django_capture_on_commit_callbacks)
    assert (result.fired, result.late) == (2, 2)
    assert set(
        EscalationFiring.objects.filter(clock__ticket=ticket).values_list("late", flat=True)
    ) == {True}
    assert run_sweep("2027-01-21T12:05:00Z", django_capture_on_commit_callbacks).fired == 0


def test_the_first_response_breach_is_recorded_at_the_due_instant(
    vmoso,
    django_capture_on_commit_callbacks,
) -> None:
    ticket = open_ticket(vmoso.user, severity=1, when="2027-01-16T00:00:00Z")
    run_sweep("2027-01-19T19:30:00Z", django_capture_on_commit_callbacks)
    first = clock(ticket, "first_response")
    assert (first.state, first.breached_at) == (ClockState.BREACHED, utc("2027-01-19T18:00:00Z"))


# -- OpenBack: severity 1 round the clock, severity 2 on business hours -----------------------


def test_openback_severity_1_runs_round_the_clock_while_severity_2_waits_for_monday() -> None:
    load_example_policy("openback")
    contact = customer_on("openback-pro")
    # Saturday 21 November 2026, 10:00 London.
    sev1 = open_ticket(contact.user, severity=1, when="2026-11-21T10:00:00Z")
    sev2 = open_ticket(contact.user, severity=2, when="2026-11-21T10:00:00Z")
    assert clock(sev1, "first_response").due_at == utc("2026-11-21T13:00:00Z")
    assert clock(sev2, "first_response").due_at == utc("2026-11-23T18:00:00Z")


def test_openback_before_onboarding_gets_growth_targets() -> None:
    load_example_policy("openback")
    contact = customer_on("openback-pro", onboarded=False)
    ticket = open_ticket(contact.user, severity=1, when="2026-11-21T10:00:00Z")
    assert ticket.plan.slug == "openback-growth"
    assert clock(ticket, "first_response").due_at == utc("2026-11-21T16:00:00Z")  # 6 hours


# -- Prismic: acknowledge vs initial response -------------------------------------------------


def test_prismic_assignment_meets_acknowledge_but_not_initial_response() -> None:
    load_example_policy("prismic")
    contact = customer_on("prismic-enterprise-premium", time_zone="Europe/Paris")
    ticket = open_ticket(
        contact.user,
        severity=1,
        when="2026-11-23T09:00:00Z",
        category=(contact.organization.contracts.get().plan.categories.get(slug="issue-report")),
    )
    agent = AgentFactory.create()
    with at("2026-11-23T09:40:00Z"):
        services.ticket_assign(ticket=ticket, assignee=agent, by=agent)
    acknowledge, first = clock(ticket, "acknowledge"), clock(ticket, "first_response")
    assert (acknowledge.state, acknowledge.met_at) == (ClockState.MET, utc("2026-11-23T09:40:00Z"))
    assert acknowledge.breached_at is None
    assert first.state == ClockState.RUNNING
    with at("2026-11-23T14:00:00Z"):
        services.ticket_reply(ticket=ticket, author=agent, body="Looking into it.")
    first.refresh_from_db()
    # Due at 13:00 UTC (4 business hours from 10:00 Paris): met late.
    assert (first.state, first.breached_at) == (ClockState.MET, utc("2026-11-23T13:00:00Z"))


def test_an_internal_note_is_not_a_first_response(resolution_plan) -> None:
    ticket = open_ticket(resolution_plan.user, severity=1, when="2026-11-23T09:00:00Z")
    with at("2026-11-23T09:10:00Z"):
        services.ticket_reply(ticket=ticket, author=AgentFactory.create(), body="hm", internal=True)
    assert clock(ticket, "first_response").state == ClockState.RUNNING


# -- pause, resume, resolve from waiting ------------------------------------------------------


def test_waiting_on_customer_pauses_resolution_and_the_reply_moves_due(
    resolution_plan,
) -> None:
    ticket = open_ticket(resolution_plan.user, severity=1, when="2026-11-23T09:00:00Z")
    agent = AgentFactory.create()
    with at("2026-11-23T10:00:00Z"):
        services.ticket_set_status(ticket=ticket, status="waiting", by=agent)
    paused = clock(ticket, "resolution")
    assert (paused.state, paused.next_action_at) == (ClockState.PAUSED, None)
    with at("2026-11-23T12:30:00Z"):
        services.ticket_reply(ticket=ticket, author=resolution_plan.user, body="Here are logs.")
    resumed = clock(ticket, "resolution")
    assert resumed.state == ClockState.RUNNING
    assert resumed.paused_business == dt.timedelta(hours=2, minutes=30)
    assert resumed.due_at == utc("2026-11-23T21:30:00Z")
    assert resumed.original_due_at == utc("2026-11-23T19:00:00Z")
    kinds = list(resumed.events.values_list("kind", flat=True))
    assert kinds == ["started", "paused", "resumed"]


def test_a_paused_clock_never_escalates(
    resolution_plan,
    django_capture_on_commit_callbacks,
) -> None:
    ticket = open_ticket(resolution_plan.user, severity=1, when="2026-11-23T09:00:00Z")
    with at("2026-11-23T09:30:00Z"):
        services.ticket_set_status(ticket=ticket, status="waiting", by=AgentFactory.create())
    result = run_sweep("2026-11-25T09:00:00Z", django_capture_on_commit_callbacks)
    assert result.fired == 0
    assert not EscalationFiring.objects.filter(clock__metric="resolution").exists()
    assert clock(ticket, "resolution").breached_at is None


def test_resolving_straight_from_waiting_keeps_the_paused_time(
    resolution_plan,
) -> None:
    ticket = open_ticket(resolution_plan.user, severity=1, when="2026-11-23T09:00:00Z")
    agent = AgentFactory.create()
    with at("2026-11-23T10:00:00Z"):
        services.ticket_set_status(ticket=ticket, status="waiting", by=agent)
    with at("2026-11-23T13:00:00Z"):
        services.ticket_resolve(ticket=ticket, by=agent)
    resolution = clock(ticket, "resolution")
    assert resolution.state == ClockState.MET
    assert resolution.paused_business == dt.timedelta(hours=3)
    assert resolution.business_elapsed == dt.timedelta(hours=1)


def test_the_percentage_rule_fires_at_half_the_target(
    resolution_plan,
    django_capture_on_commit_callbacks,
) -> None:
    ticket = open_ticket(resolution_plan.user, severity=1, when="2026-11-23T09:00:00Z")
    assert run_sweep("2026-11-23T13:59:00Z", django_capture_on_commit_callbacks).fired == 0
    mail.outbox.clear()
    assert run_sweep("2026-11-23T14:00:10Z", django_capture_on_commit_callbacks).fired == 1
    assert mail.outbox[0].to == ["warn@vendor.example"]
    assert ticket.reference in mail.outbox[0].subject


# -- severity change and reopen ---------------------------------------------------------------


def test_a_severity_change_retargets_from_the_original_start_with_the_reason(
    resolution_plan,
) -> None:
    ticket = open_ticket(resolution_plan.user, severity=2, when="2026-11-23T09:00:00Z")
    assert clock(ticket, "first_response").due_at == utc("2026-11-23T17:00:00Z")
    with at("2026-11-23T10:00:00Z"):
        services.ticket_change_severity(
            ticket=ticket, level=1, by=AgentFactory.create(), reason="All users are affected."
        )
    first = clock(ticket, "first_response")
    assert first.due_at == utc("2026-11-23T11:00:00Z")  # 2h from 09:00, not from 10:00
    assert first.original_due_at == utc("2026-11-23T17:00:00Z")
    event = first.events.get(kind=SlaClockEvent.Kind.RETARGETED)
    assert event.reason == "All users are affected."
    assert clock(ticket, "acknowledge").due_at == utc("2026-11-23T10:00:00Z")


def test_reopening_starts_a_new_resolution_cycle_and_keeps_the_old_one(
    resolution_plan,
) -> None:
    ticket = open_ticket(resolution_plan.user, severity=1, when="2026-11-23T09:00:00Z")
    agent = AgentFactory.create()
    with at("2026-11-23T11:00:00Z"):
        services.ticket_resolve(ticket=ticket, by=agent)
    with at("2026-11-24T08:00:00Z"):
        services.ticket_reopen(ticket=ticket, by=resolution_plan.user, reason="Still broken")
    first, second = clock(ticket, "resolution", 1), clock(ticket, "resolution", 2)
    assert (first.state, first.met_at) == (ClockState.MET, utc("2026-11-23T11:00:00Z"))
    assert (second.state, second.started_at) == (ClockState.RUNNING, utc("2026-11-24T08:00:00Z"))
    assert second.due_at == utc("2026-11-24T18:00:00Z")


def test_the_ladder_fires_again_in_a_new_cycle(
    resolution_plan,
    django_capture_on_commit_callbacks,
) -> None:
    ticket = open_ticket(resolution_plan.user, severity=1, when="2026-11-23T09:00:00Z")
    agent = AgentFactory.create()
    run_sweep("2026-11-23T14:30:00Z", django_capture_on_commit_callbacks)
    with at("2026-11-23T15:00:00Z"):
        services.ticket_resolve(ticket=ticket, by=agent)
        services.ticket_reopen(ticket=ticket, by=agent)
    run_sweep("2026-11-23T20:30:00Z", django_capture_on_commit_callbacks)
    assert EscalationFiring.objects.filter(clock__ticket=ticket).count() == 2


def test_closing_as_out_of_scope_cancels_the_clocks(resolution_plan) -> None:
    ticket = open_ticket(resolution_plan.user, severity=1, when="2026-11-23T09:00:00Z")
    with at("2026-11-23T09:30:00Z"):
        services.ticket_close_out_of_scope(
            ticket=ticket, by=AgentFactory.create(), reason="Product training"
        )
    states = set(SlaClock.objects.filter(ticket=ticket).values_list("state", "next_action_at"))
    assert states == {(ClockState.CANCELLED, None)}


def test_a_rule_moving_the_ticket_puts_it_in_the_queue(
    django_capture_on_commit_callbacks,
) -> None:
    load_example_policy("moboom")
    contact = customer_on("moboom-partner", time_zone="America/Los_Angeles")
    Queue.objects.create(slug="l2", name="L2", position=2)
    ticket = open_ticket(contact.user, severity=1, when="2026-11-21T18:00:00Z")
    run_sweep("2026-11-21T22:00:30Z", django_capture_on_commit_callbacks)
    ticket.refresh_from_db()
    assert ticket.queue.slug == "l2"
    assert EscalationFiring.objects.get(clock__ticket=ticket).moved_to == "l2"


# -- scale and races --------------------------------------------------------------------------


def _due_tickets(contact, count: int) -> None:
    for _ in range(count):
        open_ticket(contact.user, severity=1, when="2026-11-23T09:00:00Z")


def _sweep_queries() -> tuple[int, int]:
    """Queries of one sweep (savepoints aside); the emails it queues are sent by a worker."""
    with at("2026-11-23T14:00:30Z"), CaptureQueriesContext(connection) as queries:
        result = sweep()
    statements = [q for q in queries if "SAVEPOINT" not in q["sql"].upper()]
    return len(statements), result.fired


def test_the_sweep_runs_the_same_queries_for_10_and_100_due_clocks(
    resolution_plan,
) -> None:
    counts = []
    for due in (10, 100):
        SlaClock.objects.all().delete()
        Ticket.objects.all().delete()
        _due_tickets(resolution_plan, due)
        queries, fired = _sweep_queries()
        assert fired == due
        counts.append(queries)
    if connection.vendor == "sqlite":
        # SQLite caps a statement at 999 parameters, so Django splits the bulk writes of 100
        # rows into a few statements (clocks, events, firings, notifications, the breaches'
        # outcome rows): per batch of rows, never per ticket.
        assert counts[1] - counts[0] <= 7
    else:
        assert counts[1] == counts[0]


def test_queue_moves_and_every_role_cost_the_sweep_the_same_queries_for_10_and_30_tickets(
    resolution_plan,
) -> None:
    plan = Plan.objects.get(slug="r24")
    l2 = Queue.objects.create(slug="l2", name="L2", position=2)
    l2.agents.add(AgentFactory.create(username="second", email="second@vendor.example"))
    managers = Group.objects.get_or_create(name="support managers")[0]
    managers.user_set.add(UserFactory.create(username="boss", email="boss@vendor.example"))
    Group.objects.create(name="directors").user_set.add(
        UserFactory.create(username="director", email="director@vendor.example")
    )
    EscalationRuleFactory.create(
        plan=plan,
        severity=plan.policy.severities.get(level=1),
        metric="resolution",
        after=dt.timedelta(hours=4),
        after_percent=None,
        notify=["assignee", "queue", "support_managers", "group:directors"],
        move_to="l2",
    )
    counts = []
    for due in (10, 30):
        SlaClock.objects.all().delete()
        Ticket.objects.all().delete()
        _due_tickets(resolution_plan, due)
        queries, fired = _sweep_queries()
        assert fired == 2 * due
        assert Ticket.objects.filter(queue=l2).count() == due
        counts.append(queries)
    if connection.vendor == "sqlite":
        # SQLite's 999-parameter cap splits the bulk INSERTs of 30 tickets' events and mails
        # into a few more statements: per batch of rows, never per ticket.
        assert counts[1] - counts[0] <= 6
    else:
        assert counts[1] == counts[0]


def test_open_tickets_not_yet_due_cost_the_sweep_nothing(resolution_plan) -> None:
    for _ in range(50):
        open_ticket(resolution_plan.user, severity=1, when="2026-11-23T13:30:00Z")
    queries, fired = _sweep_queries()
    assert (queries, fired) == (1, 0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_fire_each_escalation_once(resolution_plan) -> None:
    for _ in range(30):
        open_ticket(resolution_plan.user, severity=1, when="2026-11-23T09:00:00Z")
    barrier = threading.Barrier(2)
    results = []

    def worker() -> None:
        try:
            barrier.wait()
            with at("2026-11-23T14:00:30Z"):
                results.append(sweep())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.fired for r in results) == 30
    assert EscalationFiring.objects.count() == 30
    assert EscalationFiring.objects.values("clock", "rule").distinct().count() == 30


def test_rungs_firing_together_each_notify_the_queue_they_moved_the_ticket_to(
    django_capture_on_commit_callbacks,
) -> None:
    load_example_policy("moboom")
    contact = customer_on("moboom-partner", time_zone="America/Los_Angeles")
    l2 = Queue.objects.create(slug="l2", name="L2", position=2)
    l3 = Queue.objects.create(slug="l3", name="L3", position=3)
    l2.agents.add(AgentFactory.create(username="second", email="second@vendor.example"))
    l3.agents.add(AgentFactory.create(username="third", email="third@vendor.example"))
    ticket = open_ticket(contact.user, severity=1, when="2026-11-21T18:00:00Z")
    # A worker outage: both rungs (4h: L2, 8h: L3) are due at the next sweep.
    run_sweep("2026-11-22T06:00:00Z", django_capture_on_commit_callbacks)
    firings = EscalationFiring.objects.filter(clock__ticket=ticket).order_by("due_at")
    assert [(f.moved_to, f.notified, f.late) for f in firings] == [
        ("l2", ["second@vendor.example"], True),
        ("l3", ["third@vendor.example"], True),
    ]
    ticket.refresh_from_db()
    assert ticket.queue == l3
