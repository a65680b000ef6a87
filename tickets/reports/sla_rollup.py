"""The SLA report's outcome figures from the weekly roll-ups (`tickets.outcomes`), exactly.

A period is cut at the manager's local midnights and its trend at local Mondays, in any zone
(half-hour and quarter-hour ones too), while the roll-ups count UTC weeks. Each piece of the
period (from a cut to the next) is read as the UTC weeks between the UTC Mondays nearest its two
cuts, corrected by the few hours between each cut and its UTC Monday, counted from the outcome
rows themselves and added or taken away. A piece too short to hold a UTC week is counted from
the rows whole. So a year reads about 52 weeks of roll-ups and, in London, one hour per week of
rows; a period that starts on a Thursday adds up to three and a half days of rows at each end.

Four queries, whatever the period: the weeks by group, the weeks by week, the corrections that
change the period's total by group, and every correction's total; then four small ones for the
groups' names. The figures are the detailed
query's (`sla_queries.breakdown` and `weekly_trend` over the same rows); a test compares them
over random periods and zones.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import Case, Count, Q, QuerySet, Sum, Value, When

from plans.models import Plan, Severity
from tickets.models import Queue, SlaOutcome, SlaOutcomeWeek, SlaResponseWeek
from tickets.outcomes import KEY_FIELDS, week_of

WEEK = dt.timedelta(days=7)
GROUP_KEYS = KEY_FIELDS
"""What outcome rows and weekly counts are grouped by (the weekly counts' key): identifiers only,
so the database groups narrow keys and joins nothing per row; `named` adds the names to the few
groups."""
NAMES = ["plan_name", "level", "queue_name", "username", "first_name", "last_name"]


def grouped(rows: QuerySet[Any], *extra: str) -> QuerySet[Any]:
    """`rows.values()` by the group keys (and `extra` fields), ready to annotate counts."""
    return rows.values(*extra, *GROUP_KEYS)


def named(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The group rows with the names `sla_queries.fold_breakdown` shows: the plan's name, the
    severity's level, the queue's name and the assignee's (four queries, whatever the rows)."""
    plans = dict(Plan.objects.values_list("id", "name"))
    levels = dict(Severity.objects.values_list("id", "level"))
    queues = dict(Queue.objects.values_list("id", "name"))
    ids = {row["assignee_id"] for row in groups} - {None}
    users = {
        user.pk: user
        for user in get_user_model()
        .objects.filter(Q(pk__in=ids) | Q(pk__isnull=True))
        .only("username", "first_name", "last_name")
    }
    for row in groups:
        user = users.get(row["assignee_id"])
        row.update(
            plan_name=plans.get(row["plan_id"]),
            level=levels.get(row["severity_id"]),
            queue_name=queues.get(row["queue_id"]),
            username=getattr(user, "username", None),
            first_name=getattr(user, "first_name", None),
            last_name=getattr(user, "last_name", None),
        )
    return groups


def utc_monday(instant: dt.datetime) -> dt.datetime:
    """The UTC Monday midnight nearest `instant` (the earlier one when both are as near)."""
    monday = dt.datetime.combine(week_of(instant), dt.time(), tzinfo=dt.UTC)
    return monday if instant - monday <= monday + WEEK - instant else monday + WEEK


def cuts(start: dt.datetime, end: dt.datetime, zone: dt.tzinfo) -> list[dt.datetime]:
    """`start`, every local Monday midnight strictly between, and `end` (UTC instants)."""
    first = start.astimezone(zone).date()
    monday = first - dt.timedelta(days=first.weekday()) + WEEK
    found = [start]
    while (cut := dt.datetime.combine(monday, dt.time(), tzinfo=zone).astimezone(dt.UTC)) < end:
        if cut > start:
            found.append(cut)
        monday += WEEK
    found.append(end)
    return found


@dataclass
class Reading:
    """How each piece of the period is read: the UTC weeks in [first_week, after_week) go to
    the piece `week_piece` names, and each fragment [lo, hi) of outcome rows is added to (or
    taken from) the pieces its uses name."""

    first_week: dt.date
    after_week: dt.date
    week_piece: dict[dt.date, int]
    fragments: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    uses: list[list[tuple[int, int]]] = field(default_factory=list)

    def fragment(self, lo: dt.datetime, hi: dt.datetime, piece: int, sign: int) -> None:
        if lo >= hi:
            return
        try:
            index = self.fragments.index((lo, hi))
        except ValueError:
            index = len(self.fragments)
            self.fragments.append((lo, hi))
            self.uses.append([])
        self.uses[index].append((piece, sign))

    def disjoint(self) -> None:
        """Split the fragments where they overlap (a piece read whole can overlap its
        neighbour's correction), so each row falls in one fragment and a query can say which;
        each part keeps the uses of every fragment that held it."""
        edges = sorted({edge for fragment in self.fragments for edge in fragment})
        parts: list[tuple[dt.datetime, dt.datetime]] = []
        uses: list[list[tuple[int, int]]] = []
        for lo, hi in itertools.pairwise(edges):
            held = [
                use
                for (first, after), used in zip(self.fragments, self.uses, strict=True)
                if first <= lo and hi <= after
                for use in used
            ]
            if held:
                parts.append((lo, hi))
                uses.append(held)
        self.fragments, self.uses = parts, uses

    def net(self, index: int) -> int:
        """How a fragment changes the whole period's count (cuts inside the period cancel)."""
        return sum(sign for _, sign in self.uses[index])


def read_plan(bounds: list[dt.datetime]) -> Reading:
    """Pieces [bounds[k], bounds[k+1]) as UTC weeks plus signed fragments."""
    mondays = [utc_monday(bound) for bound in bounds]
    plan = Reading(
        first_week=mondays[0].date(),
        after_week=mondays[-1].date(),
        week_piece={},
    )
    for piece in range(len(bounds) - 1):
        lo, hi = bounds[piece], bounds[piece + 1]
        first, after = mondays[piece], mondays[piece + 1]
        if first >= after:  # no whole UTC week between the nearest Mondays: read it whole
            plan.fragment(lo, hi, piece, +1)
            continue
        week = first
        while week < after:
            plan.week_piece[week.date()] = piece
            week += WEEK
        # [lo, first) missing from the weeks, or [first, lo) too much; likewise at the end.
        plan.fragment(lo, first, piece, +1)
        plan.fragment(first, lo, piece, -1)
        plan.fragment(after, hi, piece, +1)
        plan.fragment(hi, after, piece, -1)
    plan.disjoint()
    return plan


def rollup_filter(filters: Any) -> Q:
    """The report's filters on roll-up or outcome rows (both have these fields)."""
    q = Q()
    if filters.plan is not None:
        q &= Q(plan=filters.plan)
    if filters.severity is not None:
        q &= Q(severity__level=filters.severity)
    if filters.queue is not None:
        q &= Q(queue=filters.queue)
    if filters.agent is not None:
        q &= Q(assignee=filters.agent)
    if filters.metric:
        q &= Q(metric=filters.metric)
    return q


def outcome_filter(filters: Any) -> Q:
    """The report's filters on outcome rows: those of the roll-ups, and the organization."""
    q = rollup_filter(filters)
    if filters.organization is not None:
        q &= Q(organization=filters.organization)
    return q


def outcome_counts() -> dict[str, Count]:
    return {
        "met_on_time": Count("pk", filter=Q(breached=False)),
        "breached": Count("pk", filter=Q(breached=True)),
    }


def _in_fragments(plan: Reading, indexes: list[int], field: str = "at") -> tuple[Q, Case]:
    """Rows whose `field` is in these fragments, and which fragment each is in."""

    def inside(lo: dt.datetime, hi: dt.datetime) -> Q:
        return Q(**{f"{field}__gte": lo, f"{field}__lt": hi})

    if not indexes:  # one empty range: the query still runs, so the count of queries is fixed
        lo = plan.fragments[0][0] if plan.fragments else dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        return inside(lo, lo), Case(default=Value(-1))
    ranges = [(index, *plan.fragments[index]) for index in indexes]
    where = Q()
    for _, lo, hi in ranges:
        where |= inside(lo, hi)
    which = Case(
        *[When(inside(lo, hi), then=Value(index)) for index, lo, hi in ranges],
        default=Value(-1),
        output_field=models.IntegerField(),
    )
    return where, which


def response_buckets(filters: Any) -> dict[int, int]:
    """How many first responses of the period fall in each 5-minute bucket of business time,
    from the weekly response counts and the rows at the period's edges (two queries). Only for
    a report without plan, severity, queue, agent or organization filters: the response counts
    have none of them."""
    plan = read_plan([filters.start, filters.end])
    counts: dict[int, int] = defaultdict(int)
    weeks = SlaResponseWeek.objects.filter(
        week__gte=plan.first_week, week__lt=plan.after_week
    ).values("bucket")
    for row in weeks.annotate(responses=Sum("responses")).order_by():
        counts[row["bucket"]] += row["responses"]
    where, which = _in_fragments(plan, list(range(len(plan.fragments))), field="responded_at")
    rows = SlaOutcome.objects.filter(where, response__isnull=False).annotate(fragment=which)
    for row in rows.values("fragment", "response_bucket").annotate(n=Count("pk")).order_by():
        if row["fragment"] >= 0:
            counts[row["response_bucket"]] += plan.net(row["fragment"]) * row["n"]
    return {bucket: n for bucket, n in counts.items() if n}


def position_in_buckets(counts: dict[int, int], position: int) -> tuple[int, int]:
    """The bucket holding the value at `position` (0-based, in order) and its place there."""
    before = 0
    for bucket in sorted(counts):
        if position < before + counts[bucket]:
            return bucket, position - before
        before += counts[bucket]
    return 0, position


def rollup_rows(filters: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Group rows (`GROUP_KEYS`, `NAMES`, met_on_time, breached) and week rows (week: the local
    Monday, met_on_time, breached), as the detailed queries give them."""
    bounds = cuts(filters.start, filters.end, filters.zone)
    plan = read_plan(bounds)
    selected = rollup_filter(filters)
    weeks = SlaOutcomeWeek.objects.filter(
        selected, week__gte=plan.first_week, week__lt=plan.after_week
    )
    sums = {"met_on_time": Sum("met_on_time"), "breached": Sum("breached")}
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    names = GROUP_KEYS

    def add(row: dict[str, Any], sign: int) -> None:
        tally = groups[tuple(row[name] for name in names)]
        tally[0] += sign * row["met_on_time"]
        tally[1] += sign * row["breached"]

    for row in grouped(weeks).annotate(**sums).order_by():
        add(row, +1)
    pieces = [[0, 0] for _ in range(len(bounds) - 1)]
    for row in weeks.values("week").annotate(**sums).order_by():
        piece = pieces[plan.week_piece[row["week"]]]
        piece[0] += row["met_on_time"]
        piece[1] += row["breached"]
    edges = [index for index in range(len(plan.fragments)) if plan.net(index)]
    where, which = _in_fragments(plan, edges)
    rows = SlaOutcome.objects.filter(where, selected, counted=True).annotate(fragment=which)
    for row in grouped(rows, "fragment").annotate(**outcome_counts()).order_by():
        if row["fragment"] >= 0:  # with no fragment, one row of zeros (nothing grouped)
            add(row, plan.net(row["fragment"]))
    where, which = _in_fragments(plan, list(range(len(plan.fragments))))
    rows = SlaOutcome.objects.filter(where, selected, counted=True).annotate(fragment=which)
    for row in rows.values("fragment").annotate(**outcome_counts()).order_by():
        if row["fragment"] < 0:
            continue
        for index, sign in plan.uses[row["fragment"]]:
            pieces[index][0] += sign * row["met_on_time"]
            pieces[index][1] += sign * row["breached"]
    group_rows = named(
        [
            {**dict(zip(names, key, strict=True)), "met_on_time": met, "breached": late}
            for key, (met, late) in groups.items()
            if met or late
        ]
    )
    mondays = [week_of(bound, filters.zone) for bound in bounds[:-1]]
    week_rows = [
        {"week": monday, "met_on_time": met, "breached": late}
        for monday, (met, late) in zip(mondays, pieces, strict=True)
    ]
    return group_rows, week_rows
