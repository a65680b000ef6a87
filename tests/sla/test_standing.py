"""The one SLA standing: the pure rules, and their SQL twin giving the same answer on every row."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sla.models import SlaClock
from sla.selectors import (
    standing_case,
    standing_for,
    standing_q,
    ticket_standing_conditions,
)
from sla.standing import (
    AT_RISK_SHARE,
    ClockStanding,
    Standing,
    business_left,
    clock_standing,
    most_urgent,
    standing_of,
    ticket_sla,
    ticket_standing,
)
from tests.factories import SlaClockFactory, TicketFactory
from tickets.models import Ticket

NOW = dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


@dataclass
class Facts:
    state: str = "running"
    target: dt.timedelta | None = 4 * H
    due_at: dt.datetime | None = NOW + 2 * H
    at_risk_at: dt.datetime | None = NOW + H
    paused_at: dt.datetime | None = None
    met_at: dt.datetime | None = None
    breached_at: dt.datetime | None = None


class WallClock:
    """Every instant is business time: business time left is wall-clock time left."""

    def elapsed(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        return max(end - start, dt.timedelta(0))


CASES: dict[str, tuple[Facts, Standing]] = {
    "paused, its old due instant passed": (
        Facts(state="paused", due_at=NOW - H, at_risk_at=NOW - 2 * H, paused_at=NOW - 3 * H),
        Standing.PAUSED,
    ),
    "paused after it breached": (
        Facts(state="paused", due_at=NOW - 2 * H, paused_at=NOW - H, breached_at=NOW - 2 * H),
        Standing.BREACHED,
    ),
    "paused after its due instant, before the sweep recorded the breach": (
        Facts(state="paused", due_at=NOW - 2 * H, paused_at=NOW - H),
        Standing.BREACHED,
    ),
    "running, overdue, sweep not yet run": (
        Facts(due_at=NOW - M, at_risk_at=NOW - H),
        Standing.BREACHED,
    ),
    "running, breach recorded": (
        Facts(state="breached", due_at=NOW - H, breached_at=NOW - H),
        Standing.BREACHED,
    ),
    "90% of the target used, 2 h left": (
        Facts(target=20 * H, due_at=NOW + 2 * H, at_risk_at=NOW - 3 * H),
        Standing.AT_RISK,
    ),
    "33% used, 40 min left": (
        Facts(target=H, due_at=NOW + 40 * M, at_risk_at=NOW + 5 * M),
        Standing.ON_TRACK,
    ),
    "met late": (
        Facts(state="met", due_at=NOW - H, met_at=NOW - M, breached_at=NOW - H),
        Standing.MET_LATE,
    ),
    "met after due, before the sweep recorded the breach": (
        Facts(state="met", due_at=NOW - H, met_at=NOW - M),
        Standing.MET_LATE,
    ),
    "met on time": (Facts(state="met", due_at=NOW + H, met_at=NOW - H), Standing.MET_ON_TIME),
    "no target": (Facts(target=None, due_at=None, at_risk_at=None), Standing.NO_TARGET),
    "no target, met": (
        Facts(state="met", target=None, due_at=None, at_risk_at=None, met_at=NOW),
        Standing.NO_TARGET,
    ),
    "cancelled": (Facts(state="cancelled"), Standing.CANCELLED),
    "reopened cycle, running again": (
        Facts(due_at=NOW + 3 * H, at_risk_at=NOW + 2 * H),
        Standing.ON_TRACK,
    ),
}


def sql_standings(clocks: list[SlaClock], now: dt.datetime) -> dict[int, str]:
    rows = SlaClock.objects.filter(pk__in=[c.pk for c in clocks]).annotate(
        standing=standing_case(now=now)
    )
    return dict(rows.values_list("pk", "standing"))


def saved(facts: Facts, **extra: Any) -> SlaClock:
    return SlaClockFactory.create(**vars(facts), **extra)


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_the_rules_classify_each_case(case: str) -> None:
    facts, expected = CASES[case]
    assert standing_of(facts, now=NOW) == expected


@pytest.mark.django_db
def test_python_and_sql_agree_on_every_case() -> None:
    ticket = TicketFactory.create()
    clocks = [
        saved(facts, ticket=ticket, cycle=i + 1) for i, (facts, _) in enumerate(CASES.values())
    ]
    in_sql = sql_standings(clocks, NOW)
    for clock, (case, (_, expected)) in zip(clocks, CASES.items(), strict=True):
        assert (in_sql[clock.pk], standing_of(clock, now=NOW)) == (expected, expected), case


@pytest.mark.django_db
@pytest.mark.parametrize("standing", list(Standing))
def test_each_standing_condition_selects_its_clocks(standing: Standing) -> None:
    ticket = TicketFactory.create()
    clocks = [
        saved(facts, ticket=ticket, cycle=i + 1) for i, (facts, _) in enumerate(CASES.values())
    ]
    expected = {c.pk for c in clocks if standing_of(c, now=NOW) == standing}
    found = set(SlaClock.objects.filter(standing_q(standing, now=NOW)).values_list("pk", flat=True))
    assert found == expected


instants = st.integers(min_value=-48 * 60, max_value=48 * 60).map(lambda m: NOW + m * M)
maybe_instant = st.none() | instants


@st.composite
def clock_facts(draw: st.DrawFn) -> Facts:
    state = draw(st.sampled_from(["running", "paused", "breached", "met", "cancelled"]))
    target = draw(st.none() | st.integers(min_value=1, max_value=48 * 60).map(lambda m: m * M))
    due_at = draw(instants) if target is not None else None
    at_risk_at = draw(maybe_instant) if target is not None else None
    return Facts(
        state=state,
        target=target,
        due_at=due_at,
        at_risk_at=at_risk_at,
        paused_at=draw(instants) if state == "paused" else draw(maybe_instant),
        met_at=draw(instants) if state == "met" else None,
        breached_at=draw(maybe_instant),
    )


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(facts=st.lists(clock_facts(), min_size=1, max_size=8), now=instants)
def test_python_and_sql_agree_on_random_clocks_and_instants(
    facts: list[Facts], now: dt.datetime
) -> None:
    ticket = TicketFactory.create()
    clocks = [saved(f, ticket=ticket, cycle=i + 1) for i, f in enumerate(facts)]
    in_sql = sql_standings(clocks, now)
    for clock in clocks:
        assert in_sql[clock.pk] == standing_of(clock, now=now), vars(clock)


def test_a_paused_clock_keeps_the_business_time_it_had_when_it_paused() -> None:
    facts = Facts(state="paused", due_at=NOW - H, paused_at=NOW - 3 * H)
    left = business_left(facts, Standing.PAUSED, now=NOW, calendar=WallClock())
    assert left == 2 * H


def test_a_breached_clock_has_negative_time_left() -> None:
    facts = Facts(due_at=NOW - 30 * M)
    result = clock_standing(facts, now=NOW, calendar=WallClock())
    assert (result.standing, result.business_left) == (Standing.BREACHED, -30 * M)


def test_the_used_share_is_the_part_of_the_target_spent() -> None:
    facts = Facts(target=4 * H, due_at=NOW + H)
    assert clock_standing(facts, now=NOW, calendar=WallClock()).used_share == 0.75


def test_a_met_clock_has_no_time_left() -> None:
    facts = Facts(state="met", met_at=NOW - H)
    assert clock_standing(facts, now=NOW, calendar=WallClock()).business_left is None


def test_the_at_risk_share_is_three_quarters() -> None:
    assert AT_RISK_SHARE == 0.75


def test_the_most_urgent_is_a_breach_before_an_earlier_on_track_clock() -> None:
    on_track = ClockStanding(Standing.ON_TRACK, NOW + M, H, M)
    breached = ClockStanding(Standing.BREACHED, NOW + 2 * H, H, -M)
    assert most_urgent([on_track, breached]) is breached


def test_nothing_is_most_urgent_among_met_clocks() -> None:
    assert most_urgent([ClockStanding(Standing.MET_ON_TIME, NOW, H, None)]) is None


@pytest.mark.django_db
def test_business_time_left_is_measured_on_the_clocks_calendar() -> None:
    # The factory's plan calendar is London weekdays 09:00-17:00; Wednesday 18 November 2026.
    clock = SlaClockFactory.create(
        started_at=NOW - 2 * H, target=4 * H, due_at=NOW + 2 * H, at_risk_at=NOW + H
    )
    result = standing_for(clock, now=NOW)
    assert (result.standing, result.business_left) == (Standing.ON_TRACK, 2 * H)


# -- a ticket's standing from the summary it stores -------------------------------------------


def happened(facts: Facts, now: dt.datetime) -> bool:
    """A pause, a breach or a met instant is never later than the instant of the reading."""
    return all(at is None or at <= now for at in (facts.paused_at, facts.breached_at, facts.met_at))


@settings(max_examples=300, deadline=None)
@given(facts=st.lists(clock_facts(), max_size=5), now=instants)
def test_a_tickets_summary_gives_the_standing_of_its_most_urgent_clock(
    facts: list[Facts], now: dt.datetime
) -> None:
    assume(all(happened(f, now) for f in facts))
    standings = [clock_standing(f, now=now, calendar=WallClock()) for f in facts]
    urgent = most_urgent(standings)
    expected = urgent.standing if urgent else None
    assert ticket_standing(ticket_sla(facts), now=now) == expected


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(facts=st.lists(clock_facts(), max_size=4), now=instants)
def test_the_stored_summary_and_its_sql_twin_agree_with_the_clocks(
    facts: list[Facts], now: dt.datetime
) -> None:
    assume(all(happened(f, now) for f in facts))
    ticket = TicketFactory.create()
    for i, f in enumerate(facts):
        saved(f, ticket=ticket, cycle=i + 1)
    expected = ticket_standing(ticket_sla(facts), now=now)
    conditions = ticket_standing_conditions(now=now, prefix="sla_")
    found = [s for s, q in conditions.items() if Ticket.objects.filter(q, pk=ticket.pk).exists()]
    assert found == ([expected] if expected else [])
