"""What each ticket stores so the agents' queue reads its order from indexes.

- The SLA summary of its live clocks (`sla.standing.TicketSla`): `sla` calls
  `tickets_refresh_sla` (registered at start-up) in the same transaction as every change to
  clocks, so the stored summary always agrees with the clocks. Two queries for any number of
  tickets: their live clocks, and one update; then what the SLA report counts of the clocks
  that changed (`tickets.outcomes.outcomes_refresh`: one query, more when an outcome changed).
- Its queue rank (`tickets.queue_order.queue_rank`), set with its plan and severity by the
  ticket services; `plans` calls `tickets_refresh_rank` (registered at start-up) when a policy
  changes a plan's priority or a severity's level, in the same transaction. One update.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from django.db.models import Q

from helpdesk.db import bulk_set
from sla.models import LIVE_STATES, SlaClock
from sla.services import ClockChange
from sla.standing import ClockFacts, ticket_sla
from tickets.models import Ticket
from tickets.outcomes import CLOCK_FIELDS, outcomes_refresh
from tickets.queue_order import queue_rank_sql

SUMMARY_FIELDS = ["sla_breach_at", "sla_risk_at", "sla_due_at", "sla_paused"]
STORED = [f"ticket__{name}" for name in SUMMARY_FIELDS]
"""The summary a ticket stores now, read with its clocks (tickets whose summary is unchanged are
not written: each write updates the queue's indexes)."""


def tickets_refresh_sla(
    ticket_ids: set[int],
    clock_ids: set[int] | None = None,
    *,
    change: ClockChange = ClockChange.CHANGED,
) -> None:
    """Recompute the stored SLA summary of these tickets from their live clocks, and what the
    SLA report counts (`tickets.outcomes`) of the clocks that changed (`clock_ids`; all the
    tickets' clocks when not given).

    Two queries for the summary, whatever the number of tickets: their live clocks (with the
    summary each stores now), and one update of the tickets whose summary changed (each write
    updates the queue's indexes). A breach recorded at the due
    instant (the sweep) leaves the summary as it was (it holds that instant as the breach
    instant): only what the report counts is refreshed.
    """
    if change != ClockChange.BREACHED:
        _refresh_summaries(ticket_ids)
    if clock_ids is None:
        outcomes_refresh(ticket_ids)
    else:
        changed = SlaClock.objects.filter(pk__in=clock_ids).order_by()
        outcomes_refresh(ticket_ids, changed.values_list(*CLOCK_FIELDS, named=True))


def _refresh_summaries(ticket_ids: set[int]) -> None:
    clocks: dict[int, list[Any]] = defaultdict(list)
    stored: dict[int, tuple[Any, ...]] = {}
    # Named rows, not model instances: a recalculation refreshes a thousand tickets a chunk.
    live = SlaClock.objects.filter(
        ticket_id__in=ticket_ids, state__in=LIVE_STATES, target__isnull=False
    ).order_by()
    for clock in live.values_list(
        "ticket_id",
        "state",
        "target",
        "due_at",
        "at_risk_at",
        "paused_at",
        "met_at",
        "breached_at",
        *STORED,
        named=True,
    ):
        clocks[clock.ticket_id].append(clock)
        stored[clock.ticket_id] = tuple(clock[-len(STORED) :])
    # Named values again, not Ticket instances (each would set two dozen fields); only the
    # tickets whose summary changed.
    tickets = []
    for ticket_id in sorted(ticket_ids):
        wanted = _summary_values(clocks.get(ticket_id, []))
        if stored.get(ticket_id) == wanted:
            continue
        fields = dict(zip(SUMMARY_FIELDS, wanted, strict=True))
        tickets.append(SimpleNamespace(id=ticket_id, **fields))
    bulk_set(tickets, SUMMARY_FIELDS, model=Ticket)


def summary_set(ticket: Ticket, clocks: Sequence[ClockFacts]) -> None:
    """Set a ticket's SLA summary from all its live clocks (a new ticket's, not yet saved)."""
    for name, value in zip(SUMMARY_FIELDS, _summary_values(clocks), strict=True):
        setattr(ticket, name, value)


def _summary_values(clocks: Sequence[ClockFacts]) -> tuple[Any, ...]:
    """What a ticket stores of these clocks (`ticket_sla`), in `SUMMARY_FIELDS` order."""
    summary = ticket_sla(clocks)
    return (summary.breach_at, summary.risk_at, summary.due_at, summary.paused)


def tickets_refresh_rank(plan_ids: set[int], severity_ids: set[int]) -> None:
    """Recompute the queue rank of the tickets of these plans or severities (one update)."""
    Ticket.objects.filter(Q(plan_id__in=plan_ids) | Q(severity_id__in=severity_ids)).update(
        queue_rank=queue_rank_sql()
    )
