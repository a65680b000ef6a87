"""The report, its CSV and the statement run as many queries for 1,000 clocks as for 10."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sla.models import EscalationFiring, SlaClock
from tests.builders.sla_report import make_manager
from tests.factories import (
    AgentFactory,
    OrganizationFactory,
    PlanFactory,
    QueueFactory,
    SeverityFactory,
    TicketFactory,
    UserFactory,
)
from tickets.models import CustomerEscalation

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 10, 12, tzinfo=dt.UTC)
NOVEMBER = {"start": "2026-11-01", "end": "2026-11-30"}
H = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


def tickets() -> list[Any]:
    """Eight tickets across two plans, organizations, queues, agents and severities."""
    plans = [PlanFactory.create(slug="gold"), PlanFactory.create(slug="silver")]
    orgs = [OrganizationFactory.create(slug="acme"), OrganizationFactory.create(slug="globex")]
    queues = [QueueFactory.create(slug="l1"), QueueFactory.create(slug="l2")]
    agents = [AgentFactory.create(), AgentFactory.create()]
    return [
        TicketFactory.create(
            plan=plans[i % 2],
            severity=SeverityFactory.create(policy=plans[i % 2].policy, level=1 + i % 3),
            organization=orgs[i // 2 % 2],
            queue=queues[i // 4 % 2],
            assignee=agents[i % 2],
            created_at=dt.datetime(2026, 11, 2, tzinfo=dt.UTC),
        )
        for i in range(8)
    ]


def add_clocks(count: int, first_cycle: int = 1) -> None:
    """`count` clocks: met on time, met late, breached open, at risk, running, with firings."""
    ticket_list = tickets() if first_cycle == 1 else list(TicketFactory._meta.model.objects.all())
    rows = []
    metrics = ["acknowledge", "first_response", "resolution"]
    for n in range(first_cycle, first_cycle + count):
        ticket = ticket_list[n % len(ticket_list)]
        kind = n % 5
        started = dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(hours=n % 700)
        if kind >= 3:
            started = NOW - (3.5 if kind == 3 else 1) * H
        due = started + 4 * H
        rows.append(
            SlaClock(
                ticket=ticket,
                metric=metrics[n % 3],
                cycle=n,
                plan_id=ticket.plan_id,
                severity_id=ticket.severity_id,
                calendar=ticket.plan.support_hours.calendar,
                target=4 * H,
                started_at=started,
                due_at=due,
                original_due_at=due,
                met_at={0: started + H, 1: due + H}.get(kind),
                business_elapsed={0: H, 1: 5 * H}.get(kind),
                breached_at=due if kind in (1, 2) else None,
                state={0: "met", 1: "met", 2: "breached"}.get(kind, "running"),
            )
        )
    created = SlaClock.objects.bulk_create(rows)
    EscalationFiring.objects.bulk_create(
        EscalationFiring(
            clock=clock,
            rule_text="breach",
            due_at=clock.due_at,
            fired_at=clock.due_at,
            sweep=uuid.uuid4(),
        )
        for clock in created
        if clock.breached_at
    )
    requester = UserFactory.create(username="customer")
    CustomerEscalation.objects.bulk_create(
        CustomerEscalation(
            ticket=clock.ticket,
            organization_id=clock.ticket.organization_id,
            requested_by=requester,
            reason="Faster please",
            requested_at=clock.started_at,
            unwarranted=bool(clock.cycle % 2),
        )
        for clock in created[::3]
    )


def queries_for(client: Client, url: str, params: dict[str, str]) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url, params).status_code == 200
    return len(context.captured_queries)


@pytest.fixture
def manager() -> Client:
    client = Client()
    client.force_login(make_manager())
    return client


PAGES: dict[str, Callable[[], tuple[str, dict[str, str]]]] = {
    "report": lambda: (reverse("reports:report"), NOVEMBER),
    "report filtered": lambda: (
        reverse("reports:report"),
        {**NOVEMBER, "plan": "gold", "organization": "acme", "queue": "l1", "severity": "1"},
    ),
    "csv": lambda: (reverse("reports:export"), NOVEMBER),
    "statement": lambda: (reverse("reports:statement", args=["acme", "2026-11"]), {}),
}


@pytest.mark.parametrize("page", PAGES)
def test_query_count_is_the_same_for_10_and_1000_clocks(
    manager: Client, django_assert_num_queries: Any, page: str
) -> None:
    url, params = PAGES[page]()
    add_clocks(10)
    small = queries_for(manager, url, params)
    add_clocks(990, first_cycle=11)
    assert SlaClock.objects.count() == 1000
    with django_assert_num_queries(small):
        manager.get(url, params)
