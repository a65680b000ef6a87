"""Prometheus instruments that code updates as things happen (counters and histograms).

Every web and worker process writes its own values; with `PROMETHEUS_MULTIPROC_DIR` set (the
production commands set it) they are files in that folder and `/metrics` adds them up across
the processes of the machine (prometheus-client's multiprocess mode). Without it (tests, a
laptop) they live in the process. What is read from the database when Prometheus scrapes
(open clocks by standing, queue depth, failed tasks) is in `helpdesk.scrape`.

This module is a leaf helper: any layer may import it, it imports no app.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram, disable_created_metrics

# The `_created` series double what is scraped and say nothing a counter reset does not.
disable_created_metrics()

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# Escalation lag: the scheduler wakes about every 30 s and the sweep runs every minute.
_LAG_BUCKETS = (1, 5, 10, 20, 30, 45, 60, 75, 90, 120, 180, 300, 600, 1800, 3600)

REQUESTS = Counter(
    "helpdesk_http_requests",
    "HTTP requests answered, by view, method and status code.",
    ["view", "method", "status"],
)
REQUEST_LATENCY = Histogram(
    "helpdesk_http_request_duration_seconds",
    "Time to answer an HTTP request, by view.",
    ["view", "method"],
    buckets=_LATENCY_BUCKETS,
)
SWEEP_DURATION = Histogram(
    "helpdesk_sla_sweep_duration_seconds",
    "Duration of one scheduled SLA sweep run (all its batches).",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
SWEEP_CLOCKS = Counter("helpdesk_sla_sweep_clocks", "Clock rows the SLA sweep examined.")
BREACHES = Counter("helpdesk_sla_breaches", "SLA breaches recorded by the sweep.")
ESCALATIONS_FIRED = Counter(
    "helpdesk_escalations_fired",
    "Escalation rules fired; late: fired more than LATE_AFTER after their instant.",
    ["late"],
)
ESCALATION_DUPLICATES = Counter(
    "helpdesk_escalation_duplicates_skipped",
    "Firings another sweep had already recorded (the unique constraint held).",
)
ESCALATION_LAG = Histogram(
    "helpdesk_escalation_lag_seconds",
    "From an escalation's due instant to its mail handed to the mail backend.",
    buckets=_LAG_BUCKETS,
)
MAILS_SENT = Counter(
    "helpdesk_mails_sent", "Mails handed to the mail backend, by template.", ["template"]
)
MAILS_RECEIVED = Counter(
    "helpdesk_mails_received", "Inbound mails accepted, by outcome.", ["outcome"]
)


def observe_mail_sent(*, template: str, due_at: dt.datetime | None, sent_at: dt.datetime) -> None:
    """Called where a mail is handed to the backend; `due_at`: the escalation's due instant."""
    MAILS_SENT.labels(template=template).inc()
    if due_at is not None:
        ESCALATION_LAG.observe(max((sent_at - due_at).total_seconds(), 0.0))


def observe_mail_received(*, outcome: str) -> None:
    """For the inbound mail handler: `outcome` such as `new_ticket`, `reply`, `duplicate`."""
    MAILS_RECEIVED.labels(outcome=outcome).inc()


def observe_sweep(
    *, seconds: float, clocks: int, breached: int, fired: int, late: int, duplicates: int
) -> None:
    SWEEP_DURATION.observe(seconds)
    SWEEP_CLOCKS.inc(clocks)
    BREACHES.inc(breached)
    ESCALATIONS_FIRED.labels(late="false").inc(fired - late)
    ESCALATIONS_FIRED.labels(late="true").inc(late)
    ESCALATION_DUPLICATES.inc(duplicates)


class RequestMetricsMiddleware:
    """Latency and status of every request, labelled with the view's URL name (bounded:
    never the path, which holds ticket references)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or "-") if match is not None else "(no view)"
        method = request.method if request.method in _METHODS else "other"
        REQUESTS.labels(view=view, method=method, status=str(response.status_code)).inc()
        REQUEST_LATENCY.labels(view=view, method=method).observe(elapsed)
        return response


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
