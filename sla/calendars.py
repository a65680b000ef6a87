"""Business calendars from the database: public holidays as editable rows, and built clocks.

Public holidays (from the `holidays` package) become `Closure` rows for a window of years that
grows on demand, so a manager can add a shutdown or untick a holiday the team works. A built
`clock.BusinessCalendar` is cached per process and keyed by the row's `updated_at`, which every
change to a calendar, its periods or its closures moves forward (`calendar_touch`).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict

import holidays
from django.db import transaction
from django.utils import timezone

from sla import clock
from sla.models import BusinessCalendar, Closure

# Years either side of "now" that always have holiday rows.
YEARS_BEFORE = 1
YEARS_AFTER = 3
_CACHE_SIZE = 256

_cache: OrderedDict[
    tuple[int, str], tuple[tuple[dt.datetime, int, int], clock.BusinessCalendar]
] = OrderedDict()
_lock = threading.Lock()


def holiday_window(today: dt.date | None = None) -> tuple[int, int]:
    year = (today or timezone.now().date()).year
    return year - YEARS_BEFORE, year + YEARS_AFTER


def public_holidays(codes: list[str], years: range) -> dict[dt.date, str]:
    """Holidays of every `GB-ENG`-style code for `years`, observed days included, names joined."""
    days: dict[dt.date, list[str]] = {}
    for code in codes:
        country, _, subdivision = code.partition("-")
        found = holidays.country_holidays(country, subdiv=subdivision or None, years=years)
        for day, name in sorted(found.items()):
            label = f"{name} ({code})" if len(codes) > 1 else name
            days.setdefault(day, []).append(label)
    return {day: "; ".join(names)[:200] for day, names in days.items()}


@transaction.atomic
def calendar_ensure_holidays(*, calendar: BusinessCalendar, first_year: int, last_year: int) -> int:
    """Make sure holiday rows exist for every year in [first_year, last_year]; return rows added.

    The generated window stays contiguous; years already generated are never generated again,
    so a holiday a manager removed (an inactive row) or edited stays as the manager left it.
    """
    if not calendar.holiday_countries or calendar.always_open:
        return 0
    low, high = calendar.holidays_from_year, calendar.holidays_to_year
    new_low = min(first_year, low) if low is not None else first_year
    new_high = max(last_year, high) if high is not None else last_year
    years = [
        year
        for year in range(new_low, new_high + 1)
        if low is None or high is None or not low <= year <= high
    ]
    if not years:
        return 0
    found = public_holidays(list(calendar.holiday_countries), range(min(years), max(years) + 1))
    wanted = {day: name for day, name in found.items() if day.year in years}
    taken = set(calendar.closures.filter(date__in=wanted).values_list("date", flat=True))
    rows = [
        Closure(calendar=calendar, date=day, name=name, source=Closure.Source.HOLIDAY)
        for day, name in sorted(wanted.items())
        if day not in taken
    ]
    Closure.objects.bulk_create(rows)
    calendar.holidays_from_year, calendar.holidays_to_year = new_low, new_high
    calendar.updated_at = timezone.now()
    calendar.save(update_fields=["holidays_from_year", "holidays_to_year", "updated_at"])
    return len(rows)


def calendar_reset_holidays(*, calendar: BusinessCalendar) -> None:
    """Forget generated holidays (the countries changed); they are generated afresh."""
    calendar.closures.filter(source=Closure.Source.HOLIDAY).delete()
    calendar.holidays_from_year = calendar.holidays_to_year = None
    calendar.save(update_fields=["holidays_from_year", "holidays_to_year", "updated_at"])


def calendar_touch(*, calendar: BusinessCalendar) -> None:
    """Mark the calendar changed so every process rebuilds its clock."""
    calendar.updated_at = timezone.now()
    BusinessCalendar.objects.filter(pk=calendar.pk).update(updated_at=calendar.updated_at)


def zone_of(calendar: BusinessCalendar, organization_zone: str | None) -> str:
    """The zone a calendar's hours run in: the customer organization's for local business hours
    (`follows_organization`) when one is known, else the calendar's own."""
    if calendar.follows_organization and organization_zone:
        return organization_zone
    return calendar.timezone


def _holiday_years(around: dt.datetime | None) -> tuple[int, int]:
    """The years that must have holiday rows for a clock used around `around`."""
    year = (around or timezone.now()).year
    first, last = holiday_window()
    return min(first, year - 1), max(last, year + 2)


def holidays_due(calendar: BusinessCalendar, around: dt.datetime | None = None) -> bool:
    """Whether `clock_for(calendar, around)` generates holiday rows first, and so writes the
    calendar row (and the object given): callers holding a shared row read a fresh one then."""
    if not calendar.holiday_countries or calendar.always_open:
        return False
    first, last = _holiday_years(around)
    low, high = calendar.holidays_from_year, calendar.holidays_to_year
    return low is None or high is None or low > first or high < last


def clock_for(
    calendar: BusinessCalendar,
    around: dt.datetime | None = None,
    zone: str | None = None,
) -> clock.BusinessCalendar:
    """The pure clock for a calendar row, with holidays generated for the years around `around`.

    `zone`: the customer organization's time zone, used by calendars that follow it (local
    business hours); other calendars ignore it. Cached per process by (calendar, zone) and
    (updated_at, holiday window): editing the calendar in any process moves `updated_at`, and
    the next call anywhere rebuilds.
    """
    zone = zone_of(calendar, zone)
    if holidays_due(calendar, around):
        first, last = _holiday_years(around)
        calendar_ensure_holidays(calendar=calendar, first_year=first, last_year=last)
    stamp = (calendar.updated_at, calendar.holidays_from_year or 0, calendar.holidays_to_year or 0)
    key = (calendar.pk, zone)
    with _lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] == stamp:
            _cache.move_to_end(key)
            return hit[1]
    built = build_clock(calendar, zone)
    with _lock:
        _cache[key] = (stamp, built)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return built


def build_clock(calendar: BusinessCalendar, zone: str | None = None) -> clock.BusinessCalendar:
    zone = zone or calendar.timezone
    if calendar.always_open:
        return clock.BusinessCalendar(zone, always_open=True)
    periods = [
        clock.Period(weekday=p.weekday, start=p.start_minute, end=p.end_minute)
        for p in calendar.periods.all()
    ]
    closed = calendar.closures.filter(active=True).values_list("date", flat=True)
    return clock.BusinessCalendar(zone, periods=periods, closures=list(closed))


def clear_cache() -> None:
    with _lock:
        _cache.clear()
