"""The sweep and the recalculation over the million-ticket data (`bench/scale.py --parts sweep`).

`measure_sweep`: 10,000 live clocks fall due at once, with rules that notify (the assignee, the
queue, the support managers, a group) and, on two plans, move the ticket to another queue. The
sweep runs batch after batch until nothing is due; each batch's time and query count is printed.
Everything runs inside one transaction that is rolled back, so the data stays as it was (and no
mail task is enqueued: those run on commit).

`measure_recalculation`: a policy change (the bench calendar opens 24x7 and every bench plan gets
targets) and `clocks_recalculate` over every live clock, committed chunk by chunk as in
production; time and the process's peak memory are printed. The clocks and tickets it changes are
copied first and written back afterwards (also at the start of a run that finds a copy left by a
run that died), with what the report counts of them (their outcome rows; the weekly counts'
deltas it appended are deleted), and the rows it added are deleted.
"""

from __future__ import annotations

import datetime as dt
import resource
import statistics
import sys
import time
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import Max, Model
from django.utils import timezone

from plans.models import Plan, Severity
from sla.models import (
    BusinessCalendar,
    EscalationFiring,
    EscalationRule,
    SlaClock,
    SlaClockEvent,
    Target,
)
from sla.recalculation import clocks_recalculate
from sla.services import sweep
from tickets.models import (
    OutgoingNotification,
    Queue,
    SlaOutcome,
    SlaOutcomeWeek,
    SlaResponseWeek,
    Ticket,
    TicketEvent,
)

H = dt.timedelta(hours=1)
LIVE = ("running", "paused", "breached")
BACKUP_CLOCKS = "bench_recalc_clocks"
BACKUP_TICKETS = "bench_recalc_tickets"
BACKUP_OUTCOMES = "bench_recalc_outcomes"


