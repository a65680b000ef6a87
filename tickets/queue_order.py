"""The agents' queue order, read from stored, indexed columns so a page costs the same at any size.

The order (DESIGN, "Queue order"): the SLA standing's urgency (breached, at risk, on track,
paused, nothing live: `sla.standing.URGENCY`), then the plan's priority as the policy ranks it
(higher first), then the severity (level 1 first), then the instant the standing turns (or
turned) breached, soonest first, then first in, first out.

- The plan's priority and the severity's level are stored on the ticket as one number,
  `Ticket.queue_rank` (`queue_rank(priority, level)`: smaller goes first), set wherever a
  ticket's plan or severity is set and refreshed when a policy changes a priority or a level.
- The standing depends on the instant only through `sla_breach_at <= now` and
  `sla_risk_at <= now`, so no stored column can hold it. `sla.selectors.ticket_urgency_parts`
  cuts it into parts, each one range of `sla_breach_at` within an SLA phase, and the queue's
  indexes hold open tickets by (rank, [assignee | queue], phase, breach instant, created, id).
  A page is then a UNION ALL of one branch per part, each reading its ranges in index order
  (one per rank: `rank = ANY(ranks)` makes PostgreSQL walk them in order) and stopping after the
  rows the page can need; the database never sorts all open tickets. `ordered_by_urgency` is
  the same order as one CASE (tests check that both agree; small or unusual lists use it).
- The paginator counts at most a few pages past the one asked for (`capped_count`).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import BooleanField, F, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.expressions import Combinable, OrderBy, RawSQL

from plans.models import Plan, Severity
from sla.selectors import ticket_urgency_case, ticket_urgency_parts
from tickets.models import CLOSED_STATUSES, Ticket

LEVELS = 32768
"""Severity levels are positive small integers (below 32768): one priority step spans them all.
A plan's priority is a small integer too, so the rank fits a 32-bit integer."""

N = TypeVar("N", int, Combinable)


def queue_rank(priority: N, level: N) -> N:
    """The ticket's place among equally urgent ones: higher plan priority first, then lower
    severity level. The one definition, for numbers and SQL expressions alike; with the usual
    priority 0 it is the severity level."""
    return level - priority * LEVELS


def queue_rank_sql() -> Combinable:
    """The rank of a ticket row from its plan and severity rows (for set-based updates)."""
    priority = Subquery(Plan.objects.filter(pk=OuterRef("plan_id")).values("priority")[:1])
    level = Subquery(Severity.objects.filter(pk=OuterRef("severity_id")).values("level")[:1])
    return queue_rank(priority, level)


def rank_of(ticket: Ticket) -> int:
    """The rank a ticket should store, from its (loaded) plan and severity."""
    return queue_rank(ticket.plan.priority, ticket.severity.level)


BREACH_SOONEST = OrderBy(F("sla_breach_at"), nulls_last=True)
STORED_KEYS: list[Any] = ["queue_rank", BREACH_SOONEST, "created_at", "id"]
"""The order among equally urgent tickets, all stored on the ticket (and in the queue's indexes)."""


def urgency_order(now: dt.datetime) -> list[Any]:
    """The queue's order as ORDER BY terms: the standing's urgency at `now` (a CASE), then the
    stored keys."""
    return [ticket_urgency_case(now=now, prefix="sla_"), *STORED_KEYS]


def ordered_by_urgency(tickets: QuerySet[Ticket], *, now: dt.datetime) -> QuerySet[Ticket]:
    """The queue's order as one ORDER BY: sorts every row it selects."""
    return tickets.order_by(*urgency_order(now))


