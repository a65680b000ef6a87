"""The SLA summary a ticket stores always agrees with its clocks, whatever changes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine

from sla.models import LIVE_STATES, SlaClock
from sla.services import sweep
from sla.standing import TicketSla, ticket_sla
from tests.factories import AgentFactory, customer_on, load_example_policy
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC)  # Monday, inside London hours


def stored(ticket: Ticket) -> TicketSla:
    row = Ticket.objects.get(pk=ticket.pk)
    return TicketSla(row.sla_breach_at, row.sla_risk_at, row.sla_due_at, row.sla_paused)


def from_clocks(ticket: Ticket) -> TicketSla:
    return ticket_sla(
        list(SlaClock.objects.filter(ticket=ticket, state__in=LIVE_STATES, target__isnull=False))
    )


def test_the_stored_summary_follows_every_change_to_the_clocks() -> None:
    load_example_policy("openback")
    contact = customer_on("openback-enterprise", time_zone="Europe/London")
    agent = AgentFactory()
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
        ("closed", lambda t: services.ticket_close(ticket=t, by=contact.user)),
    ]
    with time_machine.travel(START, tick=False):
        ticket = services.ticket_create(
            requester=contact.user, subject="Push fails", body="No pushes.", severity_level=3
        )
    assert stored(ticket) == from_clocks(ticket) != TicketSla()
    for hours, (name, step) in enumerate(steps, start=1):
        with time_machine.travel(START + dt.timedelta(hours=3 * hours), tick=False):
            step(Ticket.objects.get(pk=ticket.pk))
        assert stored(ticket) == from_clocks(ticket), name
    assert stored(ticket) == TicketSla()
