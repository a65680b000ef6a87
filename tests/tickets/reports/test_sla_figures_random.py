"""The report's outcome figures equal a plain count in Python, for random clocks and filters.

Clocks end (are met or breach) close to local midnights of whole-hour, half-hour and
quarter-hour zones, so periods and weeks are cut exactly where a zone's day starts. The clocks
are told to the tickets app as the clock services tell it (`tickets_refresh_sla`), then the
tickets move to other queues and agents, which must not change what was counted (a clock counts
for the queue and agent of its ticket when its outcome was recorded), and the weekly roll-ups
are half folded. Both the report (weekly roll-ups and the rows at the edges) and the detailed
queries are compared with the count.
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
from tickets.models import Ticket
from tickets.outcomes import outcomes_compact
from tickets.reports.sla_queries import (
    Breakdown,
    ReportFilters,
    ResponseTimes,
    Tally,
    breakdown,
    fold_breakdown,
    fold_trend,
    period_for_dates,
    sla_report,
    weekly_trend,
)
from tickets.services.standing import tickets_refresh_sla

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
    """An instant within minutes of a local midnight of one of the zones, in autumn 2026; one
    in three anywhere in those days (the hours between local and UTC week starts too)."""
    day = dt.date(2026, 9, 1) + dt.timedelta(days=rnd.randrange(100))
    if rnd.random() < 1 / 3:
        return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(
            seconds=rnd.randrange(86400)
        )
    midnight = dt.datetime.combine(day, dt.time(), tzinfo=rnd.choice(ZONES))
    return (midnight + dt.timedelta(seconds=rnd.randint(-900, 900))).astimezone(dt.UTC)


Owners = dict[int, tuple[Any, Any]]
"""Per ticket: its queue and assignee when its clocks' outcomes were recorded."""


def random_clocks(data: SimpleNamespace, count: int, rnd: random.Random) -> Owners:
    """Tickets over every plan, severity, queue, agent and organization, and `count` clocks:
    met on time, met late, breached and open, breached and met, running, without a target."""
    tickets = [
        TicketFactory.create(
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
                business_elapsed=(
                    dt.timedelta(seconds=rnd.randint(60, 36000))
                    if kind in ("on_time", "late", "no_target")
                    else None
                ),
                state="met" if kind in ("on_time", "late", "no_target") else "running",
            )
        )
    SlaClock.objects.bulk_create(rows)
    tickets_refresh_sla({t.pk for t in tickets})  # as the clock services do
    return {t.pk: (t.queue, t.assignee) for t in tickets}


def move_tickets(data: SimpleNamespace, rnd: random.Random) -> None:
    """Every ticket to a random queue and agent (directly: no clock changes)."""
    for ticket in Ticket.objects.all():
        Ticket.objects.filter(pk=ticket.pk).update(
            queue=rnd.choice([data.l1, data.l2, None]),
            assignee=rnd.choice([data.alice, data.bob, None]),
        )


def random_filters(data: SimpleNamespace, rnd: random.Random) -> ReportFilters:
    zone = rnd.choice(ZONES)
    first = dt.date(2026, 8, 25) + dt.timedelta(days=rnd.randrange(90))
    start, end = period_for_dates(first, first + dt.timedelta(days=rnd.randrange(100)), zone)
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


