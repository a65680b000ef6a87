"""The business clock: hand-worked cases, then the fast clock against the slow oracle."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla.clock import BusinessCalendar, Period
from tests.sla.clock_oracle import (
    CalSpec,
    oracle_add,
    oracle_elapsed,
    oracle_is_open,
    oracle_next_open,
)

LONDON = ZoneInfo("Europe/London")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
SYDNEY = ZoneInfo("Australia/Sydney")
KOLKATA = ZoneInfo("Asia/Kolkata")
ST_JOHNS = ZoneInfo("America/St_Johns")
H = timedelta(hours=1)
MIN = timedelta(minutes=1)


def weekdays(text: str, days: range = range(5)) -> list[Period]:
    return [Period.parse(day, text) for day in days]


def london_office(closures: tuple[date, ...] = ()) -> BusinessCalendar:
    """Europe/London, Monday to Friday 09:00-18:00."""
    return BusinessCalendar("Europe/London", weekdays("09:00-18:00"), closures)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- Period -----------------------------------------------------------------------------------


def test_period_parse_reads_minutes() -> None:
    assert Period.parse(2, "09:30-18:15") == Period(weekday=2, start=570, end=1095)


def test_period_parse_accepts_the_whole_day() -> None:
    assert Period.parse(6, "00:00-24:00") == Period(weekday=6, start=0, end=1440)


@pytest.mark.parametrize("text", ["9-18", "09:00", "09:60-10:00", "25:00-26:00", "09:00-24:30"])
def test_period_parse_rejects_bad_text(text: str) -> None:
    with pytest.raises(ValueError, match="bad period"):
        Period.parse(0, text)


@pytest.mark.parametrize("text", ["18:00-09:00", "09:00-09:00", "24:00-24:00"])
def test_period_parse_rejects_an_end_not_after_the_start(text: str) -> None:
    with pytest.raises(ValueError, match="bad period"):
        Period.parse(0, text)


@pytest.mark.parametrize(
    ("weekday", "start", "end", "problem"),
    [(7, 0, 60, "weekday"), (0, -1, 60, "start"), (0, 0, 1441, "end"), (0, 600, 600, "after")],
)
def test_period_rejects_out_of_range_values(
    weekday: int, start: int, end: int, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        Period(weekday=weekday, start=start, end=end)


# -- hand-worked cases -------------------------------------------------------------------------


def test_a_target_inside_hours_is_due_the_same_day() -> None:
    assert london_office().add(utc(2026, 1, 12, 10), 3 * H) == utc(2026, 1, 12, 13)


def test_a_target_ending_exactly_at_closing_is_due_at_closing() -> None:
    # Monday 2026-01-12 09:00 GMT + 9 business hours = 18:00 the same day, not Tuesday 09:00.
    assert london_office().add(utc(2026, 1, 12, 9), 9 * H) == utc(2026, 1, 12, 18)


def test_a_start_outside_hours_waits_for_next_opening() -> None:
    assert london_office().add(utc(2026, 1, 12, 7), H) == utc(2026, 1, 12, 10)


def test_a_start_after_closing_on_friday_waits_for_monday() -> None:
    assert london_office().add(utc(2026, 1, 16, 19), 2 * H) == utc(2026, 1, 19, 11)


def test_adding_nothing_returns_the_start_even_when_closed() -> None:
    start = datetime(2026, 1, 17, 12, 0, 0, 1, tzinfo=LONDON)  # a Saturday
    assert london_office().add(start, timedelta(0)) == start


def test_add_is_exact_to_the_microsecond() -> None:
    start = utc(2026, 1, 12, 17, 59, 59, 999_999)
    assert london_office().add(start, timedelta(microseconds=2)) == utc(2026, 1, 13, 9, 0, 0, 1)


def test_results_are_in_utc() -> None:
    due = london_office().add(datetime(2026, 7, 1, 10, tzinfo=LONDON), H)
    assert due.tzinfo is UTC
    assert due == utc(2026, 7, 1, 10)  # 11:00 BST


def test_the_input_time_zone_does_not_matter() -> None:
    clock = london_office()
    instant = utc(2026, 7, 1, 8, 30)
    elsewhere = instant.astimezone(timezone(timedelta(hours=-7, minutes=-15)))
    assert clock.add(elsewhere, 5 * H) == clock.add(instant, 5 * H) == utc(2026, 7, 1, 13, 30)


def test_is_open_at_opening_but_not_at_closing() -> None:
    clock = london_office()
    assert clock.is_open(utc(2026, 1, 12, 9))
    assert not clock.is_open(utc(2026, 1, 12, 18))
    assert clock.is_open(utc(2026, 1, 12, 17, 59, 59, 999_999))


def test_next_open_of_an_open_instant_is_itself_in_utc() -> None:
    instant = datetime(2026, 1, 12, 10, 15, 7, 42, tzinfo=LONDON)
    found = london_office().next_open(instant)
    assert found == instant
    assert found.tzinfo is UTC


def test_next_open_after_closing_is_the_next_morning() -> None:
    assert london_office().next_open(utc(2026, 1, 12, 18)) == utc(2026, 1, 13, 9)


def test_elapsed_over_a_working_week_is_45_hours() -> None:
    assert london_office().elapsed(utc(2026, 1, 12), utc(2026, 1, 19)) == 45 * H


def test_elapsed_of_a_reversed_span_is_zero() -> None:
    assert london_office().elapsed(utc(2026, 1, 13), utc(2026, 1, 12)) == timedelta(0)


def test_holiday_is_skipped() -> None:
    # Thursday 2026-12-24 17:00 + 2h: 1h Thursday; Christmas (Fri), the weekend and the
    # Boxing Day substitute (Mon 28th) are closed; 1h on Tuesday 29th, due 10:00 GMT.
    clock = london_office((date(2026, 12, 25), date(2026, 12, 28)))
    assert clock.add(utc(2026, 12, 24, 17), 2 * H) == utc(2026, 12, 29, 10)


def test_year_end_with_new_year_holiday() -> None:
    # Thursday 2026-12-31 16:00 + 4h: 2h on New Year's Eve, 1 January (Fri) closed,
    # 2h on Monday 2027-01-04: due 11:00 GMT.
    clock = london_office((date(2026, 12, 25), date(2026, 12, 28), date(2027, 1, 1)))
    assert clock.add(utc(2026, 12, 31, 16), 4 * H) == utc(2027, 1, 4, 11)


def test_a_200_business_hour_target_spans_several_weeks_with_england_holidays() -> None:
    # From Monday 2026-03-16 09:00 GMT at 45h a week: weeks of 16 and 23 March (90h), Mon-Thu
    # 30 March-2 April (126h; BST from 29 March), Good Friday and Easter Monday closed,
    # Tue-Fri 7-10 April (162h), Mon-Thu 13-16 April (198h), Friday 17 April 09:00 BST + 2h.
    ours = holidays.country_holidays("GB", subdiv="ENG", years=range(2025, 2031))
    clock = london_office(tuple(ours))
    assert clock.add(utc(2026, 3, 16, 9), 200 * H) == utc(2026, 4, 17, 10)


def test_openback_pro_severity_1_around_the_clock_is_due_3_hours_later() -> None:
    clock = BusinessCalendar("Europe/London", always_open=True)
    opened = datetime(2026, 11, 20, 17, 30, tzinfo=LONDON)
    assert clock.add(opened, 3 * H) == utc(2026, 11, 20, 20, 30)


def test_twelve_hours_from_friday_evening_with_saturday_hours_is_due_monday_1300() -> None:
    # 1h Friday 17:00-18:00, 7h Saturday 09:00-16:00, then 4h Monday 09:00-13:00 (GMT).
    periods = [*weekdays("09:00-18:00"), Period.parse(5, "09:00-16:00")]
    clock = BusinessCalendar("Europe/London", periods)
    opened = datetime(2026, 11, 20, 17, 0, tzinfo=LONDON)
    assert clock.add(opened, 12 * H) == utc(2026, 11, 23, 13)


def test_a_24x7_day_across_spring_forward_counts_23_hours() -> None:
    clock = BusinessCalendar("Europe/London", always_open=True)
    day = clock.elapsed(datetime(2026, 3, 29, tzinfo=LONDON), datetime(2026, 3, 30, tzinfo=LONDON))
    assert day == 23 * H


def test_a_whole_day_period_across_spring_forward_counts_23_hours() -> None:
    clock = BusinessCalendar("Europe/London", [Period.parse(6, "00:00-24:00")])
    assert clock.elapsed(utc(2026, 3, 28), utc(2026, 3, 31)) == 23 * H


def test_a_24x7_day_across_fall_back_counts_25_hours() -> None:
    clock = BusinessCalendar("America/Los_Angeles", always_open=True)
    start, end = (
        datetime(2026, 11, 1, tzinfo=LOS_ANGELES),
        datetime(2026, 11, 2, tzinfo=LOS_ANGELES),
    )
    assert clock.elapsed(start, end) == 25 * H


def test_always_open_ignores_closures() -> None:
    clock = BusinessCalendar("UTC", closures=[date(2026, 12, 25)], always_open=True)
    assert clock.is_open(utc(2026, 12, 25, 12))
    assert clock.elapsed(utc(2026, 12, 25), utc(2026, 12, 26)) == 24 * H


def test_fall_back_counts_the_repeated_hour_twice() -> None:
    # London 2025-10-26: 01:00-02:00 happens in BST (00:00Z-01:00Z), then in GMT (01:00Z-02:00Z).
    clock = BusinessCalendar("Europe/London", [Period.parse(6, "01:00-02:00")])
    assert clock.elapsed(utc(2025, 10, 25), utc(2025, 10, 27)) == 2 * H
    assert clock.add(utc(2025, 10, 25, 12), 90 * MIN) == utc(2025, 10, 26, 1, 30)


def test_a_period_starting_in_the_fold_closes_during_the_first_part_of_the_repeat() -> None:
    # 01:30-03:00 on 2025-10-26: open 01:30-02:00 BST, closed for the repeated 01:00-01:30 GMT,
    # open again from the second 01:30 until 03:00 GMT.
    clock = BusinessCalendar("Europe/London", [Period.parse(6, "01:30-03:00")])
    assert clock.is_open(utc(2025, 10, 26, 0, 45))
    assert not clock.is_open(utc(2025, 10, 26, 1, 15))
    assert clock.next_open(utc(2025, 10, 26, 1)) == utc(2025, 10, 26, 1, 30)
    assert clock.elapsed(utc(2025, 10, 25), utc(2025, 10, 27)) == 2 * H


def test_a_period_inside_the_spring_forward_gap_has_no_time_that_day() -> None:
    # Los Angeles 2026-03-08 jumps 02:00 PST -> 03:00 PDT: 02:00-03:00 never happens.
    clock = BusinessCalendar("America/Los_Angeles", [Period.parse(6, "02:00-03:00")])
    assert clock.elapsed(utc(2026, 3, 7), utc(2026, 3, 10)) == timedelta(0)
    assert clock.next_open(utc(2026, 3, 7)) == utc(2026, 3, 15, 9)  # 02:00 PDT a week later


def test_a_period_ending_inside_the_spring_forward_gap_is_cut_at_the_jump() -> None:
    # 01:30-02:30 on 2026-03-08 in Los Angeles: 01:30-02:00 PST only (09:30Z-10:00Z).
    clock = BusinessCalendar("America/Los_Angeles", [Period.parse(6, "01:30-02:30")])
    assert clock.elapsed(utc(2026, 3, 7), utc(2026, 3, 10)) == 30 * MIN
    assert clock.add(utc(2026, 3, 8, 9, 45), 15 * MIN) == utc(2026, 3, 8, 10)
    assert clock.add(utc(2026, 3, 8, 9, 45), 30 * MIN) == utc(2026, 3, 15, 8, 45)


def test_sydney_april_fall_back_weekend_business_hours() -> None:
    # Sydney leaves AEDT (+11) for AEST (+10) on Sunday 2026-04-05. Friday 16:00 AEDT + 2h:
    # 1h Friday, 1h Monday 09:00-10:00 AEST = 00:00Z.
    clock = BusinessCalendar("Australia/Sydney", weekdays("09:00-17:00"))
    opened = datetime(2026, 4, 3, 16, tzinfo=SYDNEY)
    assert clock.add(opened, 2 * H) == utc(2026, 4, 6, 0)


def test_sydney_october_spring_forward_weekend_business_hours() -> None:
    # Sydney enters AEDT (+11) on Sunday 2026-10-04; Monday 10:00 AEDT is Sunday 23:00Z.
    clock = BusinessCalendar("Australia/Sydney", weekdays("09:00-17:00"))
    opened = datetime(2026, 10, 2, 16, tzinfo=SYDNEY)
    assert clock.add(opened, 2 * H) == utc(2026, 10, 4, 23)


def test_sydney_october_spring_forward_sunday_counts_23_hours() -> None:
    clock = BusinessCalendar("Australia/Sydney", [Period.parse(6, "00:00-24:00")])
    assert clock.elapsed(utc(2026, 10, 1), utc(2026, 10, 8)) == 23 * H


def test_kolkata_half_hour_offset() -> None:
    # 09:30-18:30 IST (+05:30): Monday 18:00 + 1h is Tuesday 10:00 IST = 04:30Z.
    clock = BusinessCalendar("Asia/Kolkata", weekdays("09:30-18:30"))
    opened = datetime(2026, 6, 1, 18, tzinfo=KOLKATA)
    assert clock.add(opened, H) == utc(2026, 6, 2, 4, 30)


def test_st_johns_half_hour_offset_across_spring_forward() -> None:
    # Friday 2026-03-06 16:00 NST (-03:30) + 2h: 1h Friday, then Monday 09:00-10:00 NDT
    # (-02:30) = 12:30Z.
    clock = BusinessCalendar("America/St_Johns", weekdays("09:00-17:00"))
    opened = datetime(2026, 3, 6, 16, tzinfo=ST_JOHNS)
    assert clock.add(opened, 2 * H) == utc(2026, 3, 9, 12, 30)


def test_santiago_day_without_midnight_counts_23_hours() -> None:
    # Santiago springs forward at midnight: Sunday 2025-09-07 starts at 01:00 (-03:00).
    clock = BusinessCalendar("America/Santiago", [Period.parse(6, "00:00-24:00")])
    assert clock.elapsed(utc(2025, 9, 5), utc(2025, 9, 10)) == 23 * H
    assert clock.next_open(utc(2025, 9, 6, 12)) == utc(2025, 9, 7, 4)


def test_santiago_saturday_before_a_midnight_fall_back_counts_25_hours() -> None:
    # Santiago falls back at midnight: Saturday 2025-04-05 runs 23:00-24:00 twice.
    clock = BusinessCalendar("America/Santiago", [Period.parse(5, "00:00-24:00")])
    assert clock.elapsed(utc(2025, 4, 3), utc(2025, 4, 8)) == 25 * H


def test_overlapping_periods_are_merged() -> None:
    clock = BusinessCalendar(
        "UTC", [Period.parse(0, "09:00-12:00"), Period.parse(0, "11:00-14:00")]
    )
    assert clock.elapsed(utc(2026, 1, 12), utc(2026, 1, 13)) == 5 * H


def test_an_overnight_shift_runs_across_midnight() -> None:
    clock = BusinessCalendar(
        "UTC", [Period.parse(0, "22:00-24:00"), Period.parse(1, "00:00-06:00")]
    )
    assert clock.add(utc(2026, 1, 12, 23), 2 * H) == utc(2026, 1, 13, 1)
    assert clock.is_open(utc(2026, 1, 13, 0))


def test_a_split_shift_skips_lunch() -> None:
    clock = BusinessCalendar(
        "America/Los_Angeles", weekdays("08:00-12:00") + weekdays("13:00-17:00")
    )
    opened = datetime(2026, 1, 12, 11, tzinfo=LOS_ANGELES)
    assert clock.add(opened, 2 * H) == datetime(2026, 1, 12, 14, tzinfo=LOS_ANGELES)


def test_a_calendar_with_no_periods_is_never_open() -> None:
    clock = BusinessCalendar("UTC")
    assert not clock.is_open(utc(2026, 1, 12))
    assert clock.elapsed(utc(2026, 1, 1), utc(2027, 1, 1)) == timedelta(0)
    with pytest.raises(ValueError, match="never open"):
        clock.add(utc(2026, 1, 12), H)
    with pytest.raises(ValueError, match="never open"):
        clock.next_open(utc(2026, 1, 12))


def test_closures_covering_everything_stop_the_search() -> None:
    mondays = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(52 * 5)]
    clock = BusinessCalendar("UTC", [Period.parse(0, "09:00-10:00")], mondays)
    with pytest.raises(ValueError, match="no open time within two years"):
        clock.add(utc(2026, 1, 1), H)
    with pytest.raises(ValueError, match="no open time within two years"):
        clock.next_open(utc(2026, 1, 1))


def test_a_sparse_calendar_still_reaches_a_far_target() -> None:
    # Open Mondays 09:00-10:00 but closed on every Monday except the first of each year:
    # 1h on 2026-01-05, 1h on 2027-01-04, and the third hour ends 2028-01-03 10:00.
    mondays = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(52 * 6)]
    firsts = {date(2026, 1, 5), date(2027, 1, 4), date(2028, 1, 3)}
    closed = [day for day in mondays if day not in firsts]
    clock = BusinessCalendar("UTC", [Period.parse(0, "09:00-10:00")], closed)
    assert clock.add(utc(2026, 1, 1), 3 * H) == utc(2028, 1, 3, 10)


def test_a_shift_running_over_new_year_continues_into_the_new_year() -> None:
    # UTC, Thursday 2026-12-31 22:00-24:00 and Friday 2027-01-01 00:00-02:00.
    clock = BusinessCalendar(
        "UTC", [Period.parse(3, "22:00-24:00"), Period.parse(4, "00:00-02:00")]
    )
    assert clock.add(utc(2026, 12, 31, 23), 2 * H) == utc(2027, 1, 1, 1)
    assert clock.is_open(utc(2027, 1, 1))
    assert clock.elapsed(utc(2026, 12, 31, 12), utc(2027, 1, 1, 12)) == 4 * H


def test_a_sydney_new_year_is_counted_across_the_utc_year_end() -> None:
    # Sydney's 1 January starts at 13:00Z on 31 December; open all day, every day.
    clock = BusinessCalendar("Australia/Sydney", [Period.parse(d, "00:00-24:00") for d in range(7)])
    assert clock.add(utc(2026, 12, 31, 20), 10 * H) == utc(2027, 1, 1, 6)
    assert clock.elapsed(utc(2026, 12, 20), utc(2027, 1, 10)) == 21 * 24 * H


def test_elapsed_over_several_years_sums_the_years() -> None:
    # Open all week, all day: three whole London years (2025-2027, 1095 days) of real time.
    clock = BusinessCalendar("Europe/London", [Period.parse(d, "00:00-24:00") for d in range(7)])
    start, end = datetime(2025, 1, 1, tzinfo=LONDON), datetime(2028, 1, 1, tzinfo=LONDON)
    assert clock.elapsed(start, end) == 1095 * 24 * H


def test_a_target_can_run_over_several_years() -> None:
    # One hour a week; 2000 hours from 2026 lands 2000 weeks (about 38 years) later.
    clock = BusinessCalendar("UTC", [Period.parse(0, "09:00-10:00")])
    start = utc(2026, 1, 5, 10)  # a Monday, just closed
    assert clock.add(start, 2000 * H) == start + timedelta(weeks=2000)


@pytest.mark.parametrize("method", ["is_open", "next_open"])
def test_a_naive_instant_is_rejected(method: str) -> None:
    with pytest.raises(ValueError, match="aware datetime"):
        getattr(london_office(), method)(datetime(2026, 1, 12, 10))


def test_a_naive_start_is_rejected_by_add() -> None:
    with pytest.raises(ValueError, match="aware datetime"):
        london_office().add(datetime(2026, 1, 12, 10), H)


def test_a_naive_end_is_rejected_by_elapsed() -> None:
    with pytest.raises(ValueError, match="aware datetime"):
        london_office().elapsed(utc(2026, 1, 12), datetime(2026, 1, 13))


def test_a_negative_duration_is_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        london_office().add(utc(2026, 1, 12, 10), -MIN)


def test_an_unknown_time_zone_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        BusinessCalendar("Europe/Atlantis", weekdays("09:00-17:00"))


def test_the_window_grows_backwards_and_forwards_consistently() -> None:
    travelled = london_office()
    travelled.add(utc(2031, 6, 2, 9), 500 * H)
    for start in (utc(2019, 12, 31, 12), utc(2026, 3, 27, 17), utc(2036, 10, 24, 16)):
        assert travelled.add(start, 30 * H) == london_office().add(start, 30 * H)
        end = start + timedelta(days=81)
        assert travelled.elapsed(start, end) == london_office().elapsed(start, end)


def test_threads_sharing_a_calendar_agree() -> None:
    clock = london_office()
    starts = [utc(2020 + n % 12, 1 + n % 12, 1 + n % 28, n % 24) for n in range(200)]
    expected = [london_office().add(s, 50 * H) for s in starts]
    results: dict[int, list[datetime]] = {}

    def work(k: int) -> None:
        order = starts if k % 2 else starts[::-1]
        got = [clock.add(s, 50 * H) for s in order]
        results[k] = got if k % 2 else got[::-1]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(got == expected for got in results.values())


# -- the fast clock against the oracle -------------------------------------------------------------

ZONES = (
    "Europe/London",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/St_Johns",
    "UTC",
)
# Boundaries that touch the DST gaps and folds of these zones (01:00-03:00), midnight and 24:00.
SPECIAL_MINUTES = (0, 30, 60, 90, 120, 150, 180, 210, 540, 720, 1020, 1080, 1410, 1440)


@cache
def offset_changes(zone_name: str) -> tuple[datetime, ...]:
    """UTC instants at which the zone's offset changes, 2025-2028 (an hourly scan)."""
    zone = ZoneInfo(zone_name)
    found = []
    t = utc(2025, 1, 1)
    before = t.astimezone(zone).utcoffset()
    while t < utc(2029, 1, 1):
        t += H
        now = t.astimezone(zone).utcoffset()
        if now != before:
            found.append(t)
            before = now
    return tuple(found)


