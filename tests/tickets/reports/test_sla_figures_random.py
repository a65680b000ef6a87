"""The report's outcome figures equal a plain count in Python, for random clocks and filters.

Clocks end (are met or breach) close to local midnights of whole-hour, half-hour and
quarter-hour zones, so periods and weeks are cut exactly where a zone's day starts. Both the
report (on PostgreSQL: one pass over the `clock_outcome` index) and the detailed queries are
compared with the count.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from collections import defaultdict
from types import SimpleNamespace
from typing import Any

import pytest

from sla.models import SlaClock
from tests.builders.sla_report import NOW, build_report_dataset
from tests.factories import TicketFactory
from tickets.reports.sla_queries import (
    Breakdown,
    ReportFilters,
    Tally,
    breakdown,
    fold_breakdown,
    fold_trend,
    period_for_dates,
    sla_report,
    weekly_trend,
)

pytestmark = pytest.mark.django_db

ZONES = [
    dt.UTC,
    zoneinfo.ZoneInfo("America/New_York"),
    zoneinfo.ZoneInfo("America/St_Johns"),  # -3:30 / -2:30
    zoneinfo.ZoneInfo("Asia/Kolkata"),  # +5:30
    zoneinfo.ZoneInfo("Asia/Kathmandu"),  # +5:45
    zoneinfo.ZoneInfo("Australia/Lord_Howe"),  # +10:30 / +11, a half-hour DST shift
]
METRICS = ["acknowledge", "first_response", "resolution"]
H = dt.timedelta(hours=1)


def local_midnight_near(rnd: random.Random) -> dt.datetime:
    """An instant within minutes of a local midnight of one of the zones, in autumn 2026."""
    day = dt.date(2026, 9, 1) + dt.timedelta(days=rnd.randrange(100))
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=rnd.choice(ZONES))
    return (midnight + dt.timedelta(seconds=rnd.randint(-900, 900))).astimezone(dt.UTC)


def random_clocks(data: SimpleNamespace, count: int, rnd: random.Random) -> None:
    """Tickets over every plan, severity, queue, agent and organization, and `count` clocks:
    met on time, met late, breached and open, breached and met, running, without a target."""
    tickets = [
        TicketFactory(
            organization=rnd.choice([data.acme, data.globex]),
            plan=rnd.choice([data.gold, data.silver]),
            severity=rnd.choice([data.sev1, data.sev2]),
            queue=rnd.choice([data.l1, data.l2, None]),
            assignee=rnd.choice([data.alice, data.bob, None]),
            created_at=dt.datetime(2026, 8, 1, tzinfo=dt.UTC),
        )
        for _ in range(12)
    ]
    calendar = data.gold.support_hours.calendar
    rows = []
    for n in range(count):
        ticket = rnd.choice(tickets)
        ended = local_midnight_near(rnd)
        kind = rnd.choice(["on_time", "late", "breached_open", "running", "no_target"])
        breached = ended if kind in ("late", "breached_open") else None
        met = {"on_time": ended, "late": ended + rnd.choice([H, 50 * H]), "no_target": ended}
        rows.append(
            SlaClock(
                ticket=ticket,
                metric=rnd.choice(METRICS),
                cycle=n + 1,
                plan=rnd.choice([data.gold, data.silver]),
                severity=rnd.choice([data.sev1, data.sev2]),
                calendar=calendar,
                target=None if kind == "no_target" else 4 * H,
                started_at=ended - 5 * H,
                due_at=None if kind == "no_target" else ended - H,
                met_at=met.get(kind),
                breached_at=breached,
                business_elapsed=2 * H if kind in ("on_time", "late", "no_target") else None,
                state="met" if kind in ("on_time", "late", "no_target") else "running",
            )
        )
    SlaClock.objects.bulk_create(rows)


def random_filters(data: SimpleNamespace, rnd: random.Random) -> ReportFilters:
    zone = rnd.choice(ZONES)
    first = dt.date(2026, 9, 1) + dt.timedelta(days=rnd.randrange(80))
    start, end = period_for_dates(first, first + dt.timedelta(days=rnd.randrange(60)), zone)
    maybe = lambda *values: rnd.choice([None, None, *values])  # noqa: E731
    return ReportFilters(
        start=start,
        end=end,
        zone=zone,
        plan=maybe(data.gold, data.silver),
        organization=maybe(data.acme, data.globex),
        severity=maybe(1, 2),
        queue=maybe(data.l1, data.l2),
        agent=maybe(data.alice, data.bob),
        metric=maybe(*METRICS),
    )


def counted_in_python(filters: ReportFilters) -> tuple[Breakdown, list[Tally]]:
    """The figures counted clock by clock: outcome instant = breached_at, else met_at."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    weeks: dict[dt.date, dict[str, int]] = defaultdict(lambda: {"met_on_time": 0, "breached": 0})
    clocks = SlaClock.objects.select_related(
        "plan", "severity", "ticket__queue", "ticket__assignee"
    )
    for clock in clocks:
        ticket = clock.ticket
        outcome = clock.breached_at or clock.met_at
        if clock.target is None or outcome is None or not filters.start <= outcome < filters.end:
            continue
        wanted = [
            (filters.plan, clock.plan),
            (filters.organization, ticket.organization),
            (filters.severity, clock.severity.level),
            (filters.queue, ticket.queue),
            (filters.agent, ticket.assignee),
            (filters.metric, clock.metric),
        ]
        if any(want is not None and want != value for want, value in wanted):
            continue
        assignee = ticket.assignee
        key = (clock.metric, clock.plan_id, clock.severity.level, ticket.queue_id, assignee)
        row = groups.setdefault(
            key,
            {
                "metric": clock.metric,
                "plan_id": clock.plan_id,
                "plan__name": clock.plan.name,
                "severity__level": clock.severity.level,
                "ticket__queue_id": ticket.queue_id,
                "ticket__queue__name": ticket.queue.name if ticket.queue else None,
                "ticket__assignee_id": ticket.assignee_id,
                "ticket__assignee__username": getattr(assignee, "username", None),
                "ticket__assignee__first_name": getattr(assignee, "first_name", None),
                "ticket__assignee__last_name": getattr(assignee, "last_name", None),
                "met_on_time": 0,
                "breached": 0,
            },
        )
        outcome_kind = "breached" if clock.breached_at else "met_on_time"
        row[outcome_kind] += 1
        local_day = outcome.astimezone(filters.zone).date()
        weeks[local_day - dt.timedelta(days=local_day.weekday())][outcome_kind] += 1
    week_rows = [{"week": monday, **counts} for monday, counts in weeks.items()]
    return fold_breakdown(groups.values(), filters), fold_trend(week_rows, filters)


@pytest.fixture
def filter_sets() -> list[ReportFilters]:
    rnd = random.Random(20261202)
    data = build_report_dataset()
    random_clocks(data, 400, rnd)
    return [random_filters(data, rnd) for _ in range(30)]


def test_the_report_counts_what_a_clock_by_clock_count_counts(
    filter_sets: list[ReportFilters],
) -> None:
    counted = 0
    for filters in filter_sets:
        report = sla_report(filters, now=NOW)
        expected_breakdown, expected_trend = counted_in_python(filters)
        assert report.breakdown == expected_breakdown, filters
        assert report.trend == expected_trend, filters
        counted += report.breakdown.overall.total
    assert counted > 100  # the comparison is not between empty reports only


def test_the_detailed_queries_count_what_a_clock_by_clock_count_counts(
    filter_sets: list[ReportFilters],
) -> None:
    for filters in filter_sets:
        expected_breakdown, expected_trend = counted_in_python(filters)
        assert breakdown(filters) == expected_breakdown, filters
        assert weekly_trend(filters) == expected_trend, filters
