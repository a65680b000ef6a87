"""The queue's order read part by part through its indexes is the order one CASE gives, on varied
tickets and at every instant a standing turns; the stored rank is the plan's priority, then the
severity's level; the capped count stops where it is told."""

from __future__ import annotations

import datetime as dt
import random
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import OrderBy

from sla.selectors import ticket_standing_conditions, ticket_urgency_case
from sla.standing import URGENCY, Standing
from tests.builders.queue import INSTANTS, build_varied_queue, random_summary, set_summary
from tests.factories import PlanFactory, SeverityFactory, TicketFactory
from tickets.models import CLOSED_STATUSES, Ticket
from tickets.queue_order import (
    LEVELS,
    _compiled,
    capped_count,
    open_ranks,
    ordered_by_urgency,
    page_ids,
    page_rows,
    queue_rank,
)

pytestmark = pytest.mark.django_db

PAGE = 7


def open_tickets() -> QuerySet[Ticket]:
    return Ticket.objects.exclude(status__in=CLOSED_STATUSES)


def case_order(tickets: QuerySet[Ticket], now: dt.datetime) -> list[int]:
    """The queue's order as DESIGN states it, on the plan and severity rows themselves."""
    return list(
        tickets.order_by(
            ticket_urgency_case(now=now, prefix="sla_"),
            OrderBy(F("plan__priority"), descending=True),
            "severity__level",
            OrderBy(F("sla_breach_at"), nulls_last=True),
            "created_at",
            "id",
        ).values_list("id", flat=True)
    )


def ranks() -> list[int] | None:
    return open_ranks() if connection.vendor == "postgresql" else None


def paged(tickets: QuerySet[Ticket], now: dt.datetime, **kwargs: object) -> list[int]:
    """Every page of `tickets` read part by part, one after the other."""
    found: list[int] = []
    total = tickets.count()
    for start in range(0, total + PAGE, PAGE):
        rows = page_rows(tickets, now=now, start=start, stop=start + PAGE, **kwargs)
        found += [ticket.pk for ticket in rows]
    return found


@pytest.fixture
def queue() -> SimpleNamespace:
    return build_varied_queue()


def test_the_rank_puts_a_higher_plan_priority_first_then_a_lower_severity_level() -> None:
    rnd = random.Random(5)
    pairs = [(rnd.randint(-32768, 32767), rnd.randint(1, LEVELS - 1)) for _ in range(2000)]
    pairs += [(-32768, 32767), (32767, 1), (0, 1), (0, 2), (1, 32767), (-1, 1)]
    by_rank = sorted(pairs, key=lambda pair: queue_rank(*pair))
    assert by_rank == sorted(pairs, key=lambda pair: (-pair[0], pair[1]))
    assert all(-(2**31) <= queue_rank(*pair) < 2**31 for pair in pairs)


def test_the_rank_of_the_usual_priority_is_the_severity_level() -> None:
    assert [queue_rank(0, level) for level in (1, 2, 3)] == [1, 2, 3]


@pytest.mark.parametrize("offset", INSTANTS, ids=str)
def test_pages_read_part_by_part_follow_the_case_order(
    queue: SimpleNamespace, offset: dt.timedelta
) -> None:
    now = queue.now + offset
    expected = case_order(open_tickets(), now)
    assert len(expected) == len(queue.tickets)
    assert paged(open_tickets(), now, ranks=ranks()) == expected
    assert list(ordered_by_urgency(open_tickets(), now=now).values_list("id", flat=True)) == (
        expected
    )


@pytest.mark.parametrize("offset", INSTANTS, ids=str)
def test_each_standing_read_alone_follows_the_case_order(
    queue: SimpleNamespace, offset: dt.timedelta
) -> None:
    now = queue.now + offset
    for standing, condition in ticket_standing_conditions(now=now, prefix="sla_").items():
        tickets = open_tickets().filter(condition)
        found = paged(tickets, now, urgencies=[URGENCY[standing]], ranks=ranks())
        assert found == case_order(tickets, now), standing


@pytest.mark.parametrize("offset", INSTANTS, ids=str)
def test_the_assignee_and_tier_views_follow_the_case_order(
    queue: SimpleNamespace, offset: dt.timedelta
) -> None:
    now = queue.now + offset
    views = [Q(assignee=queue.agents[0]), Q(queue=queue.tiers[1]), Q(assignee__isnull=True)]
    for view in views:
        tickets = open_tickets().filter(view)
        assert paged(tickets, now, ranks=ranks()) == case_order(tickets, now), view


def test_a_page_comes_with_the_querysets_related_rows(queue: SimpleNamespace) -> None:
    tickets = open_tickets().select_related("plan", "severity")
    rows = list(page_rows(tickets, now=queue.now, start=0, stop=3))
    assert [(t.plan.priority, t.severity.level) for t in rows] == [(2, 1), (2, 1), (2, 1)]