def year_ends(zone_name: str) -> tuple[datetime, ...]:
    zone = ZoneInfo(zone_name)
    return tuple(datetime(year, 1, 1, tzinfo=zone).astimezone(UTC) for year in range(2025, 2030))


@st.composite
def cal_specs(draw: st.DrawFn) -> CalSpec:
    zone = draw(st.sampled_from(ZONES))
    if draw(st.integers(0, 9)) == 0:
        return CalSpec(zone=zone, always_open=True)
    minute = st.one_of(st.sampled_from(SPECIAL_MINUTES), st.integers(0, 1440))
    periods: list[tuple[int, int, int]] = []
    for weekday in range(7):
        points = sorted(draw(st.lists(minute, max_size=6, unique=True)))
        periods += [(weekday, a, b) for a, b in zip(points[::2], points[1::2], strict=False)]
    for _ in range(draw(st.integers(0, 2))):  # overlapping extras, merged by the clock
        weekday, a, b = draw(st.integers(0, 6)), draw(minute), draw(minute)
        if a != b:
            periods.append((weekday, min(a, b), max(a, b)))
    if draw(st.booleans()):  # a Sunday period around 01:00-03:00, where these zones change
        a = draw(st.sampled_from((0, 30, 60, 90, 120, 150)))
        b = draw(st.sampled_from((90, 120, 150, 180, 210, 1440)))
        if a < b:
            periods.append((6, a, b))
    if draw(st.booleans()):  # an overnight shift, written as two periods
        weekday, a, b = draw(st.integers(0, 6)), draw(st.integers(1, 1439)), draw(minute)
        periods += [(weekday, a, 1440)] + ([((weekday + 1) % 7, 0, b)] if b else [])
    if not periods:
        periods.append((draw(st.integers(0, 6)), 540, 1020))
    return CalSpec(zone=zone, periods=tuple(periods))


