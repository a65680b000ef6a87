"""The one SLA standing of a clock at an instant: pure, no ORM, no settings.

Every screen, export, mail and metric asks this module (or its SQL twin in `sla.selectors`) what a
clock means; nothing else classifies clocks. The rules, in order:

1. No target: the metric has no guarantee (a ladder may still watch it): `NO_TARGET`.
2. Cancelled: the clock stopped without an outcome (the ticket was closed as out of scope, or a
   severity change ended the cycle): `CANCELLED`.
3. Met: `MET_LATE` when the clock breached before it was met (`breached_at` set, or met after its
   due instant before the sweep recorded the breach), otherwise `MET_ON_TIME`.
4. Paused (waiting on the customer): `BREACHED` only when it breached before the pause (its
   `breached_at` is set, or the pause began at or after the due instant); otherwise `PAUSED`, even
   when the due instant it had when it paused has passed: that instant moves on when it resumes.
5. Running: `BREACHED` once the due instant has passed (whether or not the sweep has recorded
   it yet), `AT_RISK` once `AT_RISK_SHARE` of the target's business time is used (the clock
   service stores that instant as `at_risk_at`), otherwise `ON_TRACK`.

Business time left is measured on the clock's calendar: from now to the due instant while running,
from the pause to the due instant while paused (it does not run down while paused), negative once
breached. The used share is the part of the target spent: `1 - left / target`.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

AT_RISK_SHARE = 0.75
"""A running clock is at risk once this share of its target's business time is used."""

ZERO = dt.timedelta(0)


class Standing(enum.StrEnum):
    NO_TARGET = "no_target"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"
    PAUSED = "paused"
    MET_ON_TIME = "met_on_time"
    MET_LATE = "met_late"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return LABELS[self]

    @property
    def is_live(self) -> bool:
        """Can still be met or missed: shown with time left."""
        return self in LIVE


LABELS = {
    Standing.NO_TARGET: "No target",
    Standing.ON_TRACK: "On track",
    Standing.AT_RISK: "At risk",
    Standing.BREACHED: "Breached",
    Standing.PAUSED: "Paused",
    Standing.MET_ON_TIME: "Met on time",
    Standing.MET_LATE: "Met late",
    Standing.CANCELLED: "Stopped",
}

LIVE = frozenset({Standing.ON_TRACK, Standing.AT_RISK, Standing.BREACHED, Standing.PAUSED})

URGENCY = {
    Standing.BREACHED: 0,
    Standing.AT_RISK: 1,
    Standing.ON_TRACK: 2,
    Standing.PAUSED: 3,
    Standing.NO_TARGET: 4,
    Standing.MET_LATE: 5,
    Standing.MET_ON_TIME: 6,
    Standing.CANCELLED: 7,
}
"""Rank of a standing in the agents' queue: lower is more urgent."""


class ClockFacts(Protocol):
    """What the standing reads of a clock (an `sla.models.SlaClock` has all of it)."""

    @property
    def state(self) -> str: ...
    @property
    def target(self) -> dt.timedelta | None: ...
    @property
    def due_at(self) -> dt.datetime | None: ...
    @property
    def at_risk_at(self) -> dt.datetime | None: ...
    @property
    def paused_at(self) -> dt.datetime | None: ...
    @property
    def met_at(self) -> dt.datetime | None: ...
    @property
    def breached_at(self) -> dt.datetime | None: ...


