"""The SLA report's data set: every answer is worked out by hand in tests/tickets/reports.

The manager works in America/New_York; the period is November 2026 there, i.e.
[2026-11-01 04:00 UTC, 2026-12-01 05:00 UTC). Clock D breaches at 2026-12-01 03:00 UTC, which is
still 30 November in New York: a November breach, though UTC would call it December.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from types import SimpleNamespace
from typing import Any

from django.contrib.auth.models import Group

from sla.models import EscalationFiring, SlaClock
from tests.factories import (
    AgentFactory,
    OrganizationFactory,
    PlanFactory,
    PolicyFactory,
    QueueFactory,
    SeverityFactory,
    SlaClockFactory,
    TicketFactory,
    UserFactory,
    UserProfileFactory,
)
from tickets.models import CustomerEscalation

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 12, 10, 12, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


def report_clock(*, metric: str, started_at: dt.datetime | None = None, **fields: Any) -> SlaClock:
    """A clock on its own ticket; the ticket's fields (plan, severity, queue, assignee,
    organization) and the clock's are named, the ticket opened when the clock started."""
    ticket_fields = {
        key: fields.pop(key)
        for key in ("plan", "severity", "queue", "assignee", "organization")
        if key in fields
    }
    ticket = TicketFactory.create(created_at=started_at or utc(2026, 11, 1, 12), **ticket_fields)
    return SlaClockFactory.create(
        ticket=ticket, metric=metric, started_at=ticket.created_at, **fields
    )


def make_manager(username: str = "manny", zone: str = "America/New_York") -> Any:
    """A support manager who reads times in `zone`."""
    user = UserFactory.create(username=username)
    UserProfileFactory.create(user=user, time_zone=zone)
    user.groups.add(Group.objects.get_or_create(name="support managers")[0])
    return user


