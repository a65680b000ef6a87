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

`outcomes_refresh` keeps both in the same transaction as every change to clocks: `sla` tells
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

from sla.models import SlaClock
from tickets.models import SlaOutcome, SlaOutcomeWeek, Ticket

KEY_FIELDS = ["metric", "plan_id", "severity_id", "queue_id", "assignee_id"]
COUNTED = Q(target__isnull=False) & (Q(met_at__isnull=False) | Q(breached_at__isnull=False))
"""Clocks the report counts: a target and an outcome."""
CONCERNED = COUNTED | Q(outcome_row__isnull=False)
"""Clocks `outcomes_refresh` looks at: counted ones, and those counted until now."""
HELD = ["at", "breached", "metric", "plan_id", "severity_id", "organization_id", "queue_id"]
HELD += ["assignee_id"]
CLOCK_FIELDS = ["id", "ticket_id", "metric", "plan_id", "severity_id", "met_at", "breached_at"]
CLOCK_FIELDS += [f"outcome_row__{name}" for name in HELD]
"""What `outcomes_refresh` reads of a clock: its outcome and the row that counts it now."""
COMPACT_LIMIT = 50_000


def week_of(instant: dt.datetime) -> dt.date:
    """The Monday of the UTC week holding `instant`."""
    day = instant.astimezone(dt.UTC).date()
    return day - dt.timedelta(days=day.weekday())


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


def _same(row: SlaOutcome, wanted: SlaOutcome) -> bool:
    fields = ("at", "breached", "metric", "plan_id", "severity_id")
    return all(getattr(row, name) == getattr(wanted, name) for name in fields)


def outcomes_refresh(ticket_ids: set[int], clocks: Iterable[Any] | None = None) -> None:
    """Bring these tickets' `SlaOutcome` rows and the weekly counts in line with their clocks.

    `clocks`: the tickets' clocks that `CONCERNED` selects, as rows with `CLOCK_FIELDS` (others
    are skipped), when the caller has read them already (`tickets_refresh_sla` reads them with
    the live ones, in its one query). No query when nothing changed; at most four when
    something did (the tickets' queue and assignee for new rows, the rows removed, the rows
    added, the weekly deltas).
    """
    if clocks is None:
        clocks = SlaClock.objects.filter(CONCERNED, ticket_id__in=ticket_ids).values_list(
            *CLOCK_FIELDS, named=True
        )
    wanted, held = {}, {}
    for clock in clocks:
        if clock.outcome_row__at is not None:
            held[clock.id] = SlaOutcome(
                clock_id=clock.id,
                ticket_id=clock.ticket_id,
                **{name: getattr(clock, f"outcome_row__{name}") for name in HELD},
            )
        if clock.breached_at is None and clock.met_at is None:
            continue
        wanted[clock.id] = SlaOutcome(
            clock_id=clock.id,
            ticket_id=clock.ticket_id,
            at=clock.breached_at or clock.met_at,
            breached=clock.breached_at is not None,
            metric=clock.metric,
            plan_id=clock.plan_id,
            severity_id=clock.severity_id,
        )
    gone = [row for clock_id, row in held.items() if clock_id not in wanted]
    added = []
    for clock_id, row in wanted.items():
        old = held.get(clock_id)
        if old is not None and _same(old, row):
            continue
        if old is not None:  # the same outcome holder: keep who held the ticket then
            row.organization_id, row.queue_id, row.assignee_id = (
                old.organization_id,
                old.queue_id,
                old.assignee_id,
            )
            gone.append(old)
        added.append(row)
    if not gone and not added:
        return
    fresh = {row.ticket_id for row in added if row.organization_id is None}
    if fresh:
        holders = {
            t.id: t
            for t in Ticket.objects.filter(id__in=fresh).values_list(
                "id", "organization_id", "queue_id", "assignee_id", named=True
            )
        }
        for row in added:
            if row.organization_id is None:
                ticket = holders[row.ticket_id]
                row.organization_id = ticket.organization_id
                row.queue_id, row.assignee_id = ticket.queue_id, ticket.assignee_id
    deltas: Counter[tuple[Key, bool]] = Counter()
    for row in gone:
        deltas[(_key(row), row.breached)] -= 1
    for row in added:
        deltas[(_key(row), row.breached)] += 1
    if gone:
        SlaOutcome.objects.filter(clock_id__in=[row.clock_id for row in gone]).delete()
    SlaOutcome.objects.bulk_create(added)
    _add_deltas(deltas)


def _add_deltas(deltas: Counter[tuple[Key, bool]]) -> None:
    rows: dict[Key, SlaOutcomeWeek] = {}
    for (key, breached), change in sorted(deltas.items(), key=_delta_order):
        if not change:
            continue
        row = rows.get(key)
        if row is None:
            row = rows[key] = SlaOutcomeWeek(**key._asdict(), met_on_time=0, breached=0)
        if breached:
            row.breached += change
        else:
            row.met_on_time += change
    SlaOutcomeWeek.objects.bulk_create(
        [row for row in rows.values() if row.met_on_time or row.breached]
    )