def open_ranks() -> list[int]:
    """The ranks open tickets have, each once (an index walk on PostgreSQL, one step per rank)."""
    table = Ticket._meta.db_table
    closed = ", ".join(f"'{status}'" for status in CLOSED_STATUSES)
    open_row = f"NOT (t.status IN ({closed}))"
    with connections[Ticket.objects.db].cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE ranks(rank) AS (
                (SELECT t.queue_rank FROM {table} t WHERE {open_row} ORDER BY 1 LIMIT 1)
                UNION ALL
                SELECT (
                    SELECT t.queue_rank FROM {table} t
                    WHERE {open_row} AND t.queue_rank > ranks.rank ORDER BY 1 LIMIT 1
                ) FROM ranks WHERE ranks.rank IS NOT NULL
            )
            SELECT rank FROM ranks WHERE rank IS NOT NULL
            """
        )
        return [row[0] for row in cursor.fetchall()]


def _parts(
    tickets: QuerySet[Ticket],
    *,
    now: dt.datetime,
    urgencies: Sequence[int] | None,
    ranks: Sequence[int] | None,
) -> list[tuple[int, QuerySet[Ticket]]]:
    """`tickets` cut into the parts of `ticket_urgency_parts` (of these urgencies only)."""
    base = tickets.select_related(None).prefetch_related(None).order_by()
    if ranks is not None:
        # One index range per rank, walked in rank order (`= ANY` on the index's first column).
        in_ranks = f"{Ticket._meta.db_table}.queue_rank = ANY(%s)"
        base = base.filter(RawSQL(in_ranks, [list(ranks)], output_field=BooleanField()))
    return [
        (urgency, base.filter(condition))
        for urgency, condition in ticket_urgency_parts(now=now, prefix="sla_")
        if urgencies is None or urgency in urgencies
    ]


def page_ids(
    tickets: QuerySet[Ticket],
    *,
    now: dt.datetime,
    start: int,
    stop: int,
    urgencies: Sequence[int] | None = None,
    ranks: Sequence[int] | None = None,
) -> QuerySet[Any]:
    """(urgency, rank, breach instant, created, id) of `tickets[start:stop]` in the queue's
    order, as one lazy query. `urgencies`: only tickets of these (a filter by standing says
    which); `ranks`: every rank the tickets may have (`open_ranks()`), so each part reads one
    range per rank. Where the database allows it (PostgreSQL), each part stops after `stop`
    rows."""
    branches = [
        part.annotate(bucket=Value(urgency, output_field=IntegerField())).values_list(
            "bucket", "queue_rank", "sla_breach_at", "created_at", "id"
        )
        for urgency, part in _parts(tickets, now=now, urgencies=urgencies, ranks=ranks)
    ]
    if len(branches) <= 1:
        only = branches[0] if branches else tickets.none().values_list("id")
        return only.order_by(*STORED_KEYS)[start:stop]
    if connections[tickets.db].features.supports_slicing_ordering_in_compound:
        branches = [branch.order_by(*STORED_KEYS)[:stop] for branch in branches]
    first, *others = branches
    return first.union(*others, all=True).order_by("bucket", *STORED_KEYS)[start:stop]


def page_rows(
    tickets: QuerySet[Ticket],
    *,
    now: dt.datetime,
    start: int,
    stop: int,
    urgencies: Sequence[int] | None = None,
    ranks: Sequence[int] | None = None,
) -> QuerySet[Ticket]:
    """`ordered_by_urgency(tickets)[start:stop]` (with `tickets`' related rows and prefetches),
    its ids read part by part (`page_ids`) in the same query."""

    def ids(at: dt.datetime) -> QuerySet[Any]:
        return page_ids(tickets, now=at, start=start, stop=stop, urgencies=urgencies, ranks=ranks)

    shape = ("page", start, stop, _shape_of(urgencies), _shape_of(ranks))
    try:
        sql, params = compiled_sql(tickets, shape, now=now, build=ids)
    except EmptyResultSet:
        return tickets.none()
    page = RawSQL(f"SELECT page.id FROM ({sql}) page", params)  # Django compiled it
    # Sorting the page's own rows again is cheap, and gives them the queue's order.
    return ordered_by_urgency(tickets.filter(pk__in=page), now=now)


def capped_count(
    tickets: QuerySet[Ticket],
    *,
    limit: int,
    now: dt.datetime | None = None,
    urgencies: Sequence[int] | None = None,
    ranks: Sequence[int] | None = None,
) -> int:
    """How many rows `tickets` has, counting no further than `limit`. With `now`, the rows are
    read part by part (as a page is), through the queue's indexes."""
    if now is None:
        rows = tickets.select_related(None).prefetch_related(None).order_by().values("pk")
        return rows[:limit].count()

    def union(at: dt.datetime) -> QuerySet[Any]:
        branches = [
            part.values_list("id")
            for _, part in _parts(tickets, now=at, urgencies=urgencies, ranks=ranks)
        ]
        if not branches:
            raise EmptyResultSet
        first, *others = branches
        return (first.union(*others, all=True) if others else first)[:limit]

    shape = ("count", limit, _shape_of(urgencies), _shape_of(ranks))
    try:
        sql, params = compiled_sql(tickets, shape, now=now, build=union)
    except EmptyResultSet:
        return 0
    with connections[tickets.db].cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) subquery", params)
        return int(cursor.fetchone()[0])