def test_a_page_is_one_query(queue: SimpleNamespace, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        list(page_rows(open_tickets(), now=queue.now, start=PAGE, stop=2 * PAGE))


def test_page_ids_give_the_urgency_and_keys_of_each_row(queue: SimpleNamespace) -> None:
    rows = list(page_ids(open_tickets(), now=queue.now, start=0, stop=len(queue.tickets)))
    urgencies = [urgency for urgency, *_ in rows]
    assert urgencies == sorted(urgencies)
    assert set(urgencies) == {0, 1, 2, 3, len(URGENCY)}


def test_random_summaries_follow_the_case_order_at_random_instants() -> None:
    rnd = random.Random(11)
    plans = [PlanFactory.create(slug=f"random-{p}", priority=p) for p in (1, 0)]
    now = dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.UTC)
    for n in range(60):
        plan = plans[n % 2]
        severity = SeverityFactory.create(policy=plan.policy, level=rnd.choice([1, 2]))
        ticket = TicketFactory.create(
            plan=plan, severity=severity, created_at=now - dt.timedelta(minutes=rnd.randint(0, 9))
        )
        set_summary(ticket, random_summary(rnd, now))
    for _ in range(6):
        at = now + dt.timedelta(minutes=rnd.randint(-600, 600))
        assert paged(open_tickets(), at, ranks=ranks()) == case_order(open_tickets(), at)


def test_the_capped_count_stops_at_its_limit(queue: SimpleNamespace) -> None:
    total = len(queue.tickets)
    assert capped_count(open_tickets(), limit=total + 5) == total
    assert capped_count(open_tickets(), limit=10) == 10


def test_the_capped_count_of_one_standing_counts_its_parts(queue: SimpleNamespace) -> None:
    now = queue.now
    breached = ticket_standing_conditions(now=now, prefix="sla_")[Standing.BREACHED]
    expected = open_tickets().filter(breached).count()
    urgencies = [URGENCY[Standing.BREACHED]]
    kwargs = {"now": now, "urgencies": urgencies, "ranks": ranks()}
    assert capped_count(open_tickets(), limit=1000, **kwargs) == expected
    assert capped_count(open_tickets(), limit=3, **kwargs) == 3


@pytest.mark.postgres
def test_open_ranks_are_the_ranks_of_open_tickets_once_each(queue: SimpleNamespace) -> None:
    expected = sorted(set(open_tickets().values_list("queue_rank", flat=True)))
    assert open_ranks() == expected


@pytest.mark.postgres
def test_without_ranks_there_is_nothing_to_read(queue: SimpleNamespace) -> None:
    assert list(page_rows(open_tickets(), now=queue.now, start=0, stop=5, ranks=[])) == []
    assert capped_count(open_tickets(), limit=5, now=queue.now, urgencies=[0], ranks=[]) == 0


def test_a_standing_without_parts_reads_no_rows(queue: SimpleNamespace) -> None:
    met_late = [URGENCY[Standing.MET_LATE]]
    assert list(page_rows(open_tickets(), now=queue.now, start=0, stop=5, urgencies=met_late)) == []
    assert capped_count(open_tickets(), limit=5, now=queue.now, urgencies=met_late) == 0


# --------------------------------------------------------------------------------------------
# The parts' SQL compiled once per shape


def test_a_page_compiled_once_is_read_at_each_later_instant(queue: SimpleNamespace) -> None:
    _compiled.clear()
    for offset in INSTANTS:
        now = queue.now + offset
        assert paged(open_tickets(), now, ranks=ranks()) == case_order(open_tickets(), now)
    pages = len(range(0, len(queue.tickets) + PAGE, PAGE))
    assert len(_compiled) == pages  # one compiled query per page, whatever the instant


def test_a_count_compiled_once_counts_at_each_later_instant(queue: SimpleNamespace) -> None:
    _compiled.clear()
    urgencies = [URGENCY[Standing.AT_RISK]]
    for offset in INSTANTS:
        now = queue.now + offset
        at_risk = ticket_standing_conditions(now=now, prefix="sla_")[Standing.AT_RISK]
        expected = open_tickets().filter(at_risk).count()
        kwargs = {"now": now, "urgencies": urgencies, "ranks": ranks()}
        assert capped_count(open_tickets(), limit=1000, **kwargs) == expected
    assert len(_compiled) == 1


def test_a_view_filtered_at_the_same_instant_reuses_its_page(queue: SimpleNamespace) -> None:
    _compiled.clear()
    most = 0
    for offset in INSTANTS:
        now = queue.now + offset
        breached = ticket_standing_conditions(now=now, prefix="sla_")[Standing.BREACHED]
        tickets = open_tickets().filter(breached)
        kwargs = {"urgencies": [URGENCY[Standing.BREACHED]], "ranks": ranks()}
        assert paged(tickets, now, **kwargs) == case_order(tickets, now)
        most = max(most, len(range(0, tickets.count() + PAGE, PAGE)))
    assert len(_compiled) == most  # one compiled query per page, whatever the instant


def test_a_view_with_another_instant_is_compiled_each_time(queue: SimpleNamespace) -> None:
    _compiled.clear()
    for offset in INSTANTS:
        now = queue.now + offset
        tickets = open_tickets().filter(created_at__lte=now - dt.timedelta(hours=1))
        assert paged(tickets, now, ranks=ranks()) == case_order(tickets, now)
    if connection.vendor == "postgresql":  # SQLite's parameters are strings: cached per instant
        assert len(_compiled) == 0
