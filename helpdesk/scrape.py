"""`/metrics` for Prometheus: the processes' counters plus what the database says now.

Access: `Authorization: Bearer <METRICS_TOKEN>`, or a client address inside one of
`METRICS_ALLOWED_IPS` (addresses or CIDR networks, as the web server sees them). Anyone else
gets 403, and so does everyone when neither is configured.

Read at scrape time, in a handful of indexed queries: live SLA clocks by metric and standing,
escalations fired in the last hour (late, or notifying nobody), the task queue's depth, failed
tasks and the age of the last SLA sweep. Counters and histograms come from `helpdesk.metrics`,
summed over the machine's processes in multiprocess mode.
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import os
from collections.abc import Iterator

from django.conf import settings
from django.db.models import Case, CharField, Count, Value, When
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_q.models import Failure
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from helpdesk.health import broker
from sla.models import LIVE_STATES, EscalationFiring, SlaClock, SweepRun
from sla.selectors import standing_case
from sla.tasks import SWEEP_JOB

STANDINGS = ("no_target", "on_track", "at_risk", "breached", "paused")
RECENT = dt.timedelta(hours=1)


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not allowed(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        multiprocess.MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    database = CollectorRegistry(auto_describe=False)
    database.register(DatabaseCollector())
    body = generate_latest(processes) + generate_latest(database)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


def allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    offered = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return True
    try:
        client = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(
        client in ipaddress.ip_network(network, strict=False)
        for network in settings.METRICS_ALLOWED_IPS
    )


def clock_standing_counts(now: dt.datetime) -> dict[tuple[str, str], int]:
    """Live clocks by (metric, standing) at `now`, in one query: the one SLA standing
    (`sla.standing`, through its SQL twin)."""
    standing = standing_case(now=now)
    rows = (
        SlaClock.objects.filter(state__in=LIVE_STATES)
        .annotate(standing=standing)
        .values("metric", "standing")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {(row["metric"], row["standing"]): row["n"] for row in rows}


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        clocks = GaugeMetricFamily(
            "helpdesk_sla_open_clocks",
            "Live SLA clocks by metric and standing.",
            labels=["metric", "standing"],
        )
        counts = clock_standing_counts(now)
        for metric in SlaClock._meta.get_field("metric").choices or []:
            for standing in STANDINGS:
                clocks.add_metric([metric[0], standing], counts.get((metric[0], standing), 0))
        yield clocks

        recent = GaugeMetricFamily(
            "helpdesk_escalations_last_hour",
            "Escalations fired in the last hour, by lateness and who was told"
            " (fell_back: the support managers stood in).",
            labels=["late", "notified"],
        )
        rows = (
            EscalationFiring.objects.filter(fired_at__gte=now - RECENT)
            .annotate(
                told=Case(
                    When(fell_back=True, then=Value("fell_back")),
                    When(notified=[], then=Value("nobody")),
                    default=Value("someone"),
                    output_field=CharField(),
                )
            )
            .values("late", "told")
            .annotate(n=Count("id"))
            .order_by()
        )
        found = {(row["late"], row["told"]): row["n"] for row in rows}
        for late in (False, True):
            for told in ("someone", "fell_back", "nobody"):
                recent.add_metric([str(late).lower(), told], found.get((late, told), 0))
        yield recent

        yield GaugeMetricFamily(
            "helpdesk_task_queue_depth",
            "Tasks waiting in the django-q2 broker.",
            value=broker().queue_size() or 0,
        )
        yield GaugeMetricFamily(
            "helpdesk_tasks_failed",
            "Failed django-q2 tasks kept in the database.",
            value=Failure.objects.count(),
        )
        last = SweepRun.objects.filter(name=SWEEP_JOB).values_list("finished_at", flat=True).first()
        yield GaugeMetricFamily(
            "helpdesk_sla_sweep_last_finished_timestamp_seconds",
            "When the SLA sweep last finished (Unix time; 0: never).",
            value=last.timestamp() if last else 0,
        )
