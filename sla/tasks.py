"""django-q2 tasks of the SLA app.

The `sla-sweep` schedule starts a sweep run every minute (django-q2's scheduler wakes about
every 30 s, so a run starts up to 30 s after its minute, and the runs stay a minute apart).
A run does not sweep once and stop: it drains what is due, then *follows the due instants*:
it waits for the next one (reading it from the sweep's index) and sweeps again when it passes,
for `RUN_FOR` (half the task timeout). A run that finds nothing due before its end stops at once,
so a quiet system holds no worker. Consecutive runs overlap by the last batch, so a clock is
swept within about `MIN_PAUSE` plus one batch of its instant, instead of waiting up to a minute
and a half for the next scheduled sweep. Several runs at once (a catch-up, a slow run) are safe:
the sweep takes disjoint tickets and fires each rule once.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import datetime, timedelta

from django.db.models import Min
from django.utils import timezone
from django_q.conf import Conf

from helpdesk import metrics
from sla.models import SlaClock, SweepRun
from sla.services import SWEEP_BATCH, SweepResult, sweep

SWEEP_JOB = "sla-sweep"
# A run follows the due instants for half of django-q2's task timeout, leaving the other half to
# the batch under way when that time is up (a batch of SWEEP_BATCH takes seconds).
RUN_FOR = timedelta(seconds=Conf.TIMEOUT / 2) if Conf.TIMEOUT else timedelta(seconds=30)
# Between two batches that were not full: at least this long (a batch amortises its fixed
# queries over what fell due meanwhile) and at most `MAX_PAUSE` (a clock retargeted to "due now"
# by a severity change is not in the instant read before the pause).
MIN_PAUSE = timedelta(seconds=1)
MAX_PAUSE = timedelta(seconds=5)


def sweep_task() -> dict[str, int]:
    """Run by the `sla-sweep` schedule every minute (see `setup_schedules`): sweep what is due
    and follow the due instants for `RUN_FOR` (see the module's note), then record the run for
    `/readyz` and the metrics."""
    started = time.perf_counter()
    ends = time.monotonic() + RUN_FOR.total_seconds()
    total = SweepResult()
    while True:
        result = sweep(batch=SWEEP_BATCH)
        for name, value in asdict(result).items():
            setattr(total, name, getattr(total, name) + value)
        left = ends - time.monotonic()
        if left <= 0:
            break
        if result.clocks >= SWEEP_BATCH:
            continue  # more is due now
        pause = _pause(next_due=_next_due(), now=timezone.now(), left=left)
        if pause is None:
            break  # nothing falls due before the run ends: the next run takes it
        time.sleep(pause)
    seconds = time.perf_counter() - started
    SweepRun.objects.bulk_create(
        [
            SweepRun(
                name=SWEEP_JOB,
                finished_at=timezone.now(),
                duration=timedelta(seconds=seconds),
                clocks=total.clocks,
                fired=total.fired,
            )
        ],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["finished_at", "duration", "clocks", "fired"],
    )
    metrics.observe_sweep(
        seconds=seconds,
        clocks=total.clocks,
        breached=total.breached,
        fired=total.fired,
        late=total.late,
        duplicates=total.skipped_duplicates,
    )
    return asdict(total)


def _next_due() -> datetime | None:
    """The earliest instant the sweep must look at (the head of its partial index)."""
    found: datetime | None = SlaClock.objects.filter(next_action_at__isnull=False).aggregate(
        at=Min("next_action_at")
    )["at"]
    return found


def _pause(*, next_due: datetime | None, now: datetime, left: float) -> float | None:
    """Seconds to wait before the next batch, or None to end the run: nothing is pending, or
    the next instant comes after the `left` seconds of this run."""
    if next_due is None:
        return None
    wait = (next_due - now).total_seconds()
    if wait > left:
        return None
    return min(max(wait, MIN_PAUSE.total_seconds()), MAX_PAUSE.total_seconds())