def build_report_dataset() -> SimpleNamespace:
    """Two plans, two severities, two queues, two agents, two organizations, known outcomes."""
    policy = PolicyFactory.create(slug="acme-policy")
    gold = PlanFactory.create(policy=policy, slug="gold", name="Gold")
    silver = PlanFactory.create(policy=policy, slug="silver", name="Silver")
    sev1 = SeverityFactory.create(policy=policy, level=1, name="Critical")
    sev2 = SeverityFactory.create(policy=policy, level=2, name="Major")
    l1 = QueueFactory.create(slug="l1", name="L1", position=1)
    l2 = QueueFactory.create(slug="l2", name="L2", position=2)
    alice = AgentFactory.create(username="alice", first_name="Alice", last_name="Archer")
    bob = AgentFactory.create(username="bob", first_name="Bob", last_name="Baker")
    acme = OrganizationFactory.create(slug="acme", name="Acme", time_zone="America/New_York")
    globex = OrganizationFactory.create(slug="globex", name="Globex", time_zone="Europe/London")
    ns = SimpleNamespace(**locals())

    # Counted in November (New York): A, B and H met on time; C and D breached.
    ns.a = report_clock(
        plan=gold,
        severity=sev1,
        queue=l1,
        assignee=alice,
        organization=acme,
        metric="first_response",
        started_at=utc(2026, 11, 5, 14),
        met_at=utc(2026, 11, 5, 15),
        state="met",
        business_elapsed=1 * H,
    )
    ns.b = report_clock(
        plan=gold,
        severity=sev1,
        queue=l1,
        assignee=alice,
        organization=acme,
        metric="acknowledge",
        started_at=utc(2026, 11, 6, 14),
        met_at=utc(2026, 11, 6, 14, 30),
        state="met",
        business_elapsed=H / 2,
    )
    ns.c = report_clock(
        plan=gold,
        severity=sev2,
        queue=l2,
        assignee=bob,
        organization=acme,
        metric="first_response",
        started_at=utc(2026, 11, 10, 9),
        breached_at=utc(2026, 11, 10, 15),
        met_at=utc(2026, 11, 10, 18),
        state="met",
        business_elapsed=5 * H,
    )
    ns.d = report_clock(
        plan=silver,
        severity=sev2,
        queue=l2,
        assignee=bob,
        organization=globex,
        metric="resolution",
        target=24 * H,
        started_at=utc(2026, 11, 30, 3),
        breached_at=utc(2026, 12, 1, 3),
        state="breached",
    )
    ns.h = report_clock(
        plan=gold,
        severity=sev2,
        queue=l2,
        assignee=bob,
        organization=globex,
        metric="first_response",
        started_at=utc(2026, 11, 20, 9),
        met_at=utc(2026, 11, 20, 12),
        state="met",
        business_elapsed=3 * H,
    )
    # Not counted: E met at 01:00 on 1 December in New York, F met in October, G has no target,
    # I breached in October (met in November: each clock counts once, when it breached).
    ns.e = report_clock(
        plan=silver,
        severity=sev1,
        queue=l1,
        assignee=None,
        organization=globex,
        metric="first_response",
        started_at=utc(2026, 12, 1, 5),
        met_at=utc(2026, 12, 1, 6),
        state="met",
        business_elapsed=1 * H,
    )
    ns.f = report_clock(
        plan=gold,
        severity=sev1,
        queue=l1,
        assignee=alice,
        organization=acme,
        metric="first_response",
        started_at=utc(2026, 10, 31, 10),
        met_at=utc(2026, 10, 31, 12),
        state="met",
        business_elapsed=2 * H,
    )
    ns.g = report_clock(
        plan=silver,
        severity=sev1,
        queue=l1,
        assignee=alice,
        organization=acme,
        metric="resolution",
        target=None,
        started_at=utc(2026, 11, 3, 10),
        met_at=utc(2026, 11, 4, 10),
        state="met",
    )
    ns.i = report_clock(
        plan=silver,
        severity=sev2,
        queue=l1,
        assignee=alice,
        organization=acme,
        metric="acknowledge",
        started_at=utc(2026, 10, 30, 10),
        breached_at=utc(2026, 10, 30, 14),
        met_at=utc(2026, 11, 2, 10),
        state="met",
    )

    # Live now (NOW = 2026-12-10 12:00 UTC), 4h targets.
    ns.r1 = report_clock(
        plan=gold,
        severity=sev1,
        queue=l1,
        assignee=alice,
        organization=acme,
        metric="first_response",
        started_at=NOW - 3.5 * H,
    )
    ns.r2 = report_clock(
        plan=gold,
        severity=sev1,
        queue=l1,
        assignee=alice,
        organization=acme,
        metric="first_response",
        started_at=NOW - 1 * H,
    )
    ns.r3 = report_clock(
        plan=gold,
        severity=sev2,
        queue=l2,
        assignee=bob,
        organization=globex,
        metric="first_response",
        started_at=NOW - 1 * H,
        at_risk_at=NOW - dt.timedelta(minutes=1),
    )
    # r4 ran overnight: 86% of the wall-clock span gone, but its business time says not yet.
    ns.r4 = report_clock(
        plan=gold,
        severity=sev2,
        queue=l2,
        assignee=bob,
        organization=globex,
        metric="first_response",
        started_at=NOW - 12 * H,
        due_at=NOW + 2 * H,
        at_risk_at=NOW + 1 * H,
    )
    ns.p1 = report_clock(
        plan=gold,
        severity=sev1,
        queue=l1,
        assignee=alice,
        organization=acme,
        metric="resolution",
        started_at=NOW - 3.8 * H,
        state="paused",
        paused_at=NOW - H,
    )
    ns.x1 = report_clock(
        plan=silver,
        severity=sev2,
        queue=l2,
        assignee=bob,
        organization=globex,
        metric="resolution",
        started_at=NOW - 6 * H,
        breached_at=NOW - 2 * H,
        state="breached",
    )
    ns.x2 = report_clock(
        plan=gold,
        severity=sev1,
        queue=l1,
        assignee=None,
        organization=acme,
        metric="acknowledge",
        started_at=NOW - 5 * H,
    )

    # Escalations: C's and D's rules fired in November (New York), one in October.
    for fired_clock, fired_at in [
        (ns.c, utc(2026, 11, 10, 13)),
        (ns.d, utc(2026, 12, 1, 2)),
        (ns.f, utc(2026, 10, 31, 11)),
    ]:
        EscalationFiring.objects.create(
            clock=fired_clock,
            rule_text="75% warning",
            due_at=fired_at,
            fired_at=fired_at,
            sweep=uuid.uuid4(),
        )
    requester = UserFactory.create(username="customer")
    for ticket, org, at, unwarranted in [
        (ns.a.ticket, acme, utc(2026, 11, 5, 16), False),
        (ns.b.ticket, acme, utc(2026, 11, 6, 16), True),
        (ns.h.ticket, globex, utc(2026, 11, 21, 9), True),
        (ns.f.ticket, acme, utc(2026, 10, 31, 13), True),
    ]:
        CustomerEscalation.objects.create(
            ticket=ticket,
            organization=org,
            requested_by=requester,
            reason="Please hurry",
            requested_at=at,
            unwarranted=unwarranted,
        )
    return ns
