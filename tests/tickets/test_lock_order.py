"""One lock order (a ticket, then its clocks): agents and sweeps at once never deadlock."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from helpdesk.db import RetryStats
from sla.models import ClockState, EscalationFiring, SlaClock
from sla.services import sweep
from tests.factories import (
    AgentFactory,
    EscalationRuleFactory,
    PlanFactory,
    QueueFactory,
    SeverityFactory,
    TargetFactory,
    customer_on,
)
from tickets import services
from tickets.models import Status, Ticket

TICKETS = 300
AGENTS = 3
SWEEPERS = 2


def deadlocks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


@pytest.fixture
def due_tickets() -> list[int]:
    """Tickets opened two hours ago: a move-to-queue rule and a breach are due on each."""
    plan = PlanFactory.create(slug="busy")
    severity = SeverityFactory.create(policy=plan.policy, level=1)
    TargetFactory.create(plan=plan, severity=severity, acknowledge=dt.timedelta(hours=1))
    EscalationRuleFactory.create(
        plan=plan,
        severity=severity,
        metric="resolution",
        after=dt.timedelta(minutes=1),
        after_percent=None,
        notify=["email:lead@vendor.example"],
        move_to="l2",
    )
    QueueFactory.create(slug="l2", name="L2", position=2)
    contact = customer_on("busy", time_zone="UTC")
    with time_machine.travel(timezone.now() - dt.timedelta(hours=2), tick=True):
        return [
            services.ticket_create(
                requester=contact.user, subject=f"Down {n}", body="Down.", severity_level=1
            ).pk
            for n in range(TICKETS)
        ]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_agents_resolving_while_sweeps_escalate_never_deadlock(due_tickets: list[int]) -> None:
    agents = [AgentFactory.create() for _ in range(AGENTS)]
    retried_before = sum(RetryStats.retried.values())
    deadlocks_before = deadlocks()
    failures: list[BaseException] = []
    fired: list[int] = []
    resolved: list[int] = []
    agents_done = threading.Event()
    start = threading.Barrier(AGENTS + SWEEPERS)

    def agent_work(n: int) -> None:
        try:
            start.wait()
            for ticket_id in due_tickets[n::AGENTS]:
                try:
                    services.ticket_resolve(ticket=Ticket(pk=ticket_id), by=agents[n])
                    resolved.append(ticket_id)
                except Exception as exc:
                    failures.append(exc)
        finally:
            connection.close()

    def sweeper() -> None:
        try:
            start.wait()
            while True:
                done = agents_done.is_set()
                try:
                    fired.append(sweep(batch=20).fired)
                except Exception as exc:
                    failures.append(exc)
                if done:
                    return
                time.sleep(0.005)
        finally:
            connection.close()

    threads = [threading.Thread(target=agent_work, args=(n,)) for n in range(AGENTS)]
    sweepers = [threading.Thread(target=sweeper) for _ in range(SWEEPERS)]
    began = time.monotonic()
    for thread in threads + sweepers:
        thread.start()
    for thread in threads:
        thread.join()
    agents_done.set()
    for thread in sweepers:
        thread.join()
    elapsed = time.monotonic() - began

    print(
        f"\n{TICKETS} tickets, {AGENTS} agents, {SWEEPERS} sweepers: {len(resolved)} resolved, "
        f"{sum(fired)} firings, {len(failures)} failures, "
        f"{deadlocks() - deadlocks_before} deadlocks, "
        f"{sum(RetryStats.retried.values()) - retried_before} retries, {elapsed:.1f} s"
    )
    assert failures == []
    assert deadlocks() - deadlocks_before == 0
    assert sorted(resolved) == sorted(due_tickets)
    assert Ticket.objects.filter(status=Status.RESOLVED).count() == TICKETS
    assert not SlaClock.objects.filter(state__in=[ClockState.RUNNING, ClockState.BREACHED]).exists()
    # Each firing is recorded once; a ticket resolved before its sweep simply never fired.
    assert EscalationFiring.objects.count() == sum(fired)
    assert EscalationFiring.objects.values("clock", "rule").distinct().count() == sum(fired)
