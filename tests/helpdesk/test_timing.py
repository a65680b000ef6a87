"""The acting instant: the services act at a replayed instant inside `acting_at`, else now."""

import datetime as dt

import pytest
import time_machine

from helpdesk import timing
from sla.models import SlaClock
from tests.factories import AgentFactory, PlanFactory, TargetFactory, customer_on
from tickets import services

PAST = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


@time_machine.travel(NOW, tick=False)
def test_it_is_the_real_time_outside_acting_at() -> None:
    assert timing.now() == NOW


@time_machine.travel(NOW, tick=False)
def test_it_is_the_replayed_instant_inside_and_the_enclosing_one_after() -> None:
    later = PAST + dt.timedelta(hours=1)
    with timing.acting_at(PAST) as instant:
        assert instant == PAST
        assert timing.now() == PAST
        with timing.acting_at(later):
            assert timing.now() == later
        assert timing.now() == PAST
    assert timing.now() == NOW


def test_it_restores_the_real_time_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), timing.acting_at(PAST):
        raise RuntimeError("boom")
    assert timing.now() != PAST


def test_it_refuses_a_naive_instant() -> None:
    with pytest.raises(ValueError, match="aware"):
        timing.acting_at(dt.datetime(2026, 3, 2, 10, 0)).__enter__()


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_ticket_and_sla_services_act_at_the_replayed_instant() -> None:
    plan = PlanFactory.create(slug="pro")
    TargetFactory.create(plan=plan)
    contact = customer_on("pro")
    agent = AgentFactory.create()
    with timing.acting_at(PAST):
        ticket = services.ticket_create(
            requester=contact.user, subject="Down", body="All down.", severity_level=1
        )
    with timing.acting_at(PAST + dt.timedelta(minutes=30)):
        services.ticket_acknowledge(ticket=ticket, by=agent)

    ticket.refresh_from_db()
    assert ticket.created_at == PAST
    assert ticket.updated_at == PAST + dt.timedelta(minutes=30)
    assert {event.at for event in ticket.events.all()} == {PAST, PAST + dt.timedelta(minutes=30)}
    assert ticket.messages.get().created_at == PAST
    clocks = {clock.metric: clock for clock in SlaClock.objects.filter(ticket=ticket)}
    assert {clock.started_at for clock in clocks.values()} == {PAST}
    assert clocks["acknowledge"].met_at == PAST + dt.timedelta(minutes=30)
    assert clocks["first_response"].due_at == PAST + dt.timedelta(hours=4)
