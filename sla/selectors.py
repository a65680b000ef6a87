"""Reads of SLA clocks, and the SLA standing as SQL: the twin of `sla.standing`.

`standing_q(standing, now=...)` is the condition on a clock row that `sla.standing.standing_of`
answers with that standing at `now`; `standing_case(now=...)` annotates the standing itself and
`urgency_case(now=...)` its rank in the queue. Filters, sorting and reports use these, never a
condition of their own, and `tests/sla/test_standing.py` checks that both answers agree on every
case and on random clocks and instants.
"""

from __future__ import annotations

import datetime as dt
import enum

from django.db.models import Case, Exists, F, IntegerField, Q, QuerySet, Value, When
from django.db.models import CharField as CharOutput
from django.db.models.lookups import Exact

from sla.calendars import clock_for
from sla.models import SlaClock
from sla.standing import URGENCY, ClockStanding, Standing, clock_standing

RUNNING_STATES = ("running", "breached")


def standing_conditions(*, now: dt.datetime, prefix: str = "") -> dict[Standing, Q]:
    """One condition per standing; exactly one holds for any clock row (order as in the rules)."""

    def q(**lookups: object) -> Q:
        return Q(**{f"{prefix}{key}": value for key, value in lookups.items()})

    def f(name: str) -> F:
        return F(f"{prefix}{name}")

    has_target = q(target__isnull=False)
    running = has_target & q(state__in=RUNNING_STATES)
    paused = has_target & q(state="paused")
    met = has_target & q(state="met")
    overdue = q(breached_at__isnull=False) | q(due_at__lte=now)
    not_overdue = q(breached_at__isnull=True) & (q(due_at__isnull=True) | q(due_at__gt=now))
    breached_before_pause = q(breached_at__isnull=False) | q(paused_at__gte=f("due_at"))
    paused_in_time = q(breached_at__isnull=True) & (
        q(due_at__isnull=True) | q(paused_at__isnull=True) | q(paused_at__lt=f("due_at"))
    )
    met_late = q(breached_at__isnull=False) | q(met_at__gt=f("due_at"))
    met_in_time = q(breached_at__isnull=True) & (
        q(due_at__isnull=True) | q(met_at__lte=f("due_at"))
    )
    return {
        Standing.NO_TARGET: q(target__isnull=True),
        Standing.CANCELLED: has_target & q(state="cancelled"),
        Standing.MET_LATE: met & met_late,
        Standing.MET_ON_TIME: met & met_in_time,
        Standing.BREACHED: (running & overdue) | (paused & breached_before_pause),
        Standing.PAUSED: paused & paused_in_time,
        Standing.AT_RISK: running & not_overdue & q(at_risk_at__lte=now),
        Standing.ON_TRACK: running
        & not_overdue
        & (q(at_risk_at__isnull=True) | q(at_risk_at__gt=now)),
    }


def standing_q(standing: Standing, *, now: dt.datetime, prefix: str = "") -> Q:
    """The clocks whose standing at `now` is `standing`."""
    return standing_conditions(now=now, prefix=prefix)[standing]


def live_standing_q(*, now: dt.datetime) -> Q:
    """Clocks that can still be met or missed: on track, at risk, breached (unmet) or paused."""
    conditions = standing_conditions(now=now)
    return (
        conditions[Standing.ON_TRACK]
        | conditions[Standing.AT_RISK]
        | conditions[Standing.BREACHED]
        | conditions[Standing.PAUSED]
    )


def standing_case(*, now: dt.datetime) -> Case:
    """The standing of each clock row as an annotation (its value is a `Standing`)."""
    return Case(
        *(
            When(condition, then=Value(str(s)))
            for s, condition in standing_conditions(now=now).items()
        ),
        output_field=CharOutput(),
    )


def urgency_case(*, now: dt.datetime) -> Case:
    """The queue rank of each clock row's standing (`sla.standing.URGENCY`)."""
    return Case(
        *(
            When(condition, then=Value(URGENCY[s]))
            for s, condition in standing_conditions(now=now).items()
        ),
        output_field=IntegerField(),
    )


def most_urgent_is(clocks: QuerySet[SlaClock], standing: Standing, *, now: dt.datetime) -> Q:
    """Of `clocks` (correlated to an outer row by the caller), the most urgent live one is
    `standing`: one of them has it and none has a more urgent live standing."""
    conditions = standing_conditions(now=now)
    result = Q(Exists(clocks.filter(conditions[standing])))
    for other, rank in URGENCY.items():
        if rank < URGENCY[standing] and other.is_live:
            result &= ~Q(Exists(clocks.filter(conditions[other])))
    return result


