"""SLA breach reports: every figure is aggregated in the database, in a fixed number of queries.

Definitions (the page states them too):
- Only clocks with a target count for achievement.
- A clock's *outcome instant* is `breached_at` when it breached, else `met_at`. A clock counts in a
  period when its outcome instant falls in the period, so each clock counts once: a clock that
  breached on 31 January and was met on 2 February is a January breach.
- *Met on time*: `met_at` set and `breached_at` empty. *Breached*: `breached_at` set.
- Achievement = met on time / (met on time + breached).
- A counted clock's queue and agent are the ticket's when its outcome was recorded
  (`tickets.outcomes`): a breach stays with the tier and agent who held the ticket then, and a
  closed period's figures do not change when tickets move later.
- The figures are read from weekly roll-ups corrected by the outcome rows between local and UTC
  week starts (`sla_rollup`), or, for one organization, from the outcome rows; both equal the
  detailed queries below (`breakdown`, `weekly_trend`), which tests check.
- *At risk* and *currently breached* are the standings of `sla.standing` (through their SQL twin
  `sla.selectors.standing_q`), the same that the portal, the queue and the metrics show: at risk
  once `AT_RISK_SHARE` of the target's business time is used; breached once the due instant has
  passed unmet, or, for a paused clock, when it breached before the pause.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Count, Q, QuerySet, Subquery
from django.db.models.functions import TruncWeek

from plans.models import Organization, Plan
from sla.models import LIVE_STATES, EscalationFiring, Metric, SlaClock
from sla.selectors import standing_q
from sla.standing import Standing
from tickets.models import SlaOutcome
from tickets.reports.sla_rollup import (
    grouped,
    named,
    outcome_counts,
    outcome_filter,
    position_in_buckets,
    response_buckets,
    rollup_rows,
)

LIVE_LIST_LIMIT = 50


@dataclass(frozen=True)
class ReportFilters:
    """What a manager asked for: a half-open period [start, end) in UTC and optional filters."""

    start: dt.datetime
    end: dt.datetime
    zone: dt.tzinfo = dt.UTC
    plan: Plan | None = None
    organization: Organization | None = None
    severity: int | None = None
    queue: models.Model | None = None
    agent: models.Model | None = None
    metric: str | None = None


def period_for_dates(
    start: dt.date, end: dt.date, zone: dt.tzinfo
) -> tuple[dt.datetime, dt.datetime]:
    """The UTC half-open span of local dates `start`..`end` (both included) in `zone`."""
    first = dt.datetime.combine(start, dt.time(), tzinfo=zone)
    after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return first.astimezone(dt.UTC), after.astimezone(dt.UTC)


def default_dates(now: dt.datetime, zone: dt.tzinfo) -> tuple[dt.date, dt.date]:
    """The last 30 days, today included, in the manager's zone."""
    today = now.astimezone(zone).date()
    return today - dt.timedelta(days=29), today


