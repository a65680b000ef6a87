"""Open tickets in every standing and SLA phase, on plans of several priorities and severities
of several levels, with ties, for the queue's order (summaries as `ticket_sla` writes them)."""

import datetime as dt
import itertools
import random
from types import SimpleNamespace

from django.utils import timezone

from sla.standing import TicketSla, ticket_sla
from tests.factories import (
    AgentFactory,
    PlanFactory,
    PolicyFactory,
    QueueFactory,
    SeverityFactory,
    TicketFactory,
)
from tickets.models import Status, Ticket

H = dt.timedelta(hours=1)


def summaries(now: dt.datetime) -> dict[str, TicketSla]:
    """One summary per case the queue tells apart, around `now`."""
    return {
        "breached": TicketSla(breach_at=now - 2 * H, risk_at=now - 3 * H, due_at=now - 2 * H),
        "breached before another is due": TicketSla(
            breach_at=now - H, risk_at=now + H, due_at=now + 3 * H
        ),
        "at risk": TicketSla(breach_at=now + H, risk_at=now - H, due_at=now + H),
        "at risk later": TicketSla(breach_at=now + 3 * H, risk_at=now + H, due_at=now + 3 * H),
        "on track": TicketSla(breach_at=now + 5 * H, risk_at=now + 2 * H, due_at=now + 5 * H),
        "on track without a risk instant": TicketSla(breach_at=now + 6 * H, due_at=now + 6 * H),
        "paused": TicketSla(paused=True),
        "paused, another breached before its pause": TicketSla(breach_at=now - H, paused=True),
        "paused, a breach recorded later": TicketSla(breach_at=now + 2 * H, paused=True),
        "breached before its pause": TicketSla(breach_at=now - H / 2),
        "a breach recorded later, nothing running": TicketSla(breach_at=now + 2 * H),
        "nothing live": TicketSla(),
    }


INSTANTS = [-4 * H, dt.timedelta(0), 90 * dt.timedelta(minutes=1), 4 * H, 8 * H]
"""Reading instants around the summaries' `now`: every standing turns at one of them."""


def set_summary(ticket: Ticket, summary: TicketSla) -> Ticket:
    Ticket.objects.filter(pk=ticket.pk).update(
        sla_breach_at=summary.breach_at,
        sla_risk_at=summary.risk_at,
        sla_due_at=summary.due_at,
        sla_paused=summary.paused,
    )
    return ticket


def build_varied_queue(now: dt.datetime | None = None) -> SimpleNamespace:
    """Each summary on plans of priority 2, 0 and -1 and severities 1 and 3, with equal creation
    instants in pairs (ties go to the id), assignees and tiers alternating; closed tickets too.
    """
    now = now or timezone.now()
    policy = PolicyFactory.create(slug="queue-order")
    plans = [
        PlanFactory.create(policy=policy, slug=f"queue-p{priority}", priority=priority)
        for priority in (2, 0, -1)
    ]
    severities = [SeverityFactory.create(policy=policy, level=level) for level in (1, 3)]
    agents = [AgentFactory.create(username=f"queue-agent-{n}") for n in range(2)]
    tiers = [QueueFactory.create(slug=f"queue-tier-{n}") for n in range(2)]
    tickets = []
    combos = itertools.product(summaries(now).items(), plans, severities)
    for n, ((name, summary), plan, severity) in enumerate(combos):
        ticket = TicketFactory.create(
            plan=plan,
            severity=severity,
            subject=name,
            created_at=now - dt.timedelta(minutes=n // 2),
            assignee=agents[n % 2],
            queue=tiers[n // 2 % 2],
        )
        tickets.append(set_summary(ticket, summary))
    for status in (Status.RESOLVED, Status.CLOSED):
        TicketFactory.create(plan=plans[0], severity=severities[0], status=status)
    return SimpleNamespace(
        now=now, plans=plans, severities=severities, agents=agents, tiers=tiers, tickets=tickets
    )


def random_summary(rnd: random.Random, now: dt.datetime) -> TicketSla:
    """The summary `ticket_sla` makes of a few random live clocks around `now`."""

    def instant() -> dt.datetime:
        return now + dt.timedelta(minutes=rnd.randint(-600, 600))

    clocks = []
    for _ in range(rnd.randint(0, 3)):
        state = rnd.choice(["running", "breached", "paused"])
        due = instant()
        clocks.append(
            SimpleNamespace(
                state=state,
                target=H,
                due_at=due,
                at_risk_at=rnd.choice([None, due - H / 4]),
                paused_at=min(instant(), now) if state == "paused" else None,
                met_at=None,
                breached_at=due if state == "breached" and due <= now else None,
            )
        )
    return ticket_sla(clocks)
