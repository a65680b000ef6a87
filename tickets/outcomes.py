"""What the SLA report counts, kept as it happens: one row per counted clock and weekly roll-ups.

A clock *counts* once it has a target and a recorded outcome: its outcome instant is
`breached_at` when it breached, else `met_at` (`tickets.reports.sla_queries` states the report's
definitions). `SlaOutcome` holds each counted clock's instant, whether it breached, its metric,
plan and severity, the ticket's organization, and the ticket's queue and assignee *when the
outcome was recorded*: a breach belongs to the tier and the agent who held the ticket then, and a
closed period's figures stay as they were when tickets move later.

`SlaOutcomeWeek` counts those rows per UTC week and (metric, plan, severity, queue, assignee), so
a year's report reads some fifty weeks of a few thousand keys instead of millions of clocks. It
is written as signed deltas (insert only: concurrent transactions never wait on a shared row)
and `outcomes_compact` folds each key's deltas into one row, on a schedule. The sum of a key's
rows is always its count, before and after compaction.

First responses (met first-response clocks, with or without a target) also get a row, with the
business time taken and its 5-minute bucket, and `SlaResponseWeek` counts them per UTC week and
bucket, so the report finds a percentile's bucket from the counts and reads only that bucket's
values. A row with no target has `counted` false: it is a response time, not an outcome.

`outcomes_refresh` keeps all of them in the same transaction as every change to clocks: `sla` tells
`tickets` which tickets' clocks changed (`tickets.services.standing.tickets_refresh_sla`), and
the refresh compares each clock's outcome with its row and writes the difference.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any, NamedTuple

from django.db import connection, models, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce, TruncWeek

from helpdesk.db import bulk_insert, insert_rows
from sla.models import Metric, SlaClock
from tickets.models import SlaOutcome, SlaOutcomeWeek, SlaResponseWeek, Ticket

KEY_FIELDS = ["metric", "plan_id", "severity_id", "queue_id", "assignee_id"]
COUNTED = Q(target__isnull=False) & (Q(met_at__isnull=False) | Q(breached_at__isnull=False))
"""Clocks the report counts: a target and an outcome."""
RESPONDED = Q(metric=Metric.FIRST_RESPONSE, met_at__isnull=False, business_elapsed__isnull=False)
"""First-response clocks met: the report's response times."""
CONCERNED = COUNTED | RESPONDED | Q(outcome_row__isnull=False)
"""Clocks `outcomes_refresh` looks at: counted or responded ones, and those that were."""
COMPARED = ["at", "breached", "counted", "responded_at", "response", "metric", "plan_id"]
COMPARED += ["severity_id"]
"""What a row takes from its clock (the queue and assignee are the ticket's when it ended)."""
HELD = [*COMPARED, "organization_id", "queue_id", "assignee_id"]
CLOCK_FIELDS = ["id", "ticket_id", "metric", "plan_id", "severity_id", "target", "met_at"]
CLOCK_FIELDS += ["breached_at", "business_elapsed"]
CLOCK_FIELDS += [f"outcome_row__{name}" for name in HELD]
"""What `outcomes_refresh` reads of a clock: its outcome and the row that holds it now."""
RESPONSE_BUCKET = dt.timedelta(minutes=5)
COMPACT_LIMIT = 50_000


def week_of(instant: dt.datetime, zone: dt.tzinfo = dt.UTC) -> dt.date:
    """The Monday of the week holding `instant` in `zone` (the UTC week by default)."""
    day = instant.astimezone(zone).date()
    return day - dt.timedelta(days=day.weekday())


def bucket_of(response: dt.timedelta) -> int:
    """The 5-minute bucket of a business time taken (0 for the first five minutes)."""
    return response // RESPONSE_BUCKET


class Key(NamedTuple):
    week: dt.date
    metric: str
    plan_id: int
    severity_id: int
    queue_id: int | None
    assignee_id: int | None


def _key(row: SlaOutcome) -> Key:
    return Key(
        week_of(row.at), row.metric, row.plan_id, row.severity_id, row.queue_id, row.assignee_id
    )


def _wanted(clock: Any) -> tuple[Any, ...] | None:
    """The `COMPARED` values of the row a clock should have now, or None for no row."""
    counted = clock.target is not None and (clock.met_at or clock.breached_at) is not None
    responded = (
        clock.metric == Metric.FIRST_RESPONSE
        and clock.met_at is not None
        and clock.business_elapsed is not None
    )
    if not counted and not responded:
        return None
    return (
        clock.breached_at or clock.met_at,
        clock.breached_at is not None,
        counted,
        clock.met_at if responded else None,
        clock.business_elapsed if responded else None,
        clock.metric,
        clock.plan_id,
        clock.severity_id,
    )


def _held(clock: Any) -> tuple[Any, ...] | None:
    """The `COMPARED` values of the row that holds a clock's outcome now, or None."""
    if clock.outcome_row__at is None:
        return None
    return tuple(getattr(clock, f"outcome_row__{name}") for name in COMPARED)


