"""`/healthz` (the process answers) and `/readyz` (it can do its work): JSON, 200 or 503.

`/readyz` checks, cheaply and without saying more than "ok" or what failed: the database
answers, the task broker answers, every migration is applied, and the SLA sweep finished
within `SWEEP_MAX_AGE` (the schedule runs it every minute). A load balancer should route on
`/healthz` (or `/readyz` without the sweep in mind); monitoring alerts on `/readyz`, which turns
503 on every web node when the workers stop.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from helpdesk.queue import broker
from sla.models import SweepRun
from sla.tasks import SWEEP_JOB
from tickets.selectors import notification_backlog

log = logging.getLogger(__name__)

SWEEP_MAX_AGE = dt.timedelta(minutes=2)

# Migrations cannot become unapplied while this code runs: once all are applied, stop looking
# (reading the migration files costs tens of milliseconds).
_migrated = False


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    body: dict[str, object] = {"checks": checks}
    checks["database"] = _check("database", _database)
    checks["broker"] = _check("broker", _broker_ping)
    if checks["database"] == "ok":
        checks["migrations"] = _check("migrations", _migrations)
        last = SweepRun.objects.filter(name=SWEEP_JOB).values_list("finished_at", flat=True).first()
        now = timezone.now()
        if last is None:
            checks["sla_sweep"] = "never ran"
        else:
            age = now - last
            body["sla_sweep_age_seconds"] = max(int(age.total_seconds()), 0)
            checks["sla_sweep"] = "ok" if age <= SWEEP_MAX_AGE else "late"
        # Shown, not judged: a failed mail needs a person, not a restart of this process.
        # Ticket updates waiting out their grouping window are `held`, not unsent: not late.
        backlog = notification_backlog(now=now)
        body["notifications"] = {
            "unsent": backlog.unsent,
            "held": backlog.held,
            "failed": backlog.failed,
            "oldest_unsent_minutes": backlog.oldest_pending_minutes,
        }
    else:
        checks["migrations"] = checks["sla_sweep"] = "unknown"
    ready = all(value == "ok" for value in checks.values())
    body["status"] = "ok" if ready else "unavailable"
    return JsonResponse(body, status=200 if ready else 503)


def _check(name: str, probe: Callable[[], str | None]) -> str:
    try:
        result = probe()
    except Exception:
        log.warning("readiness check %s failed", name, exc_info=True)
        return "unreachable"
    return result if isinstance(result, str) else "ok"


def _database() -> str | None:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT 1")
    return None


def _broker_ping() -> str | None:
    return None if broker().ping() else "unreachable"


def _migrations() -> str | None:
    global _migrated
    if _migrated:
        return None
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        return "pending"
    _migrated = True
    return None
