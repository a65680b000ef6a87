"""The one-pass outcome figures (PostgreSQL) equal the detailed queries, whatever the filters."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.builders.sla_report import NEW_YORK, NOW, build_report_dataset
from tickets.reports.sla_queries import (
    ReportFilters,
    breakdown,
    period_for_dates,
    sla_report,
    weekly_trend,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")  # a half-hour zone: weeks start at 18:30 UTC


@pytest.fixture
def data() -> SimpleNamespace:
    return build_report_dataset()


def period(first: dt.date, last: dt.date, zone: dt.tzinfo, **kwargs: Any) -> ReportFilters:
    start, end = period_for_dates(first, last, zone)
    return ReportFilters(start=start, end=end, zone=zone, **kwargs)


def filter_sets(data: SimpleNamespace) -> list[ReportFilters]:
    year = (dt.date(2025, 12, 1), dt.date(2026, 12, 31))
    november = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    return [
        period(*november, NEW_YORK),
        period(*november, dt.UTC),
        period(*november, KOLKATA),
        period(*year, NEW_YORK),
        period(*november, NEW_YORK, plan=data.silver),
        period(*november, NEW_YORK, organization=data.globex),
        period(*november, NEW_YORK, severity=1),
        period(*november, NEW_YORK, queue=data.l1),
        period(*november, NEW_YORK, agent=data.alice),
        period(*november, NEW_YORK, metric="acknowledge"),
        period(dt.date(2026, 1, 1), dt.date(2026, 1, 31), NEW_YORK),  # nothing counted
    ]


def test_it_reports_the_same_breakdown_and_trend_as_the_detailed_queries(
    data: SimpleNamespace,
) -> None:
    counted = 0
    for filters in filter_sets(data):
        report = sla_report(filters, now=NOW)
        assert report.breakdown == breakdown(filters), filters
        assert report.trend == weekly_trend(filters), filters
        counted += report.breakdown.overall.total
    assert counted > 0  # the comparison is not between empty reports only


def test_it_reads_the_breakdown_and_the_trend_in_one_query(data: SimpleNamespace) -> None:
    with CaptureQueriesContext(connection) as captured:
        sla_report(filter_sets(data)[0], now=NOW)
    over_outcomes = [q["sql"] for q in captured if "COALESCE" in q["sql"].upper()]
    assert len(over_outcomes) == 1
    assert "GROUPING SETS" in over_outcomes[0]
