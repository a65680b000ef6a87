"""Business-time arithmetic over a weekly calendar in an IANA time zone (pure Python, no Django).

A `BusinessCalendar` is open at an instant when the instant's local wall-clock time falls inside
one of that weekday's `Period`s `[start, end)` and the local date is not a closure (or always, if
`always_open`). Business time between two instants is the real time during which it is open, so
DST days count their real length: a fold repeats wall times (a period covering them counts them
twice) and a gap has no instants at all.

How it is fast: the calendar is expanded lazily, one UTC year at a time as calls reach it (in
either direction), into sorted, merged UTC open intervals (integer microseconds since the Unix
epoch) with a cumulative open-time array. Each call is a couple of `bisect`s (a target running
past the year's end carries over into the next). The expansion splits the timeline into UTC
segments of constant UTC offset and intersects each segment's wall-time range with the local open
periods; it never adds a `timedelta` to a local time.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from helpdesk.formatting import clock_time

__all__ = ["UTC", "BusinessCalendar", "Period"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_US = 1_000_000
_MINUTE = 60 * _US
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
# Give up looking for an opening after this much time without any open time.
_SEARCH_LIMIT = 2 * 366 * _DAY
# UTC years that may be expanded (keeps every boundary inside datetime's range).
_MIN_YEAR, _MAX_YEAR = 2, 9998
# Offsets are sampled this often when looking for a zone's transitions, then bisected exactly.
_SAMPLE_SECONDS = 2 * 3600
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PERIOD_TEXT = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class Period:
    """A weekly open period in local wall-clock minutes since midnight; 1440 is 24:00."""

    weekday: int  # 0 = Monday ... 6 = Sunday
    start: int  # minutes since local midnight, 0..1439
    end: int  # minutes since local midnight, start < end <= 1440

    def __post_init__(self) -> None:
        for name in ("weekday", "start", "end"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"Period.{name} must be an int, got {value!r}")
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"Period.weekday must be 0 (Monday)..6 (Sunday), got {self.weekday}")
        if not 0 <= self.start <= 1439:
            raise ValueError(f"Period.start must be 0..1439 (00:00-23:59), got {self.start}")
        if not 1 <= self.end <= 1440:
            raise ValueError(f"Period.end must be 1..1440 (00:01-24:00), got {self.end}")
        if self.end <= self.start:
            raise ValueError(
                f"Period end {clock_time(self.end)} must be after its start "
                f"{clock_time(self.start)} "
                "(write an overnight shift as two periods on consecutive weekdays)"
            )

    @classmethod
    def parse(cls, weekday: int, text: str) -> Period:
        """`Period.parse(0, "09:00-18:00")`; "00:00-24:00" is the whole day."""
        match = _PERIOD_TEXT.match(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"bad period {text!r}: expected 'HH:MM-HH:MM', e.g. '09:00-18:00'")
        sh, sm, eh, em = (int(group) for group in match.groups())
        for hours, minutes in ((sh, sm), (eh, em)):
            if minutes > 59 or hours > 24 or (hours == 24 and minutes != 0):
                raise ValueError(f"bad period {text!r}: {hours:02d}:{minutes:02d} is not a time")
        start, end = sh * 60 + sm, eh * 60 + em
        if start == 1440:
            raise ValueError(f"bad period {text!r}: a period cannot start at 24:00")
        if end <= start:
            raise ValueError(
                f"bad period {text!r}: the end must be after the start "
                "(write an overnight shift as two periods on consecutive weekdays)"
            )
        return cls(weekday=weekday, start=start, end=end)

    def __str__(self) -> str:
        return f"{_WEEKDAYS[self.weekday]} {clock_time(self.start)}-{clock_time(self.end)}"


def _to_us(value: datetime, what: str) -> int:
    """Microseconds since the Unix epoch of an aware datetime (ValueError if naive)."""
    try:
        delta = value - _EPOCH
    except TypeError:
        raise ValueError(
            f"{what} must be an aware datetime (with a tzinfo), got {value!r}"
        ) from None
    return (delta.days * 86_400 + delta.seconds) * _US + delta.microseconds


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _duration_us(duration: timedelta) -> int:
    if not isinstance(duration, timedelta):
        raise ValueError(f"duration must be a timedelta, got {duration!r}")
    us = (duration.days * 86_400 + duration.seconds) * _US + duration.microseconds
    if us < 0:
        raise ValueError(f"duration must not be negative, got {duration}")
    return us


def _year_start_us(year: int) -> int:
    return (date(year, 1, 1).toordinal() - _EPOCH_ORDINAL) * _DAY


# _YEAR_STARTS[y - 1] is 1 January of year y, 00:00 UTC; the last entry is the end of 9999.
_YEAR_STARTS = [_year_start_us(year) for year in range(1, 10_000)]
_YEAR_STARTS.append((date.max.toordinal() + 1 - _EPOCH_ORDINAL) * _DAY)


@lru_cache(maxsize=4096)
def _year_offsets(zone: tzinfo, year: int) -> tuple[tuple[int, int], ...]:
    """UTC offsets during one UTC year: ((since_us, offset_us), ...), the first at Jan 1 00:00Z.

    zoneinfo does not publish its transitions, so offsets are sampled and each change is
    bisected to the second (TZif transitions are whole seconds).
    """

    def offset(second: int) -> int:
        local = (_EPOCH + timedelta(seconds=second)).astimezone(zone)
        found = local.utcoffset()
        if found is None:
            raise ValueError(f"time zone {zone} gives no UTC offset")
        return found // timedelta(microseconds=1)

    first = _YEAR_STARTS[year - 1] // _US
    last = _YEAR_STARTS[year] // _US
    result = [(first * _US, offset(first))]
    low, low_offset = first, result[0][1]
    while low < last:
        high = min(low + _SAMPLE_SECONDS, last)
        high_offset = offset(high)
        while low_offset != high_offset:
            # Smallest second in (low, high] whose offset differs from low's.
            lo, hi = low, high
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(mid) == low_offset:
                    lo = mid
                else:
                    hi = mid
            low, low_offset = hi, offset(hi)
            if hi < last:
                result.append((hi * _US, low_offset))
        low, low_offset = high, high_offset
    return tuple(result)


class _Year:
    """One UTC year's open intervals (UTC microseconds, clipped to [lo, hi)), cumulated."""

    __slots__ = ("year", "lo", "hi", "starts", "ends", "cum", "cum_end", "total")

    def __init__(self, year: int, starts: list[int], ends: list[int]) -> None:
        self.year = year
        self.lo, self.hi = _YEAR_STARTS[year - 1], _YEAR_STARTS[year]
        self.starts, self.ends = starts, ends
        cum: list[int] = []
        cum_end: list[int] = []
        total = 0
        for start, end in zip(starts, ends, strict=True):
            cum.append(total)
            total += end - start
            cum_end.append(total)
        self.cum, self.cum_end, self.total = cum, cum_end, total

    def open_before(self, at: int) -> int:
        """Open time in [lo, at), for lo <= at <= hi."""
        i = bisect_right(self.starts, at) - 1
        if i < 0:
            return 0
        start, end = self.starts[i], self.ends[i]
        return self.cum_end[i] if at >= end else self.cum[i] + (at - start)


