"""The SLA report's outcome figures in one pass over the clocks (PostgreSQL).

Why one pass over an index and not daily roll-ups: the report groups clocks by the ticket's
*current* queue and assignee, filters by organization, and cuts periods and weeks at local
midnights of the manager's zone (half-hour and quarter-hour zones included). A roll-up table
would have to be re-counted whenever a ticket moves queue or agent (the desk, the services, the
sweep's escalation moves), and its key (day or hour, metric, plan, severity, queue, agent) is so
dense that it barely shrinks anything: on the scale data (3,000,000 clocks, 1,000,000 tickets)
a year holds 981,369 distinct (UTC day, metric, plan, severity, queue, agent) keys for 2,897,648
counted clocks, before the organization and the sub-day cuts for zones are added. So the report
reads the clocks themselves, but once, and from an index: the period is one range of the
`clock_outcome` index (outcome instant, with the counted columns included) read without the
table, the breakdown (metric, plan, severity, queue, agent) and the weekly trend are two grouping
sets of the same scan (`GROUP BY GROUPING SETS`), grouped by identifiers only, and the few names
are joined on after aggregating (a few thousand groups, not a million rows).

The rows are the same rows the detailed queries of `sla_queries` count (the same queryset is
compiled into the inner query), so the figures are identical; tests compare both with each other
and with a clock-by-clock count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.db.models import ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import Coalesce, TruncWeek

from plans.models import Plan, Severity
from sla.models import SlaClock
from tickets.models import Queue

WORK_MEM = "64MB"


def outcome_rows(
    clocks: QuerySet[SlaClock], *, zone: dt.tzinfo, met_on_time: Q, breached: Q
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per (metric, plan, severity, queue, assignee) and per local week: met on time and breached.

    One query. The group rows carry the keys and names `sla_queries.breakdown` folds; the week
    rows carry `week` (the Monday, naive local time) like `sla_queries.weekly_trend` reads.
    """
    outcome = Coalesce("breached_at", "met_at", output_field=models.DateTimeField())
    inner = (
        clocks.annotate(
            week=TruncWeek(outcome, tzinfo=zone),
            is_met_on_time=ExpressionWrapper(met_on_time, output_field=models.BooleanField()),
            is_breached=ExpressionWrapper(breached, output_field=models.BooleanField()),
            queue=F("ticket__queue_id"),
            assignee=F("ticket__assignee_id"),
        )
        .values(
            "metric",
            "plan_id",
            "severity_id",
            "queue",
            "assignee",
            "week",
            "is_met_on_time",
            "is_breached",
        )
        .order_by()
    )
    inner_sql, params = inner.query.sql_with_params()
    user = get_user_model()._meta.db_table
    sql = f"""
        WITH grouped AS (
            SELECT metric, plan_id, severity_id, queue, assignee, week,
                   GROUPING(week) AS by_group,
                   COUNT(*) FILTER (WHERE is_met_on_time) AS met_on_time,
                   COUNT(*) FILTER (WHERE is_breached) AS breached
            FROM ({inner_sql}) AS clocks
            GROUP BY GROUPING SETS ((metric, plan_id, severity_id, queue, assignee), (week))
        )
        SELECT g.by_group, g.metric, g.plan_id, p.name, s.level, g.queue, q.name,
               g.assignee, u.username, u.first_name, u.last_name, g.week,
               g.met_on_time, g.breached
        FROM grouped g
        LEFT JOIN {Plan._meta.db_table} p ON p.id = g.plan_id
        LEFT JOIN {Severity._meta.db_table} s ON s.id = g.severity_id
        LEFT JOIN {Queue._meta.db_table} q ON q.id = g.queue
        LEFT JOIN {user} u ON u.id = g.assignee
    """  # Table names come from model metadata; every value is a parameter.
    groups: list[dict[str, Any]] = []
    weeks: list[dict[str, Any]] = []
    with connection.cursor() as cursor:  # inside `report_session` when called by `sla_report`
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            by_group, metric, plan_id, plan_name, level, queue, queue_name = row[:7]
            assignee, username, first_name, last_name, week, met, late = row[7:]
            if by_group:
                groups.append(
                    {
                        "metric": metric,
                        "plan_id": plan_id,
                        "plan__name": plan_name,
                        "severity__level": level,
                        "ticket__queue_id": queue,
                        "ticket__queue__name": queue_name,
                        "ticket__assignee_id": assignee,
                        "ticket__assignee__username": username,
                        "ticket__assignee__first_name": first_name,
                        "ticket__assignee__last_name": last_name,
                        "met_on_time": met,
                        "breached": late,
                    }
                )
            else:
                weeks.append({"week": week, "met_on_time": met, "breached": late})
    return groups, weeks


@contextmanager
def report_session() -> Iterator[None]:
    """A transaction whose reads are planned for many rows (PostgreSQL; elsewhere nothing).

    `work_mem`: a year holds about 50 weeks x a few thousand groups; hashing them in memory
    rather than sorting millions of rows on disk (the default 4 MB). `jit` off: compiling the
    expressions of a scan over millions of clocks cost over a second of a ten-second pass
    (EXPLAIN ANALYZE on 3,000,000 clocks), more than it saved.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('work_mem', %s, true), set_config('jit', 'off', true)", [WORK_MEM]
        )
        yield


def one_pass_available() -> bool:
    """GROUPING SETS and FILTER as PostgreSQL has them; other databases use the detailed queries."""
    return connection.vendor == "postgresql"