@st.composite
def instants_near(draw: st.DrawFn, spec: CalSpec) -> datetime:
    """Mostly within hours or days of a DST change or a year end, sometimes anywhere."""
    changes, ends = offset_changes(spec.zone), year_ends(spec.zone)
    kind = draw(st.integers(0, 9))
    if kind < 6 and changes:
        anchor = draw(st.sampled_from(changes))
    elif kind < 8:
        anchor = draw(st.sampled_from(ends))
    else:
        anchor = utc(2025, 1, 1) + timedelta(hours=draw(st.integers(0, 4 * 8760)))
    reach = draw(st.sampled_from((3 * 60, 12 * 60, 4 * 1440)))
    t = anchor + timedelta(minutes=draw(st.integers(-reach, reach)))
    t += timedelta(seconds=draw(st.one_of(st.just(0), st.integers(0, 59))))
    t += timedelta(microseconds=draw(st.one_of(st.just(0), st.just(0), st.integers(0, 999_999))))
    shown = draw(st.sampled_from([UTC, ZoneInfo(spec.zone), timezone(timedelta(hours=-5))]))
    return t.astimezone(shown)


@st.composite
def cases(draw: st.DrawFn) -> tuple[CalSpec, datetime]:
    """A calendar (with closures near the start) and a start instant."""
    spec = draw(cal_specs())
    start = draw(instants_near(spec))
    if not spec.always_open:
        local_day = start.astimezone(ZoneInfo(spec.zone)).date()
        shifts = draw(st.lists(st.integers(-2, 12), max_size=4, unique=True))
        spec = CalSpec(
            zone=spec.zone,
            periods=spec.periods,
            closures=frozenset(local_day + timedelta(days=n) for n in shifts),
        )
    return spec, start