def counted_in_python(filters: ReportFilters, owners: Owners) -> tuple[Breakdown, list[Tally]]:
    """The figures counted clock by clock: outcome instant = breached_at, else met_at; queue and
    agent: the ticket's when the outcome was recorded."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    weeks: dict[dt.date, dict[str, int]] = defaultdict(lambda: {"met_on_time": 0, "breached": 0})
    clocks = SlaClock.objects.select_related("plan", "severity", "ticket__organization")
    for clock in clocks:
        ticket = clock.ticket
        queue, assignee = owners[ticket.pk]
        outcome = clock.breached_at or clock.met_at
        if clock.target is None or outcome is None or not filters.start <= outcome < filters.end:
            continue
        wanted = [
            (filters.plan, clock.plan),
            (filters.organization, ticket.organization),
            (filters.severity, clock.severity.level),
            (filters.queue, queue),
            (filters.agent, assignee),
            (filters.metric, clock.metric),
        ]
        if any(want is not None and want != value for want, value in wanted):
            continue
        key = (clock.metric, clock.plan_id, clock.severity.level, queue, assignee)
        row = groups.setdefault(
            key,
            {
                "metric": clock.metric,
                "plan_id": clock.plan_id,
                "plan_name": clock.plan.name,
                "level": clock.severity.level,
                "queue_id": getattr(queue, "pk", None),
                "queue_name": getattr(queue, "name", None),
                "assignee_id": getattr(assignee, "pk", None),
                "username": getattr(assignee, "username", None),
                "first_name": getattr(assignee, "first_name", None),
                "last_name": getattr(assignee, "last_name", None),
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
def scenario() -> tuple[list[ReportFilters], Owners]:
    rnd = random.Random(20261202)
    data = build_report_dataset()
    owners = {t.pk: (t.queue, t.assignee) for t in Ticket.objects.select_related("queue")}
    owners |= random_clocks(data, 400, rnd)
    move_tickets(data, rnd)
    outcomes_compact(limit=100)  # some weeks folded, others still in deltas
    return [random_filters(data, rnd) for _ in range(40)], owners


def test_the_report_counts_what_a_clock_by_clock_count_counts(
    scenario: tuple[list[ReportFilters], Owners],
) -> None:
    filter_sets, owners = scenario
    counted = 0
    for filters in filter_sets:
        report = sla_report(filters, now=NOW)
        expected_breakdown, expected_trend = counted_in_python(filters, owners)
        assert report.breakdown == expected_breakdown, filters
        assert report.trend == expected_trend, filters
        counted += report.breakdown.overall.total
    assert counted > 100  # the comparison is not between empty reports only


def response_times_in_python(filters: ReportFilters, owners: Owners) -> ResponseTimes:
    """First responses met in the period (any target), sorted; ranks as percentile_cont."""
    values = []
    for clock in SlaClock.objects.filter(metric="first_response").select_related("severity"):
        met, taken = clock.met_at, clock.business_elapsed
        if met is None or taken is None or not filters.start <= met < filters.end:
            continue
        queue, assignee = owners[clock.ticket_id]
        wanted = [
            (filters.plan, clock.plan),
            (filters.organization, clock.ticket.organization),
            (filters.severity, clock.severity.level),
            (filters.queue, queue),
            (filters.agent, assignee),
        ]
        if all(want is None or want == value for want, value in wanted):
            values.append(taken)
    values.sort()

    def at(share: float) -> dt.timedelta | None:
        if not values:
            return None
        rank = share * (len(values) - 1)
        low = int(rank)
        if low + 1 >= len(values):
            return values[low]
        return values[low] + (values[low + 1] - values[low]) * (rank - low)

    return ResponseTimes(count=len(values), median=at(0.5), p90=at(0.9))


def test_the_response_times_are_the_percentiles_of_a_plain_sort(
    scenario: tuple[list[ReportFilters], Owners],
) -> None:
    filter_sets, owners = scenario
    unfiltered = [ReportFilters(start=f.start, end=f.end, zone=f.zone) for f in filter_sets]
    responses = 0
    for filters in filter_sets + unfiltered:
        found = sla_report(filters, now=NOW).response_times
        assert found == response_times_in_python(filters, owners), filters
        responses += found.count
    assert responses > 100


def test_the_detailed_queries_count_what_a_clock_by_clock_count_counts(
    scenario: tuple[list[ReportFilters], Owners],
) -> None:
    filter_sets, owners = scenario
    for filters in filter_sets:
        expected_breakdown, expected_trend = counted_in_python(filters, owners)
        assert breakdown(filters) == expected_breakdown, filters
        assert weekly_trend(filters) == expected_trend, filters
