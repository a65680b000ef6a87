"""The demo hours exercise every rule: pool, overage, >80% this month, enablement sessions."""

import datetime as dt

import pytest
import time_machine
from django.core.management import call_command

from plans.models import Contract
from sla.models import Metric
from tickets.demo import seed_demo
from tickets.hours.demo import ENABLEMENT_SESSIONS, seed_hours
from tickets.hours.ledger import enablement_ledger, hours_ledger
from tickets.models import Status, Ticket, TicketEvent, TimeEntry

pytestmark = pytest.mark.django_db

TODAY = dt.date(2027, 5, 10)


@pytest.fixture
def demo():
    # The demo's contracts start relative to TODAY; "active" is judged on the real clock.
    with time_machine.travel(dt.datetime(2027, 5, 10, 9, 0, tzinfo=dt.UTC), tick=False):
        call_command("load_policy", "examples/policies/agency.yaml", verbosity=0)
        call_command("load_policy", "examples/policies/prismic.yaml", verbosity=0)
        seed_demo(TODAY)
        seed_hours(today=TODAY)
        yield


def _contract(slug: str) -> Contract:
    return Contract.objects.select_related("organization", "plan").get(plan__slug=slug)


@pytest.mark.parametrize("slug", ["agency-10h", "agency-20h", "agency-40h"])
def test_agency_demo_has_a_pool_an_overage_month_and_this_month_past_80_percent(
    demo, slug: str
) -> None:
    periods = hours_ledger(_contract(slug), today=TODAY)
    past, current = periods[:-1], periods[-1]
    assert any(p.pooled and not p.overage_minutes for p in past)
    assert any(p.overage_minutes and p.amount for p in past)
    assert current.current and current.reached(80) and not current.reached(100)


def test_prismic_enterprise_demo_has_enablement_sessions_this_year(demo) -> None:
    contracts = Contract.objects.select_related("organization", "plan").filter(
        plan__slug__startswith="prismic-enterprise"
    )
    assert contracts
    for contract in contracts:
        (year,) = enablement_ledger(contract, today=TODAY)
        assert 0 < year.used_minutes < year.allowance_minutes


def test_enablement_session_tickets_are_opened_through_the_services_with_their_clocks(
    demo,
) -> None:
    sessions = Ticket.objects.filter(subject__in=[subject for subject, *_ in ENABLEMENT_SESSIONS])
    assert sessions
    for ticket in sessions:
        assert ticket.status == Status.RESOLVED
        assert ticket.events.filter(kind=TicketEvent.Kind.CREATED, at=ticket.created_at).exists()
        assert ticket.sla_clocks.count() == len(Metric)
        assert ticket.created_at.date() < TODAY
    assert not Ticket.objects.filter(sla_clocks__isnull=True).exists()


def test_seeding_hours_twice_adds_nothing(demo) -> None:
    before = TimeEntry.objects.count()
    seed_hours(today=TODAY)
    assert TimeEntry.objects.count() == before