def build(spec: CalSpec) -> BusinessCalendar:
    periods = [Period(weekday=w, start=a, end=b) for w, a, b in spec.periods]
    return BusinessCalendar(spec.zone, periods, spec.closures, always_open=spec.always_open)


def weekly_open_minutes(spec: CalSpec) -> int:
    if spec.always_open:
        return 7 * 1440
    return len({(w, m) for w, a, b in spec.periods for m in range(a, b)})


@st.composite
def durations(draw: st.DrawFn, spec: CalSpec, start: datetime) -> timedelta:
    """Up to 72 business hours (at most about two weeks of this calendar's opening hours), or
    exactly the business time from `start` to a whole half hour, which is often a closing."""
    if draw(st.booleans()):
        mark = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        return oracle_elapsed(spec, start, mark + 30 * MIN * draw(st.integers(1, 4 * 48)))
    cap = min(72 * 60, 2 * weekly_open_minutes(spec))
    minutes = draw(st.integers(0, cap))
    seconds = draw(st.one_of(st.just(0), st.integers(0, 59)))
    micro = draw(st.one_of(st.just(0), st.integers(0, 999_999)))
    return timedelta(minutes=minutes, seconds=seconds, microseconds=micro)


ORACLE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@ORACLE
@given(case=cases(), data=st.data())
def test_add_agrees_with_the_oracle(case: tuple[CalSpec, datetime], data: st.DataObject) -> None:
    spec, start = case
    duration = data.draw(durations(spec, start))
    assert build(spec).add(start, duration) == oracle_add(spec, start, duration)