class QueryCounter:
    """Counts the statements run (savepoints aside: the bench's own transaction adds them)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if "SAVEPOINT" not in sql:
            self.count += 1
        return execute(sql, params, many, context)


def _top(model: type[Model]) -> int:
    return model._default_manager.aggregate(top=Max("pk"))["top"] or 0


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _bench_policy() -> tuple[BusinessCalendar, list[Plan], list[Severity]]:
    calendar = BusinessCalendar.objects.get(slug="bench-always")
    plans = list(Plan.objects.filter(slug__startswith="bench-").order_by("position", "pk"))
    severities = list(Severity.objects.filter(policy_id=calendar.policy_id).order_by("level"))
    return calendar, plans, severities


def _open_calendar(calendar: BusinessCalendar) -> None:
    """The bench calendar is built with no open hours; make it 24x7 (a calendar change)."""
    calendar.always_open = True
    calendar.updated_at = timezone.now()
    calendar.save(update_fields=["always_open", "updated_at"])


# -- the sweep -----------------------------------------------------------------------------------


def _sweep_rules(plans: list[Plan], severities: list[Severity]) -> None:
    """A ladder on resolution for every bench plan and severity: at 1 h the assignee, the queue
    and the support managers; at 2 h the directors, and on two plans a move to L2."""
    rules = []
    for n, plan in enumerate(plans):
        for severity in severities:
            common = {"plan": plan, "severity": severity, "metric": "resolution"}
            rules.append(
                EscalationRule(
                    **common, after=H, notify=["assignee", "queue", "support_managers"], position=0
                )
            )
            rules.append(
                EscalationRule(
                    **common,
                    after=2 * H,
                    notify=["group:directors"],
                    move_to="bench-l2" if n % 2 else "",
                    position=1,
                )
            )
    EscalationRule.objects.bulk_create(rules)


def _people() -> None:
    """Agents with addresses (queue and assignee roles), a manager and two directors."""
    User = get_user_model()
    User.objects.filter(username__startswith="bench-agent").update(email="agent@bench.example")
    agents = list(User.objects.filter(username__startswith="bench-agent"))
    for queue in Queue.objects.filter(slug__startswith="bench-"):
        queue.agents.add(*agents[:5])
    managers, _ = Group.objects.get_or_create(name="support managers")
    directors, _ = Group.objects.get_or_create(name="directors")
    boss = User.objects.create(username="bench-sweep-boss", email="boss@bench.example")
    managers.user_set.add(boss)
    for n in range(2):
        director = User.objects.create(username=f"bench-director{n}", email=f"d{n}@bench.example")
        directors.user_set.add(director)


def _fall_due(count: int, now: dt.datetime) -> int:
    """`count` running resolution clocks of bench tickets fall due now; half of them breach."""
    ids = list(
        SlaClock.objects.filter(state="running", metric="resolution", started_at__lt=now - 3 * H)
        .order_by("pk")
        .values_list("pk", flat=True)[:count]
    )
    SlaClock.objects.filter(pk__in=ids).update(next_action_at=now - dt.timedelta(seconds=1))
    SlaClock.objects.filter(pk__in=ids[::2]).update(due_at=now - dt.timedelta(seconds=30))
    return len(ids)


def measure_sweep(due: int = 10_000) -> None:
    print(f"sweep: {due:,} clocks due at once", flush=True)
    with transaction.atomic():
        now = timezone.now()
        calendar, plans, severities = _bench_policy()
        _open_calendar(calendar)
        _sweep_rules(plans, severities)
        _people()
        made_due = _fall_due(due, now)
        live = SlaClock.objects.filter(state__in=LIVE).count()
        notices_before, events_before = _top(OutgoingNotification), _top(TicketEvent)
        print(f"  {live:,} live clocks, {made_due:,} due now", flush=True)
        batches: list[tuple[int, int, float, int]] = []
        while True:
            counter = QueryCounter()
            with connection.execute_wrapper(counter):
                started = time.perf_counter()
                result = sweep(now=now)
                elapsed = time.perf_counter() - started
            if not result.clocks:
                break
            queries = counter.count
            batches.append((result.clocks, result.fired, elapsed, queries))
            print(
                f"  batch: {result.clocks:>5,} clocks, {result.fired:>5,} fired, "
                f"{result.breached:>5,} breached, {elapsed * 1000:8.1f} ms "
                f"({elapsed * 1e6 / result.clocks:6.1f} ms per 1,000), {queries} queries",
                flush=True,
            )
        clocks = sum(b[0] for b in batches)
        total = sum(b[2] for b in batches)
        notices = OutgoingNotification.objects.filter(pk__gt=notices_before).count()
        events = TicketEvent.objects.filter(pk__gt=events_before).count()
        moved = TicketEvent.objects.filter(pk__gt=events_before, kind="queue").count()
        print(
            f"  total: {clocks:,} clocks in {len(batches)} batches, {total:.2f} s, "
            f"{total * 1e6 / max(clocks, 1):.1f} ms per 1,000 due clocks; queries per batch "
            f"{'/'.join(str(b[3]) for b in batches)}; fired {sum(b[1] for b in batches):,}, "
            f"{notices:,} notification rows, {events:,} ticket events ({moved:,} queue moves)",
            flush=True,
        )
        transaction.set_rollback(True)
    # The rolled-back rows are dead rows the planner still counts: vacuumed, as autovacuum
    # would, so the next run (and the recalculation) is planned for the tables as they are.
    with connection.cursor() as cursor:
        for model in (
            EscalationFiring,
            OutgoingNotification,
            TicketEvent,
            SlaClockEvent,
            SlaOutcome,
        ):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")


# -- the recalculation ---------------------------------------------------------------------------


def _columns(model: type[Model]) -> list[str]:
    return [f.column for f in model._meta.concrete_fields if not f.primary_key]


def _backup(cursor: Any) -> None:
    clocks, tickets = SlaClock._meta.db_table, Ticket._meta.db_table
    cursor.execute(
        f"CREATE TABLE {BACKUP_CLOCKS} AS SELECT * FROM {clocks} WHERE state = ANY(%s)",
        [list(LIVE)],
    )
    cursor.execute(
        f"CREATE TABLE {BACKUP_TICKETS} AS SELECT * FROM {tickets} WHERE id IN "
        f"(SELECT ticket_id FROM {BACKUP_CLOCKS})"
    )
    # What the report counts of those clocks, and where the weekly counts' deltas start.
    cursor.execute(
        f"CREATE TABLE {BACKUP_OUTCOMES} AS SELECT * FROM {SlaOutcome._meta.db_table} "
        f"WHERE clock_id IN (SELECT id FROM {BACKUP_CLOCKS})"
    )
    cursor.execute(
        f"ALTER TABLE {BACKUP_CLOCKS} ADD COLUMN bench_event_top bigint, "
        "ADD COLUMN bench_week_top bigint, ADD COLUMN bench_response_top bigint"
    )
    cursor.execute(
        f"UPDATE {BACKUP_CLOCKS} SET bench_event_top = %s, bench_week_top = %s, "
        "bench_response_top = %s",
        [_top(SlaClockEvent), _top(SlaOutcomeWeek), _top(SlaResponseWeek)],
    )


def _restore(cursor: Any) -> None:
    """Write the copied rows back and drop the copies (a no-op without a copy)."""
    cursor.execute("SELECT to_regclass(%s)", [BACKUP_CLOCKS])
    if cursor.fetchone()[0] is None:
        return
    started = time.perf_counter()
    with transaction.atomic():
        cursor.execute(
            "SELECT max(bench_event_top), max(bench_week_top), max(bench_response_top) "
            f"FROM {BACKUP_CLOCKS}"
        )
        event_top, week_top, response_top = cursor.fetchone()
        SlaClockEvent.objects.filter(pk__gt=event_top or 0).delete()
        SlaOutcomeWeek.objects.filter(pk__gt=week_top or 0).delete()
        SlaResponseWeek.objects.filter(pk__gt=response_top or 0).delete()
        outcomes = SlaOutcome._meta.db_table
        cursor.execute(f"DELETE FROM {outcomes} WHERE clock_id IN (SELECT id FROM {BACKUP_CLOCKS})")
        cursor.execute(f"INSERT INTO {outcomes} SELECT * FROM {BACKUP_OUTCOMES}")
        cursor.execute(f"DROP TABLE {BACKUP_OUTCOMES}")
        for model, backup in ((SlaClock, BACKUP_CLOCKS), (Ticket, BACKUP_TICKETS)):
            table = model._meta.db_table
            sets = ", ".join(f'"{c}" = b."{c}"' for c in _columns(model))
            cursor.execute(f"UPDATE {table} t SET {sets} FROM {backup} b WHERE t.id = b.id")
            cursor.execute(f"DROP TABLE {backup}")
        Target.objects.filter(plan__slug__startswith="bench-", note="bench-recalc").delete()
        BusinessCalendar.objects.filter(slug="bench-always").update(always_open=False)
    # Each row now has dead versions behind it: clean them up, or the next runs read past them.
    cursor.execute(f"VACUUM ANALYZE {SlaClock._meta.db_table}, {Ticket._meta.db_table}")
    print(f"  restored the clocks and tickets in {time.perf_counter() - started:.1f} s")


def _targets(calendar: BusinessCalendar, plans: list[Plan], severities: list[Severity]) -> None:
    """Targets for every bench plan and severity (the bench data has none): a target change."""
    resolution = [8 * H, 72 * H, 720 * H, 2160 * H]
    Target.objects.bulk_create(
        Target(
            plan=plan,
            severity=severity,
            calendar=calendar,
            acknowledge=H,
            first_response=4 * H,
            resolution=resolution[n],
            note="bench-recalc",
        )
        for plan in plans
        for n, severity in enumerate(severities)
    )


def measure_recalculation() -> None:
    with connection.cursor() as cursor:
        _restore(cursor)  # what a run that died left
        live = SlaClock.objects.filter(state__in=LIVE).count()
        print(f"recalculation: {live:,} live clocks", flush=True)
        started = time.perf_counter()
        _backup(cursor)
        print(f"  copied them in {time.perf_counter() - started:.1f} s", flush=True)
        try:
            calendar, plans, severities = _bench_policy()
            with transaction.atomic():
                _open_calendar(calendar)
                _targets(calendar, plans, severities)
            done = [0]
            ticks: list[float] = []

            def progress(n: int) -> None:
                done[0] += n
                ticks.append(time.perf_counter())
                if len(ticks) % 50 == 0:
                    rate = done[0] / (ticks[-1] - started)
                    print(f"  {done[0]:>9,} clocks ({rate:,.0f}/s)", file=sys.stderr, flush=True)

            peak_before = _peak_mib()
            started = time.perf_counter()
            changed = clocks_recalculate(progress=progress)
            elapsed = time.perf_counter() - started
            gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
            print(
                f"  {done[0]:,} clocks checked, {changed:,} retargeted in {elapsed:.1f} s "
                f"({done[0] / elapsed:,.0f}/s); chunk time median "
                f"{statistics.median(gaps) * 1000 if gaps else 0:.0f} ms, max "
                f"{max(gaps, default=0) * 1000:.0f} ms; peak memory {peak_before:,.0f} -> "
                f"{_peak_mib():,.0f} MiB",
                flush=True,
            )
        finally:
            _restore(cursor)
