"""SLA report figures on a hand-built data set whose every answer is worked out below.

The manager works in America/New_York; the period is November 2026 there, i.e.
[2026-11-01 04:00 UTC, 2026-12-01 05:00 UTC). Clock D breaches at 2026-12-01 03:00 UTC, which is
still 30 November in New York: a November breach, though UTC would call it December.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from tests.builders.sla_report import NEW_YORK, NOW, H, build_report_dataset, utc
from tickets.reports.sla_queries import (
    ReportFilters,
    at_risk_clocks,
    breached_now_clocks,
    breakdown,
    escalations_by_organization,
    first_response_times,
    monthly_statement,
    period_for_dates,
    sla_report,
    weekly_trend,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def data() -> SimpleNamespace:
    return build_report_dataset()


def november(**kwargs: Any) -> ReportFilters:
    start, end = period_for_dates(dt.date(2026, 11, 1), dt.date(2026, 11, 30), NEW_YORK)
    return ReportFilters(start=start, end=end, zone=NEW_YORK, **kwargs)


def figures(tallies: list[Any]) -> list[tuple[str, int, int, float | None]]:
    return [(t.label, t.met_on_time, t.breached, t.achievement) for t in tallies]


def test_a_new_york_month_is_the_utc_span_of_its_local_days() -> None:
    assert period_for_dates(dt.date(2026, 11, 1), dt.date(2026, 11, 30), NEW_YORK) == (
        utc(2026, 11, 1, 4),
        utc(2026, 12, 1, 5),
    )


def test_achievement_per_metric_counts_met_on_time_over_met_on_time_plus_breached(
    data: SimpleNamespace,
) -> None:
    assert figures(breakdown(november()).by_metric) == [
        ("Acknowledge", 1, 0, 100.0),
        ("First response", 2, 1, 66.7),
        ("Resolution", 0, 1, 0.0),
    ]


def test_overall_achievement_counts_five_clocks_with_targets(data: SimpleNamespace) -> None:
    overall = breakdown(november()).overall
    assert (overall.met_on_time, overall.breached, overall.total) == (3, 2, 5)
    assert overall.achievement == 60.0


def test_a_breach_late_on_the_last_local_day_counts_in_that_month(data: SimpleNamespace) -> None:
    # D breached at 03:00 UTC on 1 December: 22:00 on 30 November in New York.
    resolution = breakdown(november(metric="resolution")).by_metric
    assert figures(resolution) == [("Resolution", 0, 1, 0.0)]


def test_the_same_breach_falls_in_december_for_a_utc_manager(data: SimpleNamespace) -> None:
    start, end = period_for_dates(dt.date(2026, 11, 1), dt.date(2026, 11, 30), dt.UTC)
    utc_november = ReportFilters(start=start, end=end, zone=dt.UTC, metric="resolution")
    assert figures(breakdown(utc_november).by_metric) == [("Resolution", 0, 0, None)]


def test_breaches_by_plan_put_the_most_breached_first(data: SimpleNamespace) -> None:
    assert figures(breakdown(november()).by_plan) == [
        ("Gold", 3, 1, 75.0),
        ("Silver", 0, 1, 0.0),
    ]


def test_breaches_by_plan_and_metric_say_why(data: SimpleNamespace) -> None:
    assert figures(breakdown(november()).by_plan_metric) == [
        ("Gold · First response", 2, 1, 66.7),
        ("Silver · Resolution", 0, 1, 0.0),
        ("Gold · Acknowledge", 1, 0, 100.0),
    ]


def test_breaches_by_severity(data: SimpleNamespace) -> None:
    assert figures(breakdown(november()).by_severity) == [
        ("Severity 1", 2, 0, 100.0),
        ("Severity 2", 1, 2, 33.3),
    ]


def test_breaches_by_queue(data: SimpleNamespace) -> None:
    assert figures(breakdown(november()).by_queue) == [("L2", 1, 2, 33.3), ("L1", 2, 0, 100.0)]


def test_breaches_by_agent(data: SimpleNamespace) -> None:
    assert figures(breakdown(november()).by_agent) == [
        ("Bob Baker", 1, 2, 33.3),
        ("Alice Archer", 2, 0, 100.0),
    ]


def test_trend_lists_every_local_week_of_the_period(data: SimpleNamespace) -> None:
    weeks = [(t.key, t.met_on_time, t.breached) for t in weekly_trend(november())]
    assert weeks == [
        (dt.date(2026, 10, 26), 0, 0),
        (dt.date(2026, 11, 2), 2, 0),
        (dt.date(2026, 11, 9), 0, 1),
        (dt.date(2026, 11, 16), 1, 0),
        (dt.date(2026, 11, 23), 0, 0),
        (dt.date(2026, 11, 30), 0, 1),
    ]


def test_first_response_median_and_90th_percentile_interpolate(data: SimpleNamespace) -> None:
    # A 1h, H 3h, C 5h (met late, still measured): median 3h, p90 = 3h + 0.8 * 2h.
    times = first_response_times(november())
    assert (times.count, times.median, times.p90) == (
        3,
        3 * H,
        3 * H + dt.timedelta(minutes=96),
    )


def test_first_response_times_are_empty_without_clocks() -> None:
    times = first_response_times(november())
    assert (times.count, times.median, times.p90) == (0, None, None)


def test_at_risk_lists_running_clocks_with_three_quarters_of_the_target_used(
    data: SimpleNamespace,
) -> None:
    # r1 by wall clock (3.5h of 4h); r3 by its stored at_risk_at; r4's at_risk_at is ahead.
    assert list(at_risk_clocks(november(), NOW)) == [data.r1, data.r3]


def test_currently_breached_lists_marked_and_overdue_live_clocks(data: SimpleNamespace) -> None:
    # D breached on 1 December and its ticket is still open: it stays on the list.
    assert list(breached_now_clocks(november(), NOW)) == [data.d, data.x1, data.x2]


def test_escalations_by_organization(data: SimpleNamespace) -> None:
    rows = [
        (e.name, e.fired, e.requested, e.unwarranted)
        for e in escalations_by_organization(november())
    ]
    assert rows == [("Acme", 1, 2, 1), ("Globex", 1, 1, 1)]


def test_filter_by_plan(data: SimpleNamespace) -> None:
    assert figures(breakdown(november(plan=data.silver)).by_plan) == [("Silver", 0, 1, 0.0)]


def test_filter_by_organization(data: SimpleNamespace) -> None:
    overall = breakdown(november(organization=data.globex)).overall
    assert (overall.met_on_time, overall.breached) == (1, 1)


def test_filter_by_severity_level(data: SimpleNamespace) -> None:
    assert figures(breakdown(november(severity=1)).by_severity) == [("Severity 1", 2, 0, 100.0)]


def test_filter_by_queue(data: SimpleNamespace) -> None:
    assert figures(breakdown(november(queue=data.l1)).by_queue) == [("L1", 2, 0, 100.0)]


def test_filter_by_agent(data: SimpleNamespace) -> None:
    assert figures(breakdown(november(agent=data.alice)).by_agent) == [
        ("Alice Archer", 2, 0, 100.0)
    ]


def test_filter_by_metric(data: SimpleNamespace) -> None:
    assert figures(breakdown(november(metric="acknowledge")).by_metric) == [
        ("Acknowledge", 1, 0, 100.0)
    ]


def test_filters_apply_to_live_lists(data: SimpleNamespace) -> None:
    assert list(at_risk_clocks(november(organization=data.globex), NOW)) == [data.r3]


def test_filters_apply_to_escalations(data: SimpleNamespace) -> None:
    rows = escalations_by_organization(november(agent=data.alice))
    assert [(e.name, e.fired, e.requested, e.unwarranted) for e in rows] == [("Acme", 0, 2, 1)]


def test_the_whole_report_answers_in_one_call(data: SimpleNamespace) -> None:
    report = sla_report(november(), now=NOW)
    assert (report.at_risk.total, report.breached_now.total, len(report.trend)) == (2, 3, 6)


def test_statement_lists_the_organizations_clocks_of_its_local_month(
    data: SimpleNamespace,
) -> None:
    statement = monthly_statement(organization=data.acme, year=2026, month=11)
    assert statement.clocks == [data.a, data.b, data.c]


def test_statement_totals_per_metric(data: SimpleNamespace) -> None:
    statement = monthly_statement(organization=data.acme, year=2026, month=11)
    assert figures(statement.by_metric) == [
        ("Acknowledge", 1, 0, 100.0),
        ("First response", 1, 1, 50.0),
        ("Resolution", 0, 0, None),
    ]
    assert (statement.overall.met_on_time, statement.overall.breached) == (2, 1)


def test_statement_month_follows_the_organizations_zone(data: SimpleNamespace) -> None:
    # Globex is in London: D's breach at 03:00 UTC on 1 December is a December breach there.
    november_london = monthly_statement(organization=data.globex, year=2026, month=11)
    december_london = monthly_statement(organization=data.globex, year=2026, month=12)
    assert november_london.clocks == [data.h]
    assert data.d in december_london.clocks
