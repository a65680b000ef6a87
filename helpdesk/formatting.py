"""The one home of duration and time formatting: every page, export, mail and admin uses it.

A leaf helper (no models, no settings), so every layer may import it. Durations are shown to the
second where seconds are all there is: 45 seconds reads `45s` / `45 s`, never `0m`.
"""

from __future__ import annotations

import datetime as dt

MISSING = "—"


def _parts(value: dt.timedelta) -> tuple[int, int, int, int]:
    """(days, hours, minutes, seconds) of the absolute value, whole seconds."""
    seconds = int(abs(value).total_seconds())
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return days, hours, minutes, seconds


def policy_duration(value: dt.timedelta | None, *, missing: str = "-") -> str:
    """The policy file's notation: `1h30m`, `4h`, `30m`, `45s`, `1h15s`, read back by the loader.

    Hours are not folded into days (a 48h target is written `48h`); `0m` only for zero.
    """
    if value is None:
        return missing
    days, hours, minutes, seconds = _parts(value)
    hours += days * 24
    text = ""
    if hours:
        text += f"{hours}h"
    if minutes:
        text += f"{minutes}m"
    if seconds:
        text += f"{seconds}s"
    text = text or "0m"
    return f"-{text}" if value < dt.timedelta(0) else text


def human_duration(value: dt.timedelta | None, *, missing: str = MISSING) -> str:
    """For people: `1 h 30 min`, `4 h`, `30 min`, `45 s` (seconds only under a minute)."""
    if value is None:
        return missing
    days, hours, minutes, seconds = _parts(value)
    hours += days * 24
    if not hours and not minutes:
        text = f"{seconds} s" if seconds else "0 min"
    else:
        parts = []
        if hours:
            parts.append(f"{hours} h")
        if minutes:
            parts.append(f"{minutes} min")
        text = " ".join(parts)
    return f"-{text}" if value < dt.timedelta(0) else text


def compact_duration(value: dt.timedelta | None, *, missing: str = MISSING) -> str:
    """Tables and CSV: `2h05m`, `4h`, `45m`, `45s` (minutes rounded down above a minute)."""
    if value is None:
        return missing
    days, hours, minutes, seconds = _parts(value)
    hours += days * 24
    if hours:
        text = f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    elif minutes:
        text = f"{minutes}m"
    else:
        text = f"{seconds}s"
    return f"-{text}" if value < dt.timedelta(0) else text


def badge_duration(value: dt.timedelta) -> str:
    """Badge text, the two largest units of the absolute value: `3d 4h`, `2h 10m`, `35m`, `45s`."""
    days, hours, minutes, seconds = _parts(value)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{seconds}s"


def minutes_duration(minutes: int) -> str:
    """Logged time in whole minutes: `2h 05m`, `45m`."""
    hours, rest = divmod(minutes, 60)
    return f"{hours}h {rest:02d}m" if hours else f"{rest}m"


def clock_time(minute: int) -> str:
    """Minutes since local midnight as `HH:MM` (`24:00` for the end of a day)."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def instant(value: dt.datetime | None, zone: dt.tzinfo, *, missing: str = MISSING) -> str:
    """An instant in `zone`, with the zone named: `2027-01-05 14:30 Europe/London`."""
    if value is None:
        return missing
    return f"{value.astimezone(zone):%Y-%m-%d %H:%M} {zone_name(zone)}"


def instant_plain(value: dt.datetime | None, zone: dt.tzinfo, *, missing: str = MISSING) -> str:
    """An instant in `zone` where a column header names the zone: `2027-01-05 14:30`."""
    if value is None:
        return missing
    return f"{value.astimezone(zone):%Y-%m-%d %H:%M}"


def utc_iso(value: dt.datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ`, the calculator's public format."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def zone_name(zone: dt.tzinfo) -> str:
    return str(getattr(zone, "key", None) or zone)
