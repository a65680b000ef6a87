"""How the report reads a period from UTC weeks and signed pieces of rows (`sla_rollup`)."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.builders.sla_report import NOW, build_report_dataset, report_clock, utc
from tickets.reports.sla_queries import (
    ReportFilters,
    breakdown,
    fold_breakdown,
    fold_trend,
    period_for_dates,
    weekly_trend,
)
from tickets.reports.sla_rollup import cuts, read_plan, rollup_rows, utc_monday

KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")
LONDON = zoneinfo.ZoneInfo("Europe/London")
ZONES = [dt.UTC, LONDON, KOLKATA, zoneinfo.ZoneInfo("Pacific/Chatham")]  # +12:45 / +13:45


def test_the_cuts_are_the_local_mondays_between_start_and_end() -> None:
    start, end = period_for_dates(dt.date(2026, 11, 1), dt.date(2026, 11, 14), KOLKATA)
    assert cuts(start, end, KOLKATA) == [
        utc(2026, 10, 31, 18, 30),
        utc(2026, 11, 1, 18, 30),  # Monday 2 November, local midnight
        utc(2026, 11, 8, 18, 30),
        utc(2026, 11, 14, 18, 30),
    ]


def test_the_nearest_utc_monday_may_come_after_the_instant() -> None:
    assert utc_monday(utc(2026, 11, 1, 18, 30)) == utc(2026, 11, 2)  # a Sunday evening
    assert utc_monday(utc(2026, 11, 5, 12)) == utc(2026, 11, 2)  # Thursday noon: the earlier


@pytest.mark.parametrize("seed", range(20))
def test_every_instant_is_read_once_for_its_piece_and_never_for_another(seed: int) -> None:
    rnd = random.Random(seed)
    zone = rnd.choice(ZONES)
    first = dt.date(2026, 1, 1) + dt.timedelta(days=rnd.randrange(330))
    start, end = period_for_dates(first, first + dt.timedelta(days=rnd.randrange(120)), zone)
    bounds = cuts(start, end, zone)
    plan = read_plan(bounds)
    for (_, hi), (lo, _) in itertools.pairwise(plan.fragments):
        assert hi <= lo  # disjoint, so a query can say which one a row is in
    for _ in range(300):
        instant = start + (end - start) * rnd.random() + dt.timedelta(days=rnd.choice([0, 0, -9]))
        week = instant.astimezone(dt.UTC).date()
        week -= dt.timedelta(days=week.weekday())
        for piece in range(len(bounds) - 1):
            reads = int(plan.week_piece.get(week) == piece)
            for (lo, hi), uses in zip(plan.fragments, plan.uses, strict=True):
                if lo <= instant < hi:
                    reads += sum(sign for used, sign in uses if used == piece)
            assert reads == int(bounds[piece] <= instant < bounds[piece + 1]), (instant, piece)


NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


@pytest.mark.django_db
def test_a_piece_read_whole_and_its_neighbours_correction_count_an_hour_they_share_once() -> None:
    # From Saturday 7 November in New York: the first piece (to Monday 05:00 UTC) is read
    # whole, and the next piece takes away Monday 00:00-05:00 UTC from its first UTC week.
    data = build_report_dataset()
    start, end = period_for_dates(dt.date(2026, 11, 7), dt.date(2026, 11, 20), NEW_YORK)
    filters = ReportFilters(start=start, end=end, zone=NEW_YORK)
    before = [t.total for t in weekly_trend(filters)]
    for at in (utc(2026, 11, 9, 2), utc(2026, 11, 9, 6), utc(2026, 11, 8, 12)):
        report_clock(metric="acknowledge", plan=data.gold, severity=data.sev1, met_at=at)
    groups, weeks = rollup_rows(filters)
    assert fold_breakdown(groups, filters) == breakdown(filters)
    assert fold_trend(weeks, filters) == weekly_trend(filters)
    after = [t.total for t in weekly_trend(filters)]
    assert [b - a for a, b in zip(before, after, strict=True)] == [2, 1, 0]


@pytest.mark.django_db
def test_a_year_costs_the_same_queries_as_a_week() -> None:
    build_report_dataset()
    counts = []
    for days in (6, 365):
        last = NOW.date()
        start, end = period_for_dates(last - dt.timedelta(days=days), last, LONDON)
        with CaptureQueriesContext(connection) as captured:
            rollup_rows(ReportFilters(start=start, end=end, zone=LONDON))
        counts.append(len(captured))
    assert counts == [8, 8]  # four for the counts, four for the groups' names


@pytest.mark.django_db
def test_a_period_of_whole_utc_weeks_reads_the_weekly_counts_alone() -> None:
    build_report_dataset()
    start, end = period_for_dates(dt.date(2026, 11, 2), dt.date(2026, 11, 29), dt.UTC)
    filters = ReportFilters(start=start, end=end, zone=dt.UTC)
    assert read_plan(cuts(start, end, dt.UTC)).fragments == []
    groups, weeks = rollup_rows(filters)
    assert fold_breakdown(groups, filters) == breakdown(filters)
    assert fold_trend(weeks, filters) == weekly_trend(filters)
    assert breakdown(filters).overall.total > 0