# --------------------------------------------------------------------------------------------
# The parts' SQL, compiled once per shape

COMPILED_CACHE_SIZE = 256
"""How many compiled queries a process keeps (a few per view of the queue and page asked)."""

_compiled: OrderedDict[Hashable, tuple[str, tuple[Any, ...], frozenset[int]]] = OrderedDict()
_compiled_lock = threading.Lock()


class _Now:
    """Where the instant stood among a query's parameters (in a cache key)."""


NOW = _Now()


def _shape_of(values: Sequence[int] | None) -> tuple[int, ...] | None:
    return None if values is None else tuple(values)


def compiled_sql(
    tickets: QuerySet[Ticket],
    shape: Hashable,
    *,
    now: dt.datetime,
    build: Callable[[dt.datetime], QuerySet[Any]],
) -> tuple[str, list[Any]]:
    """`build(now)`'s SQL and parameters, compiled once per shape and reused at later instants.

    A page's query is a union of a branch per part, each with the view's filters: compiling it
    costs milliseconds, and only the instant changes from one reading to the next. The key is
    `tickets`' own SQL and parameters, the instant marked where it stands (so a view filtered
    by standing at the same instant is reused too), and `shape` (what else `build` depends
    on). A first compilation is checked against a second one a second later: kept only if the
    instant is all that moves, each place it stands then takes the next one."""
    ops = connections[tickets.db].ops
    stamp = ops.adapt_datetimefield_value(now)
    base_sql, base_params = (
        tickets.select_related(None).prefetch_related(None).order_by().query.sql_with_params()
    )
    marked = tuple(NOW if _is(param, now, stamp) else param for param in base_params)
    key: Hashable | None = (tickets.db, base_sql, marked, shape)
    if any(isinstance(param, dt.datetime) for param in marked):
        key = None  # an instant other than `now` among the filters: compile each time
    else:
        try:
            hash(key)
        except TypeError:
            key = None
    if key is not None:
        with _compiled_lock:
            hit = _compiled.get(key)
            if hit is not None:
                _compiled.move_to_end(key)
        if hit is not None:
            sql, params, slots = hit
            return sql, [stamp if n in slots else param for n, param in enumerate(params)]
    sql, first = build(now).query.sql_with_params()
    if key is not None:
        slots = frozenset(n for n, param in enumerate(first) if _is(param, now, stamp))
        later_sql, later = build(now + dt.timedelta(seconds=1)).query.sql_with_params()
        if later_sql == sql and all(
            a == b for n, (a, b) in enumerate(zip(first, later, strict=True)) if n not in slots
        ):
            with _compiled_lock:
                _compiled[key] = (sql, tuple(first), slots)
                while len(_compiled) > COMPILED_CACHE_SIZE:
                    _compiled.popitem(last=False)
    return sql, list(first)


def _is(param: Any, now: dt.datetime, stamp: Any) -> bool:
    """Whether a parameter is the instant (as the database's adapter writes it, for SQLite a
    string)."""
    return (
        type(param) is type(stamp)
        and param == stamp
        or (isinstance(param, dt.datetime) and param == now)
    )