def month_period(year: int, month: int, zone: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    first = dt.date(year, month, 1)
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return period_for_dates(first, following - dt.timedelta(days=1), zone)


# --- querysets -------------------------------------------------------------------------------


def ticket_filter(filters: ReportFilters, prefix: str = "ticket__") -> Q:
    """Filters on the ticket (organization, queue, assignee), reached through `prefix`."""
    q = Q()
    if filters.organization is not None:
        q &= Q(**{f"{prefix}organization": filters.organization})
    if filters.queue is not None:
        q &= Q(**{f"{prefix}queue": filters.queue})
    if filters.agent is not None:
        q &= Q(**{f"{prefix}assignee": filters.agent})
    return q


def clock_filter(filters: ReportFilters, prefix: str = "") -> Q:
    """Filters on a clock (plan and severity as the clock was measured, metric, ticket fields)."""
    q = ticket_filter(filters, prefix=f"{prefix}ticket__")
    if filters.plan is not None:
        q &= Q(**{f"{prefix}plan": filters.plan})
    if filters.severity is not None:
        q &= Q(**{f"{prefix}severity__level": filters.severity})
    if filters.metric:
        q &= Q(**{f"{prefix}metric": filters.metric})
    return q


def counted_clocks(filters: ReportFilters) -> QuerySet[SlaClock]:
    """Clocks with a target whose outcome instant falls in the period, filtered: those of the
    outcome rows `counted_outcomes` gives (read by instant, or by organization and instant)."""
    return SlaClock.objects.filter(pk__in=counted_outcomes(filters).values("clock_id"))


def counted_outcomes(filters: ReportFilters) -> QuerySet[SlaOutcome]:
    """The outcome rows (`tickets.outcomes`) of the clocks with a target whose outcome instant
    falls in the period, filtered."""
    return SlaOutcome.objects.filter(
        outcome_filter(filters), counted=True, at__gte=filters.start, at__lt=filters.end
    )


# --- figures ---------------------------------------------------------------------------------


@dataclass
class Tally:
    """Met on time and breached clocks of one group; the denominator is their sum."""

    key: Any
    label: str
    met_on_time: int = 0
    breached: int = 0

    @property
    def total(self) -> int:
        return self.met_on_time + self.breached

    @property
    def achievement(self) -> float | None:
        """Percent met on time, one decimal; None when nothing counted."""
        if not self.total:
            return None
        return round(100 * self.met_on_time / self.total, 1)


@dataclass
class Breakdown:
    """Achievement per metric and breaches by plan, severity, queue and agent (one query)."""

    by_metric: list[Tally]
    by_plan: list[Tally]
    by_severity: list[Tally]
    by_queue: list[Tally]
    by_agent: list[Tally]
    by_plan_metric: list[Tally]
    overall: Tally


def breakdown(filters: ReportFilters) -> Breakdown:
    """The detailed query: one GROUP BY of the outcome rows over (metric, plan, severity, queue,
    agent), folded in Python. The number of groups depends on how many plans, levels, queues and
    agents exist, not on the number of clocks. `sla_report` reads the same figures from the
    weekly roll-ups (`sla_rollup`); a test checks that both agree.
    """
    rows = grouped(counted_outcomes(filters)).annotate(**outcome_counts())
    return fold_breakdown(named(list(rows.order_by())), filters)


def fold_breakdown(rows: Iterable[dict[str, Any]], filters: ReportFilters) -> Breakdown:
    """Tallies per metric, plan, severity, queue, agent and plan x metric from grouped rows."""
    groups: dict[str, dict[Any, Tally]] = defaultdict(dict)
    overall = Tally(key=None, label="All metrics")
    metric_labels = dict(Metric.choices)

    def add(group: str, key: Any, label: str, row: dict[str, Any]) -> None:
        tally = groups[group].setdefault(key, Tally(key=key, label=label))
        tally.met_on_time += row["met_on_time"]
        tally.breached += row["breached"]

    for row in rows:
        add("metric", row["metric"], metric_labels.get(row["metric"], row["metric"]), row)
        add("plan", row["plan_id"], row["plan_name"], row)
        level = row["level"]
        add("severity", level, f"Severity {level}", row)
        add("queue", row["queue_id"], row["queue_name"] or "No queue", row)
        add("agent", row["assignee_id"], agent_label(row), row)
        plan_metric_label = f"{row['plan_name']} · {metric_labels.get(row['metric'])}"
        add("plan_metric", (row["plan_id"], row["metric"]), plan_metric_label, row)
        overall.met_on_time += row["met_on_time"]
        overall.breached += row["breached"]

    metric_order = {value: i for i, value in enumerate(Metric.values)}
    by_metric = [
        groups["metric"].get(value, Tally(key=value, label=label))
        for value, label in Metric.choices
        if not filters.metric or filters.metric == value
    ]
    return Breakdown(
        by_metric=by_metric,
        by_plan=most_breached(groups["plan"]),
        by_severity=sorted(groups["severity"].values(), key=lambda t: t.key),
        by_queue=most_breached(groups["queue"]),
        by_agent=most_breached(groups["agent"]),
        by_plan_metric=sorted(
            groups["plan_metric"].values(),
            key=lambda t: (-t.breached, t.label.split(" · ")[0], metric_order.get(t.key[1], 9)),
        ),
        overall=overall,
    )


def agent_label(row: dict[str, Any]) -> str:
    if row["assignee_id"] is None:
        return "Unassigned"
    full = f"{row['first_name']} {row['last_name']}".strip()
    return full or row["username"]


def most_breached(tallies: dict[Any, Tally]) -> list[Tally]:
    return sorted(tallies.values(), key=lambda t: (-t.breached, -t.total, t.label))


def weekly_trend(filters: ReportFilters) -> list[Tally]:
    """Met on time and breached per week (weeks start on Monday in the manager's zone).

    Weeks without any clock are listed with zeros so the trend has no gaps.
    """
    rows = (
        counted_outcomes(filters)
        .annotate(week=TruncWeek("at", tzinfo=filters.zone))
        .values("week")
        .annotate(**outcome_counts())
        .order_by("week")
    )
    return fold_trend(rows, filters)


def fold_trend(rows: Iterable[dict[str, Any]], filters: ReportFilters) -> list[Tally]:
    """One tally per week of the period from rows per week (zeros where there are none)."""
    found = {as_date(row["week"], filters.zone): row for row in rows}
    weeks = []
    first_day = filters.start.astimezone(filters.zone).date()
    last_day = (filters.end.astimezone(filters.zone) - dt.timedelta(microseconds=1)).date()
    monday = first_day - dt.timedelta(days=first_day.weekday())
    while monday <= last_day:
        row = found.get(monday, {"met_on_time": 0, "breached": 0})
        weeks.append(
            Tally(
                key=monday,
                label=f"{monday:%d %b}",
                met_on_time=row["met_on_time"],
                breached=row["breached"],
            )
        )
        monday += dt.timedelta(days=7)
    return weeks


def as_date(value: dt.datetime | dt.date, zone: dt.tzinfo) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(zone)
        return value.date()
    return value


# --- first response business time -----------------------------------------------------------


@dataclass
class ResponseTimes:
    """Business time to first response of clocks met in the period (late ones included)."""

    count: int
    median: dt.timedelta | None
    p90: dt.timedelta | None


def first_responses(filters: ReportFilters) -> QuerySet[SlaOutcome]:
    """First responses in the period (first-response clocks met, with or without a target),
    filtered like the outcomes; the metric filter does not apply to them."""
    plain = ReportFilters(**{**filters.__dict__, "metric": None})
    return SlaOutcome.objects.filter(
        outcome_filter(plain),
        responded_at__gte=filters.start,
        responded_at__lt=filters.end,
        response__isnull=False,
    )


def first_response_times(filters: ReportFilters) -> ResponseTimes:
    """Median and 90th percentile, interpolated like percentile_cont (three queries, whatever
    the volume, even none).

    Without filters: how many responses fall in each 5-minute bucket comes from the weekly
    response counts (`sla_rollup.response_buckets`, two queries), then each percentile reads
    its two neighbouring values from its bucket, in order, from an index (one query each).
    With filters, the filtered rows are counted per bucket (one query over an index that holds
    the filtered columns), then the same two reads.
    """
    rows = first_responses(filters)
    ordered = rows.order_by("response_bucket", "response").values_list("response", flat=True)
    if any(
        value is not None
        for value in (
            filters.plan,
            filters.severity,
            filters.queue,
            filters.agent,
            filters.organization,
        )
    ):
        per_bucket = rows.values("response_bucket").annotate(n=Count("pk")).order_by()
        counts = {row["response_bucket"]: row["n"] for row in per_bucket}
    else:
        counts = response_buckets(filters)
    count = sum(counts.values())
    return ResponseTimes(
        count=count,
        median=interpolated(ordered, counts, count, 0.5),
        p90=interpolated(ordered, counts, count, 0.9),
    )


def interpolated(
    ordered: QuerySet[Any], counts: dict[int, int], count: int, share: float
) -> dt.timedelta | None:
    """The value at `share` between the two nearest ranks (one query, even when empty): the
    rows in `ordered` from the bucket of the lower rank on."""
    rank = share * max(count - 1, 0)
    low = int(rank)
    bucket, offset = position_in_buckets(counts, low)
    values = list(ordered.filter(response_bucket__gte=bucket)[offset : offset + 2])
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    fraction = rank - low
    return values[0] + (values[1] - values[0]) * fraction


# --- live clocks -----------------------------------------------------------------------------


@dataclass
class LiveList:
    clocks: list[SlaClock]
    total: int


LIVE_RELATED = ("ticket", "ticket__organization", "ticket__assignee", "ticket__queue", "plan")


def live_clocks(filters: ReportFilters) -> QuerySet[SlaClock]:
    """Live clocks with a target, filtered (the period does not apply to what is live now).

    The live states are implied by the standings asked for below; stated here as well, they let
    PostgreSQL read the `clock_live_by_due` index in due order (it cannot prove them from the
    standings' OR).
    """
    return SlaClock.objects.filter(
        clock_filter(filters),
        target__isnull=False,
        due_at__isnull=False,
        state__in=LIVE_STATES,
    )


def at_risk_clocks(filters: ReportFilters, now: dt.datetime) -> QuerySet[SlaClock]:
    """Clocks whose standing is at risk (`sla.standing`), due first.

    At risk implies not yet due; `due_at > now` is repeated as a plain range so the index scan
    starts at `now` rather than at the long-breached clocks.
    """
    return (
        live_clocks(filters)
        .filter(standing_q(Standing.AT_RISK, now=now), due_at__gt=now)
        .select_related(*LIVE_RELATED)
        .order_by("due_at", "id")
    )


def breached_now_clocks(filters: ReportFilters, now: dt.datetime) -> QuerySet[SlaClock]:
    """Unmet clocks whose standing is breached (paused ones only if they breached before)."""
    return (
        live_clocks(filters)
        .filter(standing_q(Standing.BREACHED, now=now))
        .select_related(*LIVE_RELATED)
        .order_by("due_at", "id")
    )


def live_list(queryset: QuerySet[SlaClock]) -> LiveList:
    """The first rows (most urgent first) and how many there are: two queries.

    The first rows are chosen on the clocks alone (a subquery PostgreSQL answers from the
    `clock_live_by_due` index in due order) and only those are joined to their tickets: joined
    first, the planner misjudged how many clocks are at risk and sorted them all.
    """
    first = queryset.values("pk")[:LIVE_LIST_LIMIT]
    clocks = (
        SlaClock.objects.filter(pk__in=Subquery(first))
        .select_related(*LIVE_RELATED)
        .order_by(*queryset.query.order_by)
    )
    return LiveList(clocks=list(clocks), total=queryset.count())


# --- escalations -----------------------------------------------------------------------------


@dataclass
class OrganizationEscalations:
    organization_id: int
    name: str
    slug: str
    fired: int = 0
    requested: int = 0
    unwarranted: int = 0


def escalations_by_organization(filters: ReportFilters) -> list[OrganizationEscalations]:
    """SLA escalation rules fired, customer escalations requested and marked unwarranted.

    Two grouped queries: firings (fired in the period, clock filters) and customer escalations
    (requested in the period; the metric filter does not apply to them).
    """
    firings = (
        EscalationFiring.objects.filter(
            clock_filter(filters, prefix="clock__"),
            fired_at__gte=filters.start,
            fired_at__lt=filters.end,
        )
        .values(
            "clock__ticket__organization_id",
            "clock__ticket__organization__name",
            "clock__ticket__organization__slug",
        )
        .annotate(fired=Count("id"))
        .order_by()
    )
    result: dict[int, OrganizationEscalations] = {}
    for row in firings:
        org_id = row["clock__ticket__organization_id"]
        result[org_id] = OrganizationEscalations(
            organization_id=org_id,
            name=row["clock__ticket__organization__name"],
            slug=row["clock__ticket__organization__slug"],
            fired=row["fired"],
        )
    requested = (
        Organization.objects.filter(
            customer_escalation_filter(filters),
        )
        .values("id", "name", "slug")
        .annotate(
            requested=Count("customer_escalations"),
            unwarranted=Count(
                "customer_escalations", filter=Q(customer_escalations__unwarranted=True)
            ),
        )
        .order_by()
    )
    for row in requested:
        entry = result.setdefault(
            row["id"],
            OrganizationEscalations(organization_id=row["id"], name=row["name"], slug=row["slug"]),
        )
        entry.requested = row["requested"]
        entry.unwarranted = row["unwarranted"]
    return sorted(result.values(), key=lambda e: (-(e.fired + e.unwarranted), e.name))


def customer_escalation_filter(filters: ReportFilters) -> Q:
    prefix = "customer_escalations__"
    q = Q(**{f"{prefix}requested_at__gte": filters.start, f"{prefix}requested_at__lt": filters.end})
    q &= ticket_filter(filters, prefix=f"{prefix}ticket__")
    if filters.plan is not None:
        q &= Q(**{f"{prefix}ticket__plan": filters.plan})
    if filters.severity is not None:
        q &= Q(**{f"{prefix}ticket__severity__level": filters.severity})
    return q


@dataclass
class FallbackList:
    """Escalations fired in the period whose roles reached nobody (support managers told)."""

    firings: list[EscalationFiring]
    total: int


def fallback_firings(filters: ReportFilters) -> FallbackList:
    """The most recent fallbacks (two queries: the rows and how many)."""
    rows = (
        EscalationFiring.objects.filter(
            clock_filter(filters, prefix="clock__"),
            fired_at__gte=filters.start,
            fired_at__lt=filters.end,
            fell_back=True,
        )
        .select_related("clock__ticket__organization")
        .order_by("-fired_at", "-id")
    )
    return FallbackList(firings=list(rows[:LIVE_LIST_LIMIT]), total=rows.count())


# --- the whole report ------------------------------------------------------------------------


WORK_MEM = "64MB"


@contextmanager
def report_session() -> Iterator[None]:
    """A transaction whose reads are planned for many rows (PostgreSQL; elsewhere nothing):
    the figures are read in one snapshot, `work_mem` lets a long period's live lists and
    response times sort in memory, and `jit` is off (compiling the expressions cost more than
    it saved on these short queries)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('work_mem', %s, true), set_config('jit', 'off', true)", [WORK_MEM]
        )
        yield


@dataclass
class SlaReport:
    filters: ReportFilters
    now: dt.datetime
    breakdown: Breakdown
    trend: list[Tally]
    response_times: ResponseTimes
    at_risk: LiveList
    breached_now: LiveList
    escalations: list[OrganizationEscalations] = field(default_factory=list)
    fell_back: FallbackList = field(default_factory=lambda: FallbackList([], 0))


def sla_report(filters: ReportFilters, *, now: dt.datetime) -> SlaReport:
    """Every figure of the report page: a fixed number of queries whatever the data, in one
    transaction planned for long periods (`report_session`)."""
    with report_session():
        if filters.organization is None:
            groups, weeks = rollup_rows(filters)
            figures, trend = fold_breakdown(groups, filters), fold_trend(weeks, filters)
        else:  # the roll-ups have no organization; one organization's rows are few
            figures, trend = breakdown(filters), weekly_trend(filters)
        return SlaReport(
            filters=filters,
            now=now,
            breakdown=figures,
            trend=trend,
            response_times=first_response_times(filters),
            at_risk=live_list(at_risk_clocks(filters, now)),
            breached_now=live_list(breached_now_clocks(filters, now)),
            escalations=escalations_by_organization(filters),
            fell_back=fallback_firings(filters),
        )


# --- monthly statement per organization ------------------------------------------------------


@dataclass
class Statement:
    organization: Organization
    year: int
    month: int
    zone: dt.tzinfo
    start: dt.datetime
    end: dt.datetime
    clocks: list[SlaClock]
    by_metric: list[Tally]
    overall: Tally


def monthly_statement(*, organization: Organization, year: int, month: int) -> Statement:
    """An organization's clocks met or breached in a calendar month of its own time zone.

    Two queries: the clocks (with their tickets) and the per-metric totals, aggregated in the
    database like the report's, so the statement and the report agree.
    """
    zone = zoneinfo.ZoneInfo(organization.time_zone)
    start, end = month_period(year, month, zone)
    filters = ReportFilters(start=start, end=end, zone=zone, organization=organization)
    clocks = list(
        counted_clocks(filters)
        .select_related("ticket", "severity")
        .order_by("ticket__created_at", "ticket_id", "metric", "cycle")
    )
    per_metric = counted_outcomes(filters).values("metric").annotate(**outcome_counts())
    totals = {row["metric"]: row for row in per_metric.order_by()}
    by_metric = []
    overall = Tally(key=None, label="All metrics")
    for value, label in Metric.choices:
        row = totals.get(value, {"met_on_time": 0, "breached": 0})
        by_metric.append(Tally(value, label, row["met_on_time"], row["breached"]))
        overall.met_on_time += row["met_on_time"]
        overall.breached += row["breached"]
    return Statement(
        organization=organization,
        year=year,
        month=month,
        zone=zone,
        start=start,
        end=end,
        clocks=clocks,
        by_metric=by_metric,
        overall=overall,
    )
