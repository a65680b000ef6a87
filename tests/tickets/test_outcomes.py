"""What the SLA report counts (`tickets.outcomes`) follows the clocks through every service."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.db.models import Sum

from sla.models import SlaClock
from sla.recalculation import clocks_recalculate
from sla.services import sweep
from tests.factories import (
    AgentFactory,
    PlanFactory,
    QueueFactory,
    SeverityFactory,
    TargetFactory,
    customer_on,
)
from tickets import services
from tickets.models import SlaOutcome, SlaOutcomeWeek, SlaResponseWeek, Ticket
from tickets.outcomes import (
    COUNTED,
    bucket_of,
    compact_task,
    outcomes_compact,
    outcomes_rebuild,
    outcomes_refresh,
    week_of,
)

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


@contextmanager
def at(iso: str) -> Iterator[None]:
    with time_machine.travel(dt.datetime.fromisoformat(iso), tick=False):
        yield


@pytest.fixture
def desk() -> SimpleNamespace:
    """A plan with acknowledge 1 h, first response 2 h and resolution 10 h (severity 1) or
    40 h (severity 2), two tiers, two agents and a customer."""
    plan = PlanFactory.create(slug="r24")
    for level, resolution in ((1, 10 * H), (2, 40 * H)):
        TargetFactory.create(
            plan=plan,
            severity=SeverityFactory.create(policy=plan.policy, level=level),
            acknowledge=H,
            first_response=2 * H,
            resolution=resolution,
        )
    return SimpleNamespace(
        contact=customer_on("r24", time_zone="UTC"),
        l1=QueueFactory.create(slug="l1"),
        l2=QueueFactory.create(slug="l2"),
        alice=AgentFactory.create(username="ann"),
        bob=AgentFactory.create(username="ben"),
    )


def open_ticket(desk: SimpleNamespace, when: str, severity: int = 1) -> Ticket:
    with at(when):
        return services.ticket_create(
            requester=desk.contact.user,
            subject="Help",
            body="It broke.",
            severity_level=severity,
            channel="portal",
        )


def expected_from_clocks() -> dict[int, tuple[Any, ...]]:
    """Each counted clock's outcome as the clocks say it."""
    return {
        clock.pk: (
            clock.breached_at or clock.met_at,
            clock.breached_at is not None,
            clock.metric,
            clock.plan_id,
            clock.severity_id,
        )
        for clock in SlaClock.objects.filter(COUNTED)
    }


def held() -> dict[int, tuple[Any, ...]]:
    return {
        row.clock_id: (row.at, row.breached, row.metric, row.plan_id, row.severity_id)
        for row in SlaOutcome.objects.filter(counted=True)
    }


def responses_from_clocks() -> Counter[tuple[Any, ...]]:
    """First responses per UTC week and bucket, as the clocks say them."""
    return Counter(
        (week_of(clock.met_at), bucket_of(clock.business_elapsed))
        for clock in SlaClock.objects.filter(metric="first_response")
        if clock.met_at is not None and clock.business_elapsed is not None
    )


def response_sums() -> Counter[tuple[Any, ...]]:
    sums: Counter[tuple[Any, ...]] = Counter()
    for row in SlaResponseWeek.objects.values("week", "bucket").annotate(n=Sum("responses")):
        sums[(row["week"], row["bucket"])] += row["n"]
    return +sums


def week_sums() -> Counter[tuple[Any, ...]]:
    """The weekly counts, deltas summed, zero keys left out."""
    sums: Counter[tuple[Any, ...]] = Counter()
    keys = ["week", "metric", "plan_id", "severity_id", "queue_id", "assignee_id"]
    for row in SlaOutcomeWeek.objects.values(*keys).annotate(
        met=Sum("met_on_time"), late=Sum("breached")
    ):
        key = tuple(row[k] for k in keys)
        sums[(*key, False)] += row["met"]
        sums[(*key, True)] += row["late"]
    return +sums


def counted_rows() -> Counter[tuple[Any, ...]]:
    """The outcome rows counted per week key, as the weekly counts should hold them."""
    return Counter(
        (week_of(r.at), r.metric, r.plan_id, r.severity_id, r.queue_id, r.assignee_id, r.breached)
        for r in SlaOutcome.objects.filter(counted=True)
    )


def assert_in_line() -> None:
    assert held() == expected_from_clocks()
    assert week_sums() == counted_rows()
    assert response_sums() == responses_from_clocks()


