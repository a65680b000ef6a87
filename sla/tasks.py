"""django-q2 tasks of the SLA app."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import timedelta

from django.utils import timezone

from helpdesk import metrics
from sla.models import SweepRun
from sla.services import SWEEP_BATCH, SweepResult, sweep

SWEEP_JOB = "sla-sweep"
# A run drains what is due in batches (each its own transaction), but stops starting new
# batches after this long so it ends before django-q2's task timeout (60 s).
DRAIN_FOR = timedelta(seconds=40)


def sweep_task() -> dict[str, int]:
    """Run by the `sla-sweep` schedule every minute (see `setup_schedules`): sweep until nothing
    is due (or `DRAIN_FOR` passed), then record the run for `/readyz` and the metrics."""
    started = time.perf_counter()
    begun = timezone.now()
    total = SweepResult()
    while True:
        result = sweep(batch=SWEEP_BATCH)
        for name, value in asdict(result).items():
            setattr(total, name, getattr(total, name) + value)
        if result.clocks < SWEEP_BATCH or timezone.now() - begun > DRAIN_FOR:
            break
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