@ORACLE
@given(case=cases(), span=st.integers(0, 5 * 86_400 * 1_000_000))
def test_elapsed_agrees_with_the_oracle(case: tuple[CalSpec, datetime], span: int) -> None:
    spec, start = case
    end = start.astimezone(UTC) + timedelta(microseconds=span)  # real time, not wall time
    assert build(spec).elapsed(start, end) == oracle_elapsed(spec, start, end)


@ORACLE
@given(case=cases())
def test_is_open_agrees_with_the_oracle(case: tuple[CalSpec, datetime]) -> None:
    spec, instant = case
    assert build(spec).is_open(instant) == oracle_is_open(spec, instant)


@ORACLE
@given(case=cases())
def test_next_open_agrees_with_the_oracle(case: tuple[CalSpec, datetime]) -> None:
    spec, instant = case
    assert build(spec).next_open(instant) == oracle_next_open(spec, instant)


@FAST
@given(case=cases(), hours=st.integers(0, 200), micro=st.integers(0, 3_600_000_000))
def test_elapsed_until_add_gives_back_the_duration(
    case: tuple[CalSpec, datetime], hours: int, micro: int
) -> None:
    spec, start = case
    clock = build(spec)
    duration = timedelta(hours=hours, microseconds=micro)
    assert clock.elapsed(start, clock.add(start, duration)) == duration