def test_every_service_keeps_the_outcomes_in_line_with_the_clocks(desk: SimpleNamespace) -> None:
    ticket = open_ticket(desk, "2026-11-23T09:00:00+00:00")
    assert_in_line()
    assert not SlaOutcome.objects.exists()
    with at("2026-11-23T09:30:00+00:00"):
        ticket = services.ticket_acknowledge(ticket=ticket, by=desk.alice)
    assert_in_line()
    with at("2026-11-23T09:40:00+00:00"):
        ticket = services.ticket_move_to_queue(ticket=ticket, queue=desk.l2, by=desk.alice)
        ticket = services.ticket_assign(ticket=ticket, assignee=desk.bob, by=desk.alice)
    with at("2026-11-23T11:05:00+00:00"):
        sweep()  # first response breached at 11:00
    assert_in_line()
    with at("2026-11-23T12:00:00+00:00"):
        services.ticket_reply(ticket=ticket, author=desk.bob, body="Looking.")
        ticket = services.ticket_change_severity(
            ticket=Ticket.objects.get(pk=ticket.pk), level=2, by=desk.bob, reason="Workaround."
        )
    assert_in_line()
    with at("2026-11-23T13:00:00+00:00"):
        ticket = services.ticket_resolve(ticket=ticket, by=desk.bob)
    assert_in_line()
    with at("2026-11-23T14:00:00+00:00"):
        services.ticket_reopen(ticket=ticket, by=desk.contact.user, reason="Back.")
    with at("2026-11-25T12:00:00+00:00"):
        sweep()  # the reopened cycle breaches its 40 hours
        clocks_recalculate()
    assert_in_line()
    assert response_sums()  # the reply was a first response
    assert {row.metric: row.breached for row in SlaOutcome.objects.all()} == {
        "acknowledge": False,
        "first_response": True,
        "resolution": True,
    }


def test_a_clock_counts_for_the_queue_and_agent_of_its_ticket_when_it_ended(
    desk: SimpleNamespace,
) -> None:
    ticket = open_ticket(desk, "2026-11-23T09:00:00+00:00")
    Ticket.objects.filter(pk=ticket.pk).update(queue=desk.l1)
    with at("2026-11-23T09:30:00+00:00"):
        ticket = services.ticket_acknowledge(ticket=Ticket.objects.get(pk=ticket.pk), by=desk.alice)
    with at("2026-11-23T09:40:00+00:00"):
        services.ticket_move_to_queue(ticket=ticket, queue=desk.l2, by=desk.alice)
        services.ticket_assign(ticket=ticket, assignee=desk.bob, by=desk.alice)
    row = SlaOutcome.objects.get(metric="acknowledge")
    assert (row.queue, row.assignee) == (desk.l1, desk.alice)


def test_a_refresh_with_nothing_changed_writes_nothing(
    desk: SimpleNamespace, django_assert_num_queries: Any
) -> None:
    ticket = open_ticket(desk, "2026-11-23T09:00:00+00:00")
    with at("2026-11-23T09:30:00+00:00"):
        services.ticket_acknowledge(ticket=ticket, by=desk.alice)
    with django_assert_num_queries(1):  # the clocks and their rows, nothing written
        outcomes_refresh({ticket.pk})


def test_folding_keeps_every_sum_and_leaves_one_row_a_key(desk: SimpleNamespace) -> None:
    for hour in range(4):
        ticket = open_ticket(desk, f"2026-11-23T0{hour + 1}:00:00+00:00")
        with at(f"2026-11-23T0{hour + 1}:30:00+00:00"):
            services.ticket_acknowledge(ticket=ticket, by=desk.alice)
    before = week_sums()
    assert SlaOutcomeWeek.objects.count() == 4
    assert compact_task() == 4
    assert week_sums() == before
    assert SlaOutcomeWeek.objects.count() == 1
    assert outcomes_compact() == 0


def test_folding_the_response_counts_keeps_their_sums(desk: SimpleNamespace) -> None:
    for hour in range(3):
        ticket = open_ticket(desk, f"2026-11-23T0{hour + 1}:00:00+00:00")
        with at(f"2026-11-23T0{hour + 1}:10:00+00:00"):
            services.ticket_reply(ticket=ticket, author=desk.alice, body="On it.")
    before = response_sums()
    assert SlaResponseWeek.objects.count() == 3
    assert outcomes_compact(SlaResponseWeek) == 3
    assert (response_sums(), SlaResponseWeek.objects.count()) == (before, 1)


def test_a_rebuild_counts_what_the_services_counted(desk: SimpleNamespace) -> None:
    for day in (23, 24, 30):
        ticket = open_ticket(desk, f"2026-11-{day}T09:00:00+00:00")
        with at(f"2026-11-{day}T09:30:00+00:00"):
            services.ticket_acknowledge(ticket=ticket, by=desk.alice)
        with at(f"2026-11-{day}T12:00:00+00:00"):
            sweep()
    before, rows, responses = week_sums(), held(), response_sums()
    assert outcomes_rebuild() >= len(rows) >= 6
    assert (week_sums(), held(), response_sums()) == (before, rows, responses)
