"""What each ticket stores so the agents' queue reads its order from indexes.

- The SLA summary of its live clocks (`sla.standing.TicketSla`): `sla` calls
  `tickets_refresh_sla` (registered at start-up) in the same transaction as every change to
  clocks, so the stored summary always agrees with the clocks. Two queries for any number of
  tickets: their live and counted clocks (with the rows that count them), and one update; then
  what the SLA report counts of them (`tickets.outcomes.outcomes_refresh`, no query when no
  outcome changed).
- Its queue rank (`tickets.queue_order.queue_rank`), set with its plan and severity by the
  ticket services; `plans` calls `tickets_refresh_rank` (registered at start-up) when a policy
  changes a plan's priority or a severity's level, in the same transaction. One update.
"""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace
from typing import Any

from django.db.models import Q

from helpdesk.db import bulk_set
from sla.models import LIVE_STATES, SlaClock
from sla.standing import ticket_sla
from tickets.models import Ticket
from tickets.outcomes import CLOCK_FIELDS, CONCERNED, outcomes_refresh
from tickets.queue_order import queue_rank_sql

SUMMARY_FIELDS = ["sla_breach_at", "sla_risk_at", "sla_due_at", "sla_paused"]
STORED = [f"ticket__{name}" for name in SUMMARY_FIELDS]
"""The summary a ticket stores now, read with its clocks (tickets whose summary is unchanged are
not written: each write updates the queue's indexes)."""


def tickets_refresh_sla(ticket_ids: set[int], *, breached: set[int] | None = None) -> None:
    """Recompute the stored SLA summary of these tickets from their live clocks, and what the
    SLA report counts of them (`tickets.outcomes`) from their counted clocks.

    `breached` (the sweep): only these clocks changed, by a breach recorded at their due
    instant, which the summary already holds as the breach instant; so only what the report
    counts of those clocks is refreshed (one query, then the rows they add).
    """
    if breached is not None:
        changed = SlaClock.objects.filter(pk__in=breached).order_by()
        outcomes_refresh(ticket_ids, changed.values_list(*CLOCK_FIELDS, named=True))
        return
    clocks: dict[int, list[Any]] = defaultdict(list)
    counted = []
    # Named rows, not model instances: a recalculation refreshes a thousand tickets a chunk.
    live = Q(state__in=LIVE_STATES, target__isnull=False)
    rows = SlaClock.objects.filter(live | CONCERNED, ticket_id__in=ticket_ids).order_by()
    stored: dict[int, tuple[Any, ...]] = {}
    for clock in rows.values_list(
        "state", "target", "due_at", "at_risk_at", "paused_at", *CLOCK_FIELDS, *STORED, named=True
    ):
        if clock.state in LIVE_STATES and clock.target is not None:
            clocks[clock.ticket_id].append(clock)
        counted.append(clock)
        stored[clock.ticket_id] = tuple(clock[-len(STORED) :])
    # Named values again, not Ticket instances (each would set two dozen fields); only the
    # tickets whose summary changed (a breach, for one, is already the summary's breach instant).
    tickets = []
    for ticket_id in sorted(ticket_ids):
        summary = ticket_sla(clocks.get(ticket_id, []))
        wanted = (summary.breach_at, summary.risk_at, summary.due_at, summary.paused)
        if stored.get(ticket_id) == wanted:
            continue
        tickets.append(
            SimpleNamespace(
                id=ticket_id,
                sla_breach_at=summary.breach_at,
                sla_risk_at=summary.risk_at,
                sla_due_at=summary.due_at,
                sla_paused=summary.paused,
            )
        )
    bulk_set(tickets, SUMMARY_FIELDS, model=Ticket)
    outcomes_refresh(ticket_ids, counted)


def tickets_refresh_rank(plan_ids: set[int], severity_ids: set[int]) -> None:
    """Recompute the queue rank of the tickets of these plans or severities (one update)."""
    Ticket.objects.filter(Q(plan_id__in=plan_ids) | Q(severity_id__in=severity_ids)).update(
        queue_rank=queue_rank_sql()
    )