def standing_for(clock: SlaClock, *, now: dt.datetime) -> ClockStanding:
    """A clock's standing with its business time left, on its own calendar (cached per process).

    The clock's `calendar` should be loaded with it (`select_related("calendar")`).
    """
    calendar = clock_for(clock.calendar, around=now, zone=clock.time_zone or None)
    return clock_standing(clock, now=now, calendar=calendar)


# -- a ticket's standing from the summary it stores (`sla.standing.TicketSla`) ----------------


def ticket_standing_conditions(*, now: dt.datetime, prefix: str) -> dict[Standing, Q]:
    """The SQL twin of `sla.standing.ticket_standing`, on the summary columns of a ticket named
    `<prefix>breach_at`, `<prefix>risk_at`, `<prefix>due_at` and `<prefix>paused`."""

    def q(**lookups: object) -> Q:
        return Q(**{f"{prefix}{key}": value for key, value in lookups.items()})

    in_time = q(breach_at__isnull=True) | q(breach_at__gt=now)
    not_at_risk = q(risk_at__isnull=True) | q(risk_at__gt=now)
    return {
        Standing.BREACHED: q(breach_at__lte=now),
        Standing.AT_RISK: in_time & q(risk_at__lte=now),
        Standing.ON_TRACK: in_time & not_at_risk & q(due_at__isnull=False),
        Standing.PAUSED: in_time & not_at_risk & q(due_at__isnull=True) & q(paused=True),
    }


NOTHING_LIVE_URGENCY = len(URGENCY)
"""The queue rank of a ticket without a live clock with a target: after every standing."""


class SlaPhase(enum.IntEnum):
    """What a ticket's summary says runs, whatever the instant: a clock with a due instant, a
    clock paused in time, or neither. `ticket_sla` keeps `risk_at` only beside a `due_at` and
    a `due_at` only beside a `breach_at` (the ticket's check constraints hold it to that), so
    with the phase each standing is one or two ranges of `breach_at`."""

    RUNNING = 0
    PAUSED = 1
    IDLE = 2


def ticket_sla_phase(*, prefix: str) -> Case:
    """The `SlaPhase` of a ticket row from its summary columns (the queue indexes it)."""
    return Case(
        When(Q(**{f"{prefix}due_at__isnull": False}), then=Value(int(SlaPhase.RUNNING))),
        When(Q(**{f"{prefix}paused": True}), then=Value(int(SlaPhase.PAUSED))),
        default=Value(int(SlaPhase.IDLE)),
        output_field=IntegerField(),
    )


def ticket_urgency_parts(*, now: dt.datetime, prefix: str) -> list[tuple[int, Q]]:
    """`ticket_urgency_case` cut into parts that an index on (phase, `breach_at`) reads as one
    range each: (urgency, condition) pairs, most urgent first. Exactly one part holds for any
    ticket row that keeps the summary's invariants (`SlaPhase`), and its urgency is the CASE's.
    """

    def q(**lookups: object) -> Q:
        return Q(**{f"{prefix}{key}": value for key, value in lookups.items()})

    def phase_is(phase: SlaPhase) -> Q:
        return Q(Exact(ticket_sla_phase(prefix=prefix), int(phase)))

    breached, later, none = q(breach_at__lte=now), q(breach_at__gt=now), q(breach_at__isnull=True)
    running, paused, idle = (
        phase_is(SlaPhase.RUNNING),
        phase_is(SlaPhase.PAUSED),
        phase_is(SlaPhase.IDLE),
    )
    at_risk, not_at_risk = q(risk_at__lte=now), q(risk_at__isnull=True) | q(risk_at__gt=now)
    urgency = {s: URGENCY[s] for s in (Standing.BREACHED, Standing.AT_RISK, Standing.ON_TRACK)}
    return [
        (urgency[Standing.BREACHED], running & breached),
        (urgency[Standing.BREACHED], paused & breached),
        (urgency[Standing.BREACHED], idle & breached),
        (urgency[Standing.AT_RISK], running & later & at_risk),
        (urgency[Standing.ON_TRACK], running & later & not_at_risk),
        (URGENCY[Standing.PAUSED], paused & later),
        (URGENCY[Standing.PAUSED], paused & none),
        (NOTHING_LIVE_URGENCY, idle & later),
        (NOTHING_LIVE_URGENCY, idle & none),
    ]


def ticket_urgency_case(*, now: dt.datetime, prefix: str) -> Case:
    """The queue rank of a ticket's standing from its summary columns (nothing live: last)."""
    return Case(
        *(
            When(condition, then=Value(URGENCY[s]))
            for s, condition in ticket_standing_conditions(now=now, prefix=prefix).items()
        ),
        default=Value(NOTHING_LIVE_URGENCY),
        output_field=IntegerField(),
    )