class BusinessCalendar:
    """Business-time arithmetic for one calendar; safe to share between threads."""

    def __init__(
        self,
        timezone: str | ZoneInfo,
        periods: Iterable[Period] = (),
        closures: Iterable[date] = (),
        always_open: bool = False,
    ) -> None:
        self.zone: tzinfo = _zone(timezone)
        periods = tuple(periods)
        for period in periods:
            if not isinstance(period, Period):
                raise ValueError(f"periods must be Period values, got {period!r}")
        self.periods: tuple[Period, ...] = tuple(
            sorted(periods, key=lambda p: (p.weekday, p.start, p.end))
        )
        closed = frozenset(closures)
        for day in closed:
            if not isinstance(day, date) or isinstance(day, datetime):
                raise ValueError(f"closures must be dates, got {day!r}")
        self.closures: frozenset[date] = closed
        self.always_open = bool(always_open)
        self._closed_ordinals = frozenset(day.toordinal() for day in closed)
        # Merged open periods per weekday, in microseconds since local midnight.
        weekly: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for period in self.periods:
            merged = weekly[period.weekday]
            start, end = period.start * _MINUTE, period.end * _MINUTE
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        self._weekly = tuple(tuple(day) for day in weekly)
        self._never_open = not self.always_open and not self.periods
        self._lock = threading.Lock()
        self._years: dict[int, _Year] = {}
        self._last: _Year | None = None  # the year used last: most calls hit it again

    def __repr__(self) -> str:
        if self.always_open:
            return f"BusinessCalendar({str(self.zone)!r}, always_open=True)"
        periods = ", ".join(str(p) for p in self.periods)
        return f"BusinessCalendar({str(self.zone)!r}, [{periods}], {len(self.closures)} closures)"

    # -- public API -------------------------------------------------------------------------

    def is_open(self, instant: datetime) -> bool:
        """Whether the calendar is open at `instant`."""
        at = _to_us(instant, "instant")
        if self.always_open:
            return True
        if self._never_open:
            return False
        year = self._year_at(at)
        i = bisect_right(year.starts, at) - 1
        return i >= 0 and at < year.ends[i]

    def next_open(self, instant: datetime) -> datetime:
        """`instant` (in UTC) if open, else the start of the next open interval."""
        at = _to_us(instant, "instant")
        if self.always_open:
            return _from_us(at)
        self._check_can_open()
        year = self._year_at(at)
        starts = year.starts
        i = bisect_right(starts, at) - 1
        if i >= 0 and at < year.ends[i]:
            return _from_us(at)
        if i + 1 < len(starts):
            return _from_us(starts[i + 1])
        while True:
            year = self._year(year.year + 1)
            if year.starts:
                return _from_us(year.starts[0])
            self._check_search(year, at)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant (UTC) by which `duration` of business time after `start` is done."""
        at = _to_us(start, "start")
        need = _duration_us(duration)
        if self.always_open or need == 0:
            return _from_us(at + need)
        self._check_can_open()
        year = self._year_at(at)
        starts, cum_end = year.starts, year.cum_end
        i = bisect_right(starts, at) - 1
        if i < 0:
            target = need
            j = bisect_left(cum_end, target)
        else:
            end = year.ends[i]
            target = (cum_end[i] if at >= end else year.cum[i] + (at - starts[i])) + need
            j = bisect_left(cum_end, target, i)
        if j < len(cum_end):
            return _from_us(starts[j] + (target - year.cum[j]))
        # Not this UTC year: carry the rest into the following years.
        remaining = target - year.total
        last_open = max(at, year.ends[-1]) if year.ends else at
        while True:
            year = self._year(year.year + 1)
            if remaining <= year.total:
                j = bisect_left(year.cum_end, remaining)
                return _from_us(year.starts[j] + (remaining - year.cum[j]))
            if year.ends:
                remaining -= year.total
                last_open = year.ends[-1]
            self._check_search(year, last_open)

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time in [start, end); zero if `end <= start`."""
        first = _to_us(start, "start")
        last = _to_us(end, "end")
        if last <= first:
            return timedelta(0)
        if self.always_open:
            return timedelta(microseconds=last - first)
        if self._never_open:
            return timedelta(0)
        year = self._year_at(first)
        if last <= year.hi:
            return timedelta(microseconds=year.open_before(last) - year.open_before(first))
        total = year.total - year.open_before(first)
        final = bisect_right(_YEAR_STARTS, last)
        for number in range(year.year + 1, final):
            total += self._year(number).total
        return timedelta(microseconds=total + self._year(final).open_before(last))

    # -- expansion ----------------------------------------------------------------------------

    def _check_can_open(self) -> None:
        if self._never_open:
            raise ValueError(
                f"calendar in {self.zone} is never open (no open periods and not always_open)"
            )

    def _check_search(self, searched: _Year, since: int) -> None:
        """Give up once the search has gone two years past `since` without any open time."""
        if searched.hi - since >= _SEARCH_LIMIT:
            raise ValueError(
                f"calendar in {self.zone} has no open time within two years after "
                f"{_from_us(since)} (do closures cover everything?)"
            )

    def _year_at(self, at: int) -> _Year:
        year = self._last
        if year is None or not year.lo <= at < year.hi:
            year = self._last = self._year(bisect_right(_YEAR_STARTS, at))
        return year

    def _year(self, number: int) -> _Year:
        year = self._years.get(number)
        if year is None:
            if not _MIN_YEAR <= number <= _MAX_YEAR:
                raise ValueError(
                    f"business time in the year {number} is not supported "
                    f"(years {_MIN_YEAR}..{_MAX_YEAR} only)"
                )
            with self._lock:
                year = self._years.get(number)
                if year is None:
                    year = self._years[number] = self._build(number)
        return year

    def _build(self, number: int) -> _Year:
        lo, hi = _YEAR_STARTS[number - 1], _YEAR_STARTS[number]
        # 1. Local wall-clock open intervals ("local microseconds": wall time read as if UTC),
        #    for every local date that can overlap the year (offsets are well under 3 days).
        wall_starts: list[int] = []
        wall_ends: list[int] = []
        closed, weekly = self._closed_ordinals, self._weekly
        first_day = lo // _DAY + _EPOCH_ORDINAL - 3
        for ordinal in range(first_day, hi // _DAY + _EPOCH_ORDINAL + 3):
            if ordinal in closed:
                continue
            midnight = (ordinal - _EPOCH_ORDINAL) * _DAY
            for start, end in weekly[(ordinal - 1) % 7]:  # ordinal 1 (0001-01-01) is a Monday
                if wall_ends and wall_ends[-1] == midnight + start:
                    wall_ends[-1] = midnight + end  # continues across midnight
                else:
                    wall_starts.append(midnight + start)
                    wall_ends.append(midnight + end)
        # 2. UTC segments of constant offset; each sees wall times [u0 + offset, u1 + offset).
        bounds = _year_offsets(self.zone, number)
        starts: list[int] = []
        ends: list[int] = []
        for k, (seg_start, offset) in enumerate(bounds):
            seg_end = bounds[k + 1][0] if k + 1 < len(bounds) else hi
            wall_lo, wall_hi = seg_start + offset, seg_end + offset
            w = bisect_right(wall_ends, wall_lo)
            while w < len(wall_starts) and wall_starts[w] < wall_hi:
                start = max(wall_starts[w], wall_lo) - offset
                end = min(wall_ends[w], wall_hi) - offset
                if ends and ends[-1] == start:
                    ends[-1] = end
                else:
                    starts.append(start)
                    ends.append(end)
                w += 1
        return _Year(number, starts, ends)


def _zone(value: str | tzinfo) -> tzinfo:
    if isinstance(value, tzinfo):
        return value
    if not isinstance(value, str) or not value:
        raise ValueError(f"timezone must be an IANA zone name or a ZoneInfo, got {value!r}")
    try:
        return ZoneInfo(value)
    except (KeyError, ValueError, OSError) as error:
        raise ValueError(f"unknown time zone {value!r}") from error