class BusinessTime(Protocol):
    """Business time between two instants on a calendar (`sla.clock.BusinessCalendar`)."""

    def elapsed(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta: ...


@dataclass(frozen=True)
class ClockStanding:
    """A clock's standing at an instant, with its business time left and the wall-clock due."""

    standing: Standing
    due_at: dt.datetime | None
    target: dt.timedelta | None
    business_left: dt.timedelta | None
    """Business time until due (negative: overdue); None without a target or once met."""

    @property
    def label(self) -> str:
        return self.standing.label

    @property
    def used_share(self) -> float | None:
        """The share of the target's business time used (above 1 once breached)."""
        if self.business_left is None or not self.target:
            return None
        return 1 - self.business_left / self.target


def standing_of(clock: ClockFacts, *, now: dt.datetime) -> Standing:
    """The standing of `clock` at `now` (rules in the module's docstring)."""
    if clock.target is None:
        return Standing.NO_TARGET
    if clock.state == "cancelled":
        return Standing.CANCELLED
    if clock.state == "met":
        if clock.breached_at is not None or (
            clock.due_at is not None and clock.met_at is not None and clock.met_at > clock.due_at
        ):
            return Standing.MET_LATE
        return Standing.MET_ON_TIME
    if clock.state == "paused":
        breached_before_pause = clock.breached_at is not None or (
            clock.due_at is not None
            and clock.paused_at is not None
            and clock.paused_at >= clock.due_at
        )
        return Standing.BREACHED if breached_before_pause else Standing.PAUSED
    if clock.breached_at is not None or (clock.due_at is not None and clock.due_at <= now):
        return Standing.BREACHED
    if clock.at_risk_at is not None and clock.at_risk_at <= now:
        return Standing.AT_RISK
    return Standing.ON_TRACK


def business_left(
    clock: ClockFacts, standing: Standing, *, now: dt.datetime, calendar: BusinessTime
) -> dt.timedelta | None:
    """Business time from now (or the pause) to the due instant; negative once overdue."""
    if clock.due_at is None or not standing.is_live:
        return None
    since = clock.paused_at if clock.state == "paused" and clock.paused_at else now
    if since <= clock.due_at:
        return calendar.elapsed(since, clock.due_at)
    return -calendar.elapsed(clock.due_at, since)


def clock_standing(clock: ClockFacts, *, now: dt.datetime, calendar: BusinessTime) -> ClockStanding:
    """The standing with business time left, measured on the clock's calendar."""
    standing = standing_of(clock, now=now)
    return ClockStanding(
        standing=standing,
        due_at=clock.due_at,
        target=clock.target,
        business_left=business_left(clock, standing, now=now, calendar=calendar),
    )


def most_urgent(standings: list[ClockStanding]) -> ClockStanding | None:
    """The clock a ticket's badge speaks about: the most urgent live one, due first."""
    live = [s for s in standings if s.standing.is_live]
    if not live:
        return None
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return min(live, key=lambda s: (URGENCY[s.standing], s.due_at or far))


# -- a ticket's standing, from the summary of its clocks that the ticket stores ---------------


@dataclass(frozen=True)
class TicketSla:
    """What a ticket stores of its live clocks with a target, so that the queue can filter and
    sort by standing in the database without reading clocks:

    - `breach_at`: when its standing becomes (or became) breached: the earliest due instant of a
      running clock, or the breach of a clock that breached before it paused;
    - `risk_at`: the earliest at-risk instant of a running clock;
    - `due_at`: the earliest due instant of a running clock (None: nothing running);
    - `paused`: a clock is paused in time (it did not breach before the pause).
    Its standing at any instant is `ticket_standing(summary, now=...)`, the same as the most
    urgent of its clocks' standings (a test checks it on random clocks).
    """

    breach_at: dt.datetime | None = None
    risk_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    paused: bool = False


def _earliest(*values: dt.datetime | None) -> dt.datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def ticket_sla(clocks: Sequence[ClockFacts]) -> TicketSla:
    summary = TicketSla()
    for clock in clocks:
        if clock.target is None or clock.state not in ("running", "breached", "paused"):
            continue
        if clock.state == "paused":
            before_pause = clock.breached_at
            if (
                before_pause is None
                and clock.due_at is not None
                and clock.paused_at is not None
                and clock.paused_at >= clock.due_at
            ):
                before_pause = clock.due_at
            summary = TicketSla(
                breach_at=_earliest(summary.breach_at, before_pause),
                risk_at=summary.risk_at,
                due_at=summary.due_at,
                paused=summary.paused or before_pause is None,
            )
            continue
        summary = TicketSla(
            breach_at=_earliest(summary.breach_at, clock.breached_at, clock.due_at),
            risk_at=_earliest(summary.risk_at, clock.at_risk_at),
            due_at=_earliest(summary.due_at, clock.due_at),
            paused=summary.paused,
        )
    return summary


def ticket_standing(summary: TicketSla, *, now: dt.datetime) -> Standing | None:
    """The ticket's standing at `now`: its most urgent live clock's; None without one."""
    if summary.breach_at is not None and summary.breach_at <= now:
        return Standing.BREACHED
    if summary.risk_at is not None and summary.risk_at <= now:
        return Standing.AT_RISK
    if summary.due_at is not None:
        return Standing.ON_TRACK
    if summary.paused:
        return Standing.PAUSED
    return None