def _delta_order(item: tuple[tuple[Key, bool], int]) -> tuple[Any, ...]:
    (key, breached), _ = item
    return (key.week, key.metric, key.plan_id, key.severity_id, key.queue_id or 0,
            key.assignee_id or 0, breached)  # fmt: skip


@transaction.atomic
def outcomes_compact(limit: int = COMPACT_LIMIT) -> int:
    """Fold the weekly counts' deltas: each key's rows become one row (none when it sums to
    zero). Returns how many rows were folded. Up to `limit` rows a run, oldest first.

    The rows are locked first, so two runs never fold the same rows (the second waits, then
    finds them gone); rows written meanwhile are left for the next run. Sums are unchanged, so
    a report reads the same before, during and after.
    """
    keys = (
        SlaOutcomeWeek.objects.values("week", *KEY_FIELDS)
        .annotate(rows=Count("id"))
        .filter(rows__gt=1)
        .order_by("week")
    )
    weeks = sorted({row["week"] for row in keys[:limit]})
    if not weeks:
        return 0
    ids = list(
        SlaOutcomeWeek.objects.filter(week__in=weeks)
        .order_by("id")
        .select_for_update()
        .values_list("id", flat=True)[:limit]
    )
    folded = (
        SlaOutcomeWeek.objects.filter(id__in=ids)
        .values("week", *KEY_FIELDS)
        .annotate(met=Sum("met_on_time"), late=Sum("breached"))
        .order_by()
    )
    rows = [
        SlaOutcomeWeek(
            week=row["week"],
            **{name: row[name] for name in KEY_FIELDS},
            met_on_time=row["met"],
            breached=row["late"],
        )
        for row in folded
        if row["met"] or row["late"]
    ]
    SlaOutcomeWeek.objects.filter(id__in=ids).delete()
    SlaOutcomeWeek.objects.bulk_create(rows)
    return len(ids)


def compact_task() -> int:
    """The scheduled fold (`setup_schedules`): until no key has more than one row."""
    total = 0
    while folded := outcomes_compact():
        total += folded
    return total


def outcomes_rebuild(
    *,
    clock_model: type[models.Model] = SlaClock,
    outcome_model: type[models.Model] = SlaOutcome,
    week_model: type[models.Model] = SlaOutcomeWeek,
) -> int:
    """Recount everything from the clocks, in the database (two INSERT ... SELECT): for a new
    installation's existing clocks (a migration passes its historical models), a bulk load
    (`bench/scale.py`) or a repair. Rows of clocks counted before this runs take the ticket's
    queue and assignee as they are now. Returns how many outcomes there are."""
    with transaction.atomic():
        outcome_model._default_manager.all().delete()
        week_model._default_manager.all().delete()
        outcomes = (
            clock_model._default_manager.filter(COUNTED)
            .annotate(
                outcome_at=Coalesce("breached_at", "met_at", output_field=models.DateTimeField()),
                is_breached=Q(breached_at__isnull=False),
                organization=F("ticket__organization_id"),
                queue=F("ticket__queue_id"),
                assignee=F("ticket__assignee_id"),
            )
            .values_list(
                "id",
                "ticket_id",
                "outcome_at",
                "is_breached",
                "metric",
                "plan_id",
                "severity_id",
                "organization",
                "queue",
                "assignee",
            )
        )
        columns = ["clock_id", "ticket_id", "at", "breached", "metric", "plan_id"]
        columns += ["severity_id", "organization_id", "queue_id", "assignee_id"]
        count = _insert_select(outcome_model, columns, outcomes)
        weeks = (
            outcome_model._default_manager.annotate(
                monday=TruncWeek("at", tzinfo=dt.UTC, output_field=models.DateField())
            )
            .values("monday", *KEY_FIELDS)
            .annotate(
                met=Count("pk", filter=Q(breached=False)),
                late=Count("pk", filter=Q(breached=True)),
            )
            .values_list("monday", *KEY_FIELDS, "met", "late")
            .order_by()
        )
        _insert_select(week_model, ["week", *KEY_FIELDS, "met_on_time", "breached"], weeks)
    return count


def _insert_select(model: type[models.Model], columns: list[str], rows: Any) -> int:
    """`INSERT INTO model (columns) SELECT ...` of a queryset whose values are in that order."""
    sql, params = rows.query.sql_with_params()
    table = model._meta.db_table
    names = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:  # names from model metadata; values are parameters
        cursor.execute(f"INSERT INTO {table} ({names}) {sql}", params)
        return cursor.rowcount
