"""What a ticket stores for the queue always agrees with its source, whatever changes it: the SLA
summary with its clocks, the queue rank with its plan's priority and its severity's level."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
import yaml
from django.core.management import call_command

from plans.models import Plan, Severity
from plans.ranking import priorities_changed
from sla.models import LIVE_STATES, SlaClock
from sla.recalculation import clocks_recalculate
from sla.services import sweep
from sla.standing import TicketSla, ticket_sla
from tests.factories import AgentFactory, TicketFactory, customer_on, load_example_policy
from tickets import services
from tickets.models import Ticket
from tickets.queue_order import queue_rank

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC)  # Monday, inside London hours


def stored(ticket: Ticket) -> TicketSla:
    row = Ticket.objects.get(pk=ticket.pk)
    return TicketSla(row.sla_breach_at, row.sla_risk_at, row.sla_due_at, row.sla_paused)


def stored_rank(ticket: Ticket) -> int:
    return Ticket.objects.get(pk=ticket.pk).queue_rank


def rank_from_plan(ticket: Ticket) -> int:
    row = Ticket.objects.select_related("plan", "severity").get(pk=ticket.pk)
    return queue_rank(row.plan.priority, row.severity.level)


def reload_openback(tmp_path: Path, **priorities: int) -> None:
    """Load the OpenBack example policy with these plans' priorities changed."""
    policy = yaml.safe_load(Path("examples/policies/openback.yaml").read_text())
    for plan in policy["plans"]:
        plan["priority"] = priorities.get(plan["slug"].replace("-", "_"), plan.get("priority", 0))
    path = tmp_path / "openback.yaml"
    path.write_text(yaml.safe_dump(policy))
    call_command("load_policy", str(path), stdout=StringIO())


def from_clocks(ticket: Ticket) -> TicketSla:
    return ticket_sla(
        list(SlaClock.objects.filter(ticket=ticket, state__in=LIVE_STATES, target__isnull=False))
    )


def test_the_stored_summary_and_rank_follow_every_change_to_the_clocks(tmp_path: Path) -> None:
    load_example_policy("openback")
    contact = customer_on("openback-enterprise", time_zone="Europe/London")
    agent = AgentFactory.create()
    steps: list[tuple[str, Callable[[Ticket], Any]]] = [
        ("acknowledged", lambda t: services.ticket_acknowledge(ticket=t, by=agent)),
        ("replied", lambda t: services.ticket_reply(ticket=t, author=agent, body="Looking.")),
        (
            "waiting",
            lambda t: services.ticket_set_status(ticket=t, status="waiting", by=agent),
        ),
        (
            "customer replied",
            lambda t: services.ticket_reply(ticket=t, author=contact.user, body="Logs."),
        ),
        (
            "severity changed",
            lambda t: services.ticket_change_severity(ticket=t, level=1, by=agent, reason="Down"),
        ),
        ("swept", lambda t: sweep()),
        ("resolved", lambda t: services.ticket_resolve(ticket=t, by=agent)),
        ("reopened", lambda t: services.ticket_reopen(ticket=t, by=contact.user, reason="Again")),
        (
            "priority raised by a policy reload",
            lambda t: reload_openback(tmp_path, openback_enterprise=7),
        ),
        ("recalculated", lambda t: clocks_recalculate(plan_ids=[t.plan_id])),
        (
            "severity changed again",
            lambda t: services.ticket_change_severity(ticket=t, level=2, by=agent, reason="Slow"),
        ),
        ("closed", lambda t: services.ticket_close(ticket=t, by=contact.user)),
    ]
    with time_machine.travel(START, tick=False):
        ticket = services.ticket_create(
            requester=contact.user, subject="Push fails", body="No pushes.", severity_level=3
        )
    assert stored(ticket) == from_clocks(ticket) != TicketSla()
    assert stored_rank(ticket) == rank_from_plan(ticket) == queue_rank(2, 3)
    for hours, (name, step) in enumerate(steps, start=1):
        with time_machine.travel(START + dt.timedelta(hours=3 * hours), tick=False):
            step(Ticket.objects.get(pk=ticket.pk))
        assert stored(ticket) == from_clocks(ticket), name
        assert stored_rank(ticket) == rank_from_plan(ticket), name
    assert stored(ticket) == TicketSla()
    assert stored_rank(ticket) == queue_rank(7, 2)


def test_a_reload_that_keeps_the_priorities_leaves_the_ranks(tmp_path: Path) -> None:
    load_example_policy("openback")
    contact = customer_on("openback-enterprise", time_zone="Europe/London")
    ticket = services.ticket_create(
        requester=contact.user, subject="Slow", body="Pages are slow.", severity_level=3
    )
    Ticket.objects.filter(pk=ticket.pk).update(queue_rank=-1)  # so a rewrite would show
    reload_openback(tmp_path)
    assert stored_rank(ticket) == -1


def test_a_severity_level_changed_reranks_its_tickets() -> None:
    ticket = TicketFactory.create()
    severity = Severity.objects.get(pk=ticket.severity_id)
    severity.level = 4
    severity.save()
    priorities_changed(severity_ids={severity.pk})
    assert stored_rank(ticket) == queue_rank(0, 4)


def test_a_plan_priority_changed_reranks_its_tickets_only() -> None:
    ticket, other = TicketFactory.create(), TicketFactory.create()
    Plan.objects.filter(pk=ticket.plan_id).update(priority=-2)
    priorities_changed(plan_ids={ticket.plan_id})
    assert (stored_rank(ticket), stored_rank(other)) == (queue_rank(-2, 3), queue_rank(0, 3))
