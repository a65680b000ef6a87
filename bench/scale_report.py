"""The SLA report at scale: its figures and its page over the last 30, 90 and 365 days.

Run from the repository root against the scale database (`bench/scale.py` builds it and calls
`report_periods` at the end of its run):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_scale \\
        .venv/bin/python bench/scale_report.py [--rounds 10]

For each period it prints the p50 and p95 of `sla_report` (every figure of the page) and of the
whole page, with their query counts, in the manager's zone of the bench (Europe/London), and
whether the report's figures (weekly roll-ups) equal the detailed queries' over the outcome rows,
with the time those took.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import report_bench as base  # also sets Django up
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tickets.reports.sla_queries import (
    ReportFilters,
    breakdown,
    period_for_dates,
    sla_report,
    weekly_trend,
)

PERIODS = (30, 90, 365)


def timed(label: str, run: Callable[[], Any], rounds: int) -> None:
    """p50 and p95 over `rounds` runs after one warm-up, and the query count."""
    times, counts = [], set()
    run()
    for _ in range(rounds):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            run()
            times.append((time.perf_counter() - started) * 1000)
        counts.add(len(captured.captured_queries))
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    queries = "/".join(str(c) for c in sorted(counts))
    print(
        f"{label:<46} p50 {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms  queries {queries}",
        flush=True,
    )


def report_periods(rounds: int = 10, now: dt.datetime | None = None) -> None:
    """Time the report's figures and its page over the last 30, 90 and 365 local days."""
    now = now or timezone.now()
    zone = ZoneInfo(base.ZONE)
    today = now.astimezone(zone).date()
    client = base.manager_client()
    for days in PERIODS:
        first = today - dt.timedelta(days=days - 1)
        start, end = period_for_dates(first, today, zone)
        filters = ReportFilters(start=start, end=end, zone=zone)
        report = sla_report(filters, now=now)
        counted = report.breakdown.overall.total
        print(f"last {days} days: {counted:,} clocks counted", flush=True)
        started = time.perf_counter()
        same = report.breakdown == breakdown(filters) and report.trend == weekly_trend(filters)
        took = (time.perf_counter() - started) * 1000
        print(
            f"  roll-up figures identical to the detailed queries' ({took:,.0f} ms): {same}",
            flush=True,
        )
        timed(f"report figures, last {days} days", figures(filters, now), rounds)
        url = f"/reports/sla/?start={first}&end={today}"
        timed(f"report page, last {days} days", page(client, url), rounds)


def figures(filters: ReportFilters, now: dt.datetime) -> Callable[[], None]:
    def run() -> None:
        sla_report(filters, now=now)

    return run


def page(client: Client, url: str) -> Callable[[], None]:
    def run() -> None:
        base.ok(client.get(url))

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("bench/scale_report.py measures PostgreSQL: set DATABASE_URL")
    print(f"database: {connection.settings_dict['NAME']}")
    report_periods(args.rounds)


if __name__ == "__main__":
    main()