def _row(clock: Any, values: tuple[Any, ...], **holders: Any) -> SlaOutcome:
    row = SlaOutcome(clock_id=clock.id, ticket_id=clock.ticket_id, **holders)
    for name, value in zip(COMPARED, values, strict=True):
        setattr(row, name, value)
    row.response_bucket = None if row.response is None else bucket_of(row.response)
    return row


def outcomes_refresh(ticket_ids: set[int], clocks: Iterable[Any] | None = None) -> None:
    """Bring the `SlaOutcome` rows and the weekly counts in line with these clocks.

    `clocks`: rows with `CLOCK_FIELDS` (others are skipped) of the clocks that changed, when the
    caller has read them (`tickets_refresh_sla`); else the tickets' clocks that `CONCERNED`
    selects are read. Rows are compared as tuples and only the changed ones made models of.
    No query when nothing changed; at most five when something did (the tickets' queue and
    assignee for new rows, the rows removed, the rows added, the weekly outcome and response
    deltas).
    """
    if clocks is None:
        concerned = SlaClock.objects.filter(CONCERNED, ticket_id__in=ticket_ids).order_by()
        clocks = concerned.values_list(*CLOCK_FIELDS, named=True)
    gone: list[SlaOutcome] = []
    added: list[SlaOutcome] = []
    for clock in clocks:
        old, new = _held(clock), _wanted(clock)
        if old == new:
            continue
        holders: dict[str, Any] = {}
        if old is not None:  # the same outcome holder: keep who held the ticket then
            holders = {
                name: getattr(clock, f"outcome_row__{name}")
                for name in ("organization_id", "queue_id", "assignee_id")
            }
            gone.append(_row(clock, old, **holders))
        if new is not None:
            added.append(_row(clock, new, **holders))
    if not gone and not added:
        return
    fresh = {row.ticket_id for row in added if row.organization_id is None}
    if fresh:
        tickets = {
            t.id: t
            for t in Ticket.objects.filter(id__in=fresh).values_list(
                "id", "organization_id", "queue_id", "assignee_id", named=True
            )
        }
        for row in added:
            if row.organization_id is None:
                ticket = tickets[row.ticket_id]
                row.organization_id = ticket.organization_id
                row.queue_id, row.assignee_id = ticket.queue_id, ticket.assignee_id
    outcomes: Counter[tuple[Key, bool]] = Counter()
    responses: Counter[tuple[dt.date, int]] = Counter()
    for rows, sign in ((gone, -1), (added, +1)):
        for row in rows:
            if row.counted:
                outcomes[(_key(row), row.breached)] += sign
            if row.responded_at is not None and row.response is not None:
                responses[(week_of(row.responded_at), bucket_of(row.response))] += sign
    if gone:
        SlaOutcome.objects.filter(clock_id__in=[row.clock_id for row in gone]).delete()
    bulk_insert(added)
    _add_outcome_deltas(outcomes)
    insert_rows(
        SlaResponseWeek,
        [
            {"week": week, "bucket": bucket, "responses": change}
            for (week, bucket), change in responses.items()
            if change
        ],
    )


def _add_outcome_deltas(deltas: Counter[tuple[Key, bool]]) -> None:
    rows: dict[Key, dict[str, Any]] = {}
    for (key, breached), change in deltas.items():
        if not change:
            continue
        row = rows.setdefault(key, {**key._asdict(), "met_on_time": 0, "breached": 0})
        row["breached" if breached else "met_on_time"] += change
    insert_rows(
        SlaOutcomeWeek, [row for row in rows.values() if row["met_on_time"] or row["breached"]]
    )


ROLLUPS: list[tuple[type[models.Model], list[str], list[str]]] = [
    (SlaOutcomeWeek, ["week", *KEY_FIELDS], ["met_on_time", "breached"]),
    (SlaResponseWeek, ["week", "bucket"], ["responses"]),
]
"""The weekly counts written as deltas: each with its key fields and its counts."""


@transaction.atomic
def outcomes_compact(model: type[models.Model] = SlaOutcomeWeek, limit: int = COMPACT_LIMIT) -> int:
    """Fold one roll-up's deltas: each key's rows become one row (none when it sums to zero).
    Returns how many rows were folded. Up to `limit` rows a run, oldest weeks first.

    The rows are locked first, so two runs never fold the same rows (the second waits, then
    finds them gone); rows written meanwhile are left for the next run. Sums are unchanged, so
    a report reads the same before, during and after.
    """
    keys, counts = next((k, c) for m, k, c in ROLLUPS if m is model)
    manager = model._default_manager
    repeated = manager.values(*keys).annotate(rows=Count("id")).filter(rows__gt=1)
    weeks = sorted({row["week"] for row in repeated.order_by("week")[:limit]})
    if not weeks:
        return 0
    ids = list(
        manager.filter(week__in=weeks)
        .order_by("id")
        .select_for_update()
        .values_list("id", flat=True)[:limit]
    )
    folded = (
        manager.filter(id__in=ids)
        .values(*keys)
        .annotate(**{f"sum_{name}": Sum(name) for name in counts})
        .order_by()
    )
    rows = [
        model(
            **{name: row[name] for name in keys},
            **{name: row[f"sum_{name}"] for name in counts},
        )
        for row in folded
        if any(row[f"sum_{name}"] for name in counts)
    ]
    manager.filter(id__in=ids).delete()
    manager.bulk_create(rows)
    return len(ids)