@FAST
@given(case=cases(), cuts=st.lists(st.integers(0, 800 * 86_400_000_000), max_size=4))
def test_elapsed_adds_up_over_consecutive_spans(
    case: tuple[CalSpec, datetime], cuts: list[int]
) -> None:
    spec, start = case
    clock = build(spec)
    points = [start.astimezone(UTC) + timedelta(microseconds=n) for n in sorted([0, *cuts])]
    pieces = sum((clock.elapsed(a, b) for a, b in pairwise(points)), timedelta(0))
    assert clock.elapsed(points[0], points[-1]) == pieces


@FAST
@given(case=cases(), a=st.integers(0, 720_000_000_000), b=st.integers(0, 720_000_000_000))
def test_add_is_monotone_in_the_duration(case: tuple[CalSpec, datetime], a: int, b: int) -> None:
    spec, start = case
    clock = build(spec)
    short, long = timedelta(microseconds=min(a, b)), timedelta(microseconds=max(a, b))
    assert start <= clock.add(start, short) <= clock.add(start, long)


@FAST
@given(case=cases(), later=st.integers(0, 10 * 86_400_000_000), hours=st.integers(0, 200))
def test_add_is_monotone_in_the_start(
    case: tuple[CalSpec, datetime], later: int, hours: int
) -> None:
    spec, start = case
    clock = build(spec)
    duration = timedelta(hours=hours)
    later_start = start.astimezone(UTC) + timedelta(microseconds=later)
    assert clock.add(start, duration) <= clock.add(later_start, duration)
