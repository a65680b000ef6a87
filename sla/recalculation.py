"""Retarget the live clocks after a calendar, closure or target changed (`recalculate_sla`, and
the calendar admin's action), over hundreds of thousands of clocks, while agents work.

- Bounded memory: the clocks are read in chunks by primary key (keyset pagination: each chunk
  asks for the next `chunk` ids after the last one seen), never as one list; the run keeps
  only the terms of each plan x severity x category x zone, the organizations' zones, and the
  ids it had to put off.
- Agents are never locked out: each chunk is its own short transaction that takes its tickets
  with `SKIP LOCKED` (then their clocks: the lock order of every service), so an agent who
  acts on a ticket of that chunk waits at most for that one chunk to commit, and the
  recalculation never waits for an agent.
- Nothing is skipped for good: the clocks of tickets an agent held at that moment are retried
  after the pass, a few times with `SKIP LOCKED` and growing pauses, and then once waiting for
  the lock (an agent's transaction is short).
- A fixed number of queries per chunk: the clocks with their tickets, one INSERT of events, one
  UPDATE of the clocks that changed, and the tickets' stored SLA summaries in two.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import Q, QuerySet

from helpdesk import timing
from plans.models import Organization
from sla.models import LIVE_STATES, SlaClock
from sla.services import TermsCache, clocks_retarget, lock_clock_tickets

CHUNK = 1000
# Seconds to wait before each retry of the clocks whose tickets were busy; after the last, one
# round waits for the locks.
RETRY_PAUSES = (0.1, 0.5, 2.0)

Rows = list[tuple[int, int]]  # (clock id, ticket id)


class _Run:
    """One recalculation: what it keeps from chunk to chunk, and what it did."""

    def __init__(self, progress: Callable[[int], object] | None) -> None:
        self.progress = progress
        self.terms: TermsCache = {}
        self.organizations: dict[int, Organization] = {}
        self.changed = 0

    def chunk(self, rows: Rows, *, skip_locked: bool) -> Rows:
        """Retarget these clocks in one transaction; returns those of tickets held elsewhere."""
        with transaction.atomic():
            locked = set(lock_clock_tickets({t for _, t in rows}, skip_locked=skip_locked))
            ids = [pk for pk, ticket_id in rows if ticket_id in locked]
            clocks = list(
                SlaClock.objects.select_for_update(of=("self",))
                .select_related("calendar", "ticket")
                .filter(pk__in=ids, state__in=LIVE_STATES)
                .order_by("ticket_id", "metric", "cycle")
            )
            self._attach_organizations(clocks)
            self.changed += clocks_retarget(
                clocks=clocks,
                at=timing.now(),
                reason="policy changed: recalculated",
                terms=self.terms,
            )
        if self.progress is not None and ids:
            self.progress(len(ids))
        return [(pk, ticket_id) for pk, ticket_id in rows if ticket_id not in locked]

    def _attach_organizations(self, clocks: list[SlaClock]) -> None:
        """Each ticket's organization (its zone decides local business hours), read once a run."""
        missing = {c.ticket.organization_id for c in clocks} - self.organizations.keys()
        if missing:
            self.organizations.update(Organization.objects.in_bulk(missing))
        for clock in clocks:
            clock.ticket.organization = self.organizations[clock.ticket.organization_id]


def clocks_recalculate(
    *,
    calendar_ids: Iterable[int] | None = None,
    plan_ids: Iterable[int] | None = None,
    chunk: int = CHUNK,
    progress: Callable[[int], object] | None = None,
) -> int:
    """Retarget the live clocks on these calendars or plans (all live clocks if neither is
    given). Met, cancelled and earlier-cycle clocks keep their history. `progress` is told how
    many clocks each chunk did. Returns how many clocks were retargeted."""
    live = _live_clocks(calendar_ids=calendar_ids, plan_ids=plan_ids)
    run = _Run(progress)
    busy: Rows = []
    last = 0
    while True:
        rows = list(live.filter(pk__gt=last).order_by("pk").values_list("pk", "ticket_id")[:chunk])
        if not rows:
            break
        last = rows[-1][0]
        busy += run.chunk(rows, skip_locked=True)
    for pause in (*RETRY_PAUSES, None):
        if not busy:
            break
        time.sleep(pause or 0)
        again, busy = busy, []
        for first in range(0, len(again), chunk):
            busy += run.chunk(again[first : first + chunk], skip_locked=pause is not None)
    return run.changed


def live_clock_count(
    *, calendar_ids: Iterable[int] | None = None, plan_ids: Iterable[int] | None = None
) -> int:
    return _live_clocks(calendar_ids=calendar_ids, plan_ids=plan_ids).count()


def _live_clocks(
    *, calendar_ids: Iterable[int] | None, plan_ids: Iterable[int] | None
) -> QuerySet[SlaClock]:
    """Live clocks on these calendars or plans; all live clocks when neither is given."""
    live = SlaClock.objects.filter(state__in=LIVE_STATES)
    if calendar_ids is not None or plan_ids is not None:
        live = live.filter(
            Q(calendar_id__in=list(calendar_ids or [])) | Q(plan_id__in=list(plan_ids or []))
        )
    return live
