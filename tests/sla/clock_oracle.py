"""A slow, obviously correct business clock, to check `sla.clock` against.

It follows the definition literally: an instant is open when its local wall-clock time (from
`instant.astimezone(zone)`) falls inside one of that weekday's periods and the local date is not a
closure. Time is walked UTC minute by UTC minute: every zone used here has whole-minute UTC
offsets and every period boundary is a whole local minute, so the open/closed state cannot change
inside a UTC minute `[m, m + 1 min)`, and asking once per minute (or per partial minute at either
end) is exact to the microsecond. Nothing here shares code with `sla.clock`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

MINUTE = timedelta(minutes=1)
# Refuse to walk further than this (about 140 days of minutes), so a bad test cannot hang.
MAX_STEPS = 200_000


@dataclass(frozen=True)
class CalSpec:
    """A calendar as plain data: (weekday, start_minute, end_minute) periods, closure dates."""

    zone: str
    periods: tuple[tuple[int, int, int], ...] = ()
    closures: frozenset[date] = field(default_factory=frozenset)
    always_open: bool = False

    @classmethod
    def from_calendar(cls, calendar: Any) -> CalSpec:
        """The spec of a `sla.clock.BusinessCalendar` (reads only its constructor inputs)."""
        return cls(
            zone=str(calendar.zone),
            periods=tuple((p.weekday, p.start, p.end) for p in calendar.periods),
            closures=frozenset(calendar.closures),
            always_open=calendar.always_open,
        )


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("the oracle takes aware datetimes only")
    return instant.astimezone(UTC)


def _next_utc_minute(instant: datetime) -> datetime:
    """The first UTC minute mark strictly after `instant` (which is in UTC)."""
    return instant.replace(second=0, microsecond=0) + MINUTE


def oracle_is_open(spec: CalSpec, instant: datetime) -> bool:
    if spec.always_open:
        return True
    local = _utc(instant).astimezone(ZoneInfo(spec.zone))
    offset = local.utcoffset()
    assert offset is not None and offset % MINUTE == timedelta(0), "oracle needs whole minutes"
    if local.date() in spec.closures:
        return False
    # Wall-clock time in microseconds since local midnight.
    wall = ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000 + local.microsecond
    return any(
        weekday == local.weekday() and start * 60_000_000 <= wall < end * 60_000_000
        for weekday, start, end in spec.periods
    )


def oracle_elapsed(spec: CalSpec, start: datetime, end: datetime) -> timedelta:
    t, stop = _utc(start), _utc(end)
    total = timedelta(0)
    for _ in range(MAX_STEPS):
        if t >= stop:
            return total
        piece_end = min(_next_utc_minute(t), stop)
        if oracle_is_open(spec, t):
            total += piece_end - t
        t = piece_end
    raise AssertionError("oracle_elapsed: span too long for the oracle")


def oracle_add(spec: CalSpec, start: datetime, duration: timedelta) -> datetime:
    """The earliest t >= start with oracle_elapsed(start, t) >= duration."""
    t, remaining = _utc(start), duration
    if remaining <= timedelta(0):
        return t
    for _ in range(MAX_STEPS):
        mark = _next_utc_minute(t)
        if oracle_is_open(spec, t):
            if remaining <= mark - t:
                return t + remaining
            remaining -= mark - t
        t = mark
    raise AssertionError("oracle_add: target too far for the oracle")


def oracle_next_open(spec: CalSpec, instant: datetime) -> datetime:
    t = _utc(instant)
    for _ in range(MAX_STEPS):
        if oracle_is_open(spec, t):
            return t
        t = _next_utc_minute(t)
    raise AssertionError("oracle_next_open: no opening within the oracle's reach")
