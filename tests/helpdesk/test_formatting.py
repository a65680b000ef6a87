"""The one module of duration and time formatting."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from helpdesk.formatting import (
    badge_duration,
    clock_time,
    compact_duration,
    human_duration,
    instant,
    minutes_duration,
    policy_duration,
)
from sla.policy.schema import parse_duration

S = dt.timedelta(seconds=1)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (45 * S, "45s"),
        (90 * 60 * S, "1h30m"),
        (4 * 3600 * S, "4h"),
        (0 * S, "0m"),
        (3615 * S, "1h15s"),
        (48 * 3600 * S, "48h"),
        (30 * 60 * S, "30m"),
    ],
)
def test_it_writes_durations_in_the_policy_notation_that_the_loader_reads_back(
    value: dt.timedelta, text: str
) -> None:
    assert policy_duration(value) == text
    assert parse_duration(text) == value


def test_it_reads_seconds_only_durations_as_seconds_everywhere() -> None:
    assert human_duration(45 * S) == "45 s"
    assert compact_duration(45 * S) == "45s"
    assert badge_duration(45 * S) == "45s"
    assert policy_duration(45 * S) == "45s"


def test_it_writes_human_and_compact_durations() -> None:
    assert human_duration(90 * 60 * S) == "1 h 30 min"
    assert human_duration(None) == "—"
    assert compact_duration(125 * 60 * S) == "2h05m"
    assert badge_duration(-(3 * 86400 + 4 * 3600) * S) == "3d 4h"
    assert minutes_duration(125) == "2h 05m"
    assert clock_time(1440) == "24:00"


def test_it_names_the_zone_of_an_instant() -> None:
    at = dt.datetime(2027, 1, 5, 14, 30, tzinfo=dt.UTC)
    assert instant(at, ZoneInfo("America/New_York")) == "2027-01-05 09:30 America/New_York"