def compact_task() -> int:
    """The scheduled fold (`setup_schedules`): every roll-up, until no key has two rows."""
    total = 0
    for model, _, _ in ROLLUPS:
        while folded := outcomes_compact(model):
            total += folded
    return total


class DurationBucket(models.Func):
    """A duration in whole `RESPONSE_BUCKET`s, in SQL (`bucket_of`'s twin, for rebuilding)."""

    output_field = models.IntegerField()

    def as_postgresql(self, compiler: Any, conn: Any, **extra: Any) -> Any:
        seconds = int(RESPONSE_BUCKET.total_seconds())
        template = f"FLOOR(EXTRACT(EPOCH FROM %(expressions)s) / {seconds})::integer"
        return self.as_sql(compiler, conn, template=template, **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        micro = int(RESPONSE_BUCKET.total_seconds()) * 1_000_000
        template = f"(%(expressions)s / {micro})"
        return self.as_sql(compiler, connection, template=template, **extra)


def outcomes_rebuild(
    *,
    clock_model: type[models.Model] = SlaClock,
    outcome_model: type[models.Model] = SlaOutcome,
    week_model: type[models.Model] = SlaOutcomeWeek,
    response_model: type[models.Model] = SlaResponseWeek,
) -> int:
    """Recount everything from the clocks, in the database (INSERT ... SELECT): for a new
    installation's existing clocks (a migration passes its historical models), a bulk load
    (`bench/scale.py`) or a repair. Rows of clocks that ended before this runs take the
    ticket's queue and assignee as they are now. Returns how many rows there are."""
    responded = Q(metric=Metric.FIRST_RESPONSE, met_at__isnull=False)
    responded &= Q(business_elapsed__isnull=False)
    when_responded = models.Case(
        models.When(responded, then=F("met_at")), output_field=models.DateTimeField()
    )
    response = models.Case(
        models.When(responded, then=F("business_elapsed")), output_field=models.DurationField()
    )
    with transaction.atomic():
        for model in (outcome_model, week_model, response_model):
            model._default_manager.all().delete()
        outcomes = (
            clock_model._default_manager.filter(COUNTED | responded)
            .annotate(
                outcome_at=Coalesce("breached_at", "met_at", output_field=models.DateTimeField()),
                is_breached=models.ExpressionWrapper(
                    Q(breached_at__isnull=False), output_field=models.BooleanField()
                ),
                is_counted=models.ExpressionWrapper(
                    Q(target__isnull=False), output_field=models.BooleanField()
                ),
                when_responded=when_responded,
                took=response,
                bucket=DurationBucket(response),
                organization=F("ticket__organization_id"),
                queue=F("ticket__queue_id"),
                assignee=F("ticket__assignee_id"),
            )
            .values_list(
                "id",
                "ticket_id",
                "outcome_at",
                "is_breached",
                "is_counted",
                "when_responded",
                "took",
                "bucket",
                "metric",
                "plan_id",
                "severity_id",
                "organization",
                "queue",
                "assignee",
            )
        )
        columns = ["clock_id", "ticket_id", "at", "breached", "counted", "responded_at"]
        columns += ["response", "response_bucket", "metric", "plan_id", "severity_id"]
        columns += ["organization_id", "queue_id", "assignee_id"]
        count = _insert_select(outcome_model, columns, outcomes)
        rows = outcome_model._default_manager
        weeks = (
            rows.filter(counted=True)
            .annotate(monday=TruncWeek("at", tzinfo=dt.UTC, output_field=models.DateField()))
            .values("monday", *KEY_FIELDS)
            .annotate(
                met=Count("pk", filter=Q(breached=False)),
                late=Count("pk", filter=Q(breached=True)),
            )
            .values_list("monday", *KEY_FIELDS, "met", "late")
            .order_by()
        )
        _insert_select(week_model, ["week", *KEY_FIELDS, "met_on_time", "breached"], weeks)
        responses = (
            rows.filter(responded_at__isnull=False)
            .annotate(
                monday=TruncWeek("responded_at", tzinfo=dt.UTC, output_field=models.DateField())
            )
            .values("monday", "response_bucket")
            .annotate(responses=Count("pk"))
            .values_list("monday", "response_bucket", "responses")
            .order_by()
        )
        _insert_select(response_model, ["week", "bucket", "responses"], responses)
    return count


def _insert_select(model: type[models.Model], columns: list[str], rows: Any) -> int:
    """`INSERT INTO model (columns) SELECT ...` of a queryset whose values are in that order."""
    sql, params = rows.query.sql_with_params()
    table = model._meta.db_table
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:  # names from model metadata; values are parameters
        cursor.execute(f"INSERT INTO {table} ({names}) {sql}", params)
        return cursor.rowcount
