"""How many `add()` and `elapsed()` calls per second the business clock answers.

Run from the repository root: `python bench/clock_bench.py`. Pure Python, no Django. Starts are
random instants over 2025-2030, a third of them within a day of a DST change; targets are random
durations up to 200 business hours.
"""

from __future__ import annotations

import os
import platform
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import holidays

from sla.clock import BusinessCalendar, Period

YEARS = range(2025, 2031)
CALLS = 100_000
ROUNDS = 3
Pair = tuple[datetime, timedelta]
Span = tuple[datetime, datetime]


def london() -> BusinessCalendar:
    periods = [Period.parse(day, "09:00-18:00") for day in range(5)]
    closed = holidays.country_holidays("GB", subdiv="ENG", years=YEARS)
    return BusinessCalendar("Europe/London", periods, closed)


def los_angeles() -> BusinessCalendar:
    periods = [
        Period.parse(day, text) for day in range(5) for text in ("08:00-12:00", "13:00-17:00")
    ]
    periods.append(Period.parse(5, "09:00-13:00"))
    closed = holidays.country_holidays("US", years=YEARS)
    return BusinessCalendar("America/Los_Angeles", periods, closed)


def around_the_clock() -> BusinessCalendar:
    return BusinessCalendar("Europe/London", always_open=True)


def dst_changes(zone: ZoneInfo) -> list[datetime]:
    changes = []
    t = datetime(YEARS.start, 1, 1, tzinfo=UTC)
    before = t.astimezone(zone).utcoffset()
    while t.year < YEARS.stop:
        t += timedelta(hours=1)
        if (now := t.astimezone(zone).utcoffset()) != before:
            changes.append(t)
            before = now
    return changes


def random_starts(rng: random.Random, zone: ZoneInfo, count: int) -> list[datetime]:
    first = datetime(YEARS.start, 1, 1, tzinfo=UTC)
    seconds = (datetime(YEARS.stop, 1, 1, tzinfo=UTC) - first).total_seconds()
    changes = dst_changes(zone)
    starts = []
    for n in range(count):
        if n % 3 == 0:
            at = rng.choice(changes) + timedelta(seconds=rng.randint(-86_400, 86_400))
        else:
            at = first + timedelta(seconds=rng.randrange(int(seconds)))
        starts.append(at.astimezone(zone) if n % 2 else at)
    return starts


def rate(call: Callable[[], object]) -> float:
    """Calls per second of the best of a few rounds of CALLS calls."""
    best = float("inf")
    for _ in range(ROUNDS):
        began = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - began)
    return CALLS / best


def run_add(add: Callable[[datetime, timedelta], datetime], pairs: list[Pair]) -> None:
    for start, target in pairs:
        add(start, target)


def run_elapsed(elapsed: Callable[[datetime, datetime], timedelta], spans: list[Span]) -> None:
    for start, end in spans:
        elapsed(start, end)


def main() -> None:
    rng = random.Random(20261120)
    python = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"python {python} on {platform.machine()}, {os.cpu_count()} CPUs")
    print(f"{CALLS:,} calls per measurement, best of {ROUNDS}; starts 2025-2030, targets <= 200h\n")
    cases = [
        ("London business hours, ENG holidays", london()),
        ("Los Angeles split shift + Sat, US holidays", los_angeles()),
        ("24x7", around_the_clock()),
    ]
    for label, clock in cases:
        zone = clock.zone
        assert isinstance(zone, ZoneInfo)
        starts = random_starts(rng, zone, CALLS)
        targets = [timedelta(seconds=rng.randrange(200 * 3600 + 1)) for _ in range(CALLS)]
        ends = [s + timedelta(seconds=rng.randrange(60 * 86_400)) for s in starts]
        pairs = list(zip(starts, targets, strict=True))
        spans = list(zip(starts, ends, strict=True))
        add, elapsed = clock.add, clock.elapsed
        for start, target in pairs[:1000]:  # warm up; also a sanity check
            assert elapsed(start, add(start, target)) == target

        add_rate = rate(partial(run_add, add, pairs))
        elapsed_rate = rate(partial(run_elapsed, elapsed, spans))
        print(f"add():     {add_rate:>11,.0f} calls/s ({label})")
        print(f"elapsed(): {elapsed_rate:>11,.0f} calls/s ({label})")


if __name__ == "__main__":
    main()
