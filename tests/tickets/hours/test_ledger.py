"""The support-hours ledger: billing months, no rollover, pooling, overage, enablement years."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from plans.models import PooledMonths
from tests.factories import (
    CategoryFactory,
    ContractFactory,
    OrganizationFactory,
    PlanFactory,
    TicketFactory,
    TimeEntryFactory,
)
from tickets.hours.ledger import (
    add_months,
    enablement_ledger,
    hours_ledger,
    local_today,
    overage_by_organization,
    plan_hours_summary,
)

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def _package(
    *,
    hours: str = "10",
    starts_on: dt.date = dt.date(2027, 1, 15),
    zone: str = "Europe/Kyiv",
    rate: str | None = "80.00",
    poolable: int = 2,
    enablement: str | None = None,
    **contract: object,
):
    plan = PlanFactory.create(
        monthly_support_hours=Decimal(hours),
        poolable_months=poolable,
        overage_billed=True,
        enablement_hours_per_year=Decimal(enablement) if enablement else None,
    )
    organization = OrganizationFactory.create(time_zone=zone)
    return ContractFactory.create(
        organization=organization,
        plan=plan,
        starts_on=starts_on,
        overage_hourly_rate=Decimal(rate) if rate else None,
        **contract,
    )


def _log(contract, day: dt.date, minutes: int, *, ticket=None, billable: bool = True):
    ticket = ticket or TicketFactory.create(organization=contract.organization, plan=contract.plan)
    return TimeEntryFactory.create(ticket=ticket, date=day, minutes=minutes, billable=billable)


# -- billing months ---------------------------------------------------------------------------


def test_it_clamps_a_start_on_the_31st_to_each_months_last_day() -> None:
    start = dt.date(2027, 1, 31)
    assert [add_months(start, n) for n in range(4)] == [
        dt.date(2027, 1, 31),
        dt.date(2027, 2, 28),
        dt.date(2027, 3, 31),
        dt.date(2027, 4, 30),
    ]


def test_billing_months_run_from_the_contract_start_day() -> None:
    contract = _package(starts_on=dt.date(2027, 1, 15))
    periods = hours_ledger(contract, today=dt.date(2027, 3, 20))
    assert [(p.start, p.end) for p in periods] == [
        (dt.date(2027, 1, 15), dt.date(2027, 2, 14)),
        (dt.date(2027, 2, 15), dt.date(2027, 3, 14)),
        (dt.date(2027, 3, 15), dt.date(2027, 4, 14)),
    ]
    assert [p.current for p in periods] == [False, False, True]


def test_entries_on_either_side_of_a_month_boundary_land_in_different_months() -> None:
    contract = _package(starts_on=dt.date(2027, 1, 15))
    _log(contract, dt.date(2027, 2, 14), 60)
    _log(contract, dt.date(2027, 2, 15), 90)
    first, second = hours_ledger(contract, today=dt.date(2027, 2, 20))
    assert (first.used_minutes, second.used_minutes) == (60, 90)


def test_the_current_month_follows_the_organizations_zone_not_utc() -> None:
    # 15 Feb 05:00 UTC is still 14 Feb in Los Angeles: the first billing month has not ended.
    contract = _package(starts_on=dt.date(2027, 1, 15), zone="America/Los_Angeles")
    _log(contract, dt.date(2027, 2, 14), 120)
    with time_machine.travel(dt.datetime(2027, 2, 15, 5, 0, tzinfo=UTC), tick=False):
        today = local_today(contract.organization)
        summary = plan_hours_summary(organization=contract.organization, today=today)
    assert today == dt.date(2027, 2, 14)
    assert summary["current"].start == dt.date(2027, 1, 15)
    assert summary["current"].used == Decimal("2.00")


def test_the_new_month_starts_at_local_midnight_east_of_utc() -> None:
    # 14 Feb 23:30 UTC is already 15 Feb in Kyiv: a new billing month with nothing used.
    contract = _package(starts_on=dt.date(2027, 1, 15), zone="Europe/Kyiv")
    _log(contract, dt.date(2027, 2, 14), 120)
    with time_machine.travel(dt.datetime(2027, 2, 14, 23, 30, tzinfo=UTC), tick=False):
        today = local_today(contract.organization)
        summary = plan_hours_summary(organization=contract.organization, today=today)
    assert summary["current"].start == dt.date(2027, 2, 15)
    assert summary["current"].used_minutes == 0
    assert summary["history"][0].used_minutes == 120


# -- allowance, rollover, overage -------------------------------------------------------------


def test_unused_hours_do_not_roll_over_to_the_next_month() -> None:
    contract = _package(hours="10", starts_on=dt.date(2027, 1, 1))
    _log(contract, dt.date(2027, 1, 10), 2 * 60)
    _log(contract, dt.date(2027, 2, 10), 12 * 60)
    january, february = hours_ledger(contract, today=dt.date(2027, 2, 20))
    assert january.left == Decimal("8.00")
    assert february.allowance == Decimal("10.00")
    assert february.overage == Decimal("2.00")


def test_overage_is_billed_at_the_contract_rate_to_the_cent() -> None:
    contract = _package(hours="10", starts_on=dt.date(2027, 1, 1), rate="99.99")
    _log(contract, dt.date(2027, 1, 5), 10 * 60 + 70)
    (period,) = hours_ledger(contract, today=dt.date(2027, 1, 31))
    # 70 minutes at 99.99 an hour = 116.655, rounded half up.
    assert period.overage == Decimal("1.17")
    assert period.amount == Decimal("116.66")


def test_overage_without_a_rate_has_no_amount() -> None:
    contract = _package(hours="1", starts_on=dt.date(2027, 1, 1), rate=None)
    _log(contract, dt.date(2027, 1, 5), 90)
    (period,) = hours_ledger(contract, today=dt.date(2027, 1, 31))
    assert period.overage == Decimal("0.50")
    assert period.amount is None


def test_non_billable_time_does_not_count() -> None:
    contract = _package(hours="1", starts_on=dt.date(2027, 1, 1))
    _log(contract, dt.date(2027, 1, 5), 45)
    _log(contract, dt.date(2027, 1, 6), 300, billable=False)
    (period,) = hours_ledger(contract, today=dt.date(2027, 1, 31))
    assert period.used_minutes == 45
    assert len(period.entries) == 1


def test_the_ledger_stops_at_the_contracts_end() -> None:
    contract = _package(starts_on=dt.date(2027, 1, 1), ends_on=dt.date(2027, 2, 20))
    _log(contract, dt.date(2027, 2, 25), 60)
    periods = hours_ledger(contract, today=dt.date(2027, 6, 1))
    assert [(p.start, p.end) for p in periods][-1] == (dt.date(2027, 2, 1), dt.date(2027, 2, 20))
    assert sum(p.used_minutes for p in periods) == 0


# -- pooled months ----------------------------------------------------------------------------


def test_pooled_months_add_allowance_and_use_together_as_one_period() -> None:
    contract = _package(hours="10", starts_on=dt.date(2027, 1, 1))
    PooledMonths.objects.create(contract=contract, first_month=dt.date(2027, 2, 1), months=2)
    _log(contract, dt.date(2027, 2, 10), 15 * 60)
    _log(contract, dt.date(2027, 3, 10), 3 * 60)
    periods = hours_ledger(contract, today=dt.date(2027, 4, 5))
    assert [(p.start, p.end, p.months) for p in periods] == [
        (dt.date(2027, 1, 1), dt.date(2027, 1, 31), 1),
        (dt.date(2027, 2, 1), dt.date(2027, 3, 31), 2),
        (dt.date(2027, 4, 1), dt.date(2027, 4, 30), 1),
    ]
    pooled = periods[1]
    assert (pooled.allowance, pooled.used, pooled.overage) == (
        Decimal("20.00"),
        Decimal("18.00"),
        Decimal("0.00"),
    )


def test_a_pool_is_the_current_period_throughout_both_months() -> None:
    contract = _package(hours="10", starts_on=dt.date(2027, 1, 1))
    PooledMonths.objects.create(contract=contract, first_month=dt.date(2027, 1, 1), months=2)
    periods = hours_ledger(contract, today=dt.date(2027, 1, 20))
    assert [(p.start, p.end, p.current) for p in periods] == [
        (dt.date(2027, 1, 1), dt.date(2027, 2, 28), True)
    ]


def test_a_pool_is_no_longer_than_the_plan_allows() -> None:
    contract = _package(hours="10", starts_on=dt.date(2027, 1, 1), poolable=2)
    PooledMonths.objects.create(contract=contract, first_month=dt.date(2027, 1, 1), months=3)
    periods = hours_ledger(contract, today=dt.date(2027, 3, 5))
    assert [p.months for p in periods] == [2, 1]


def test_a_plan_without_pooling_ignores_a_recorded_pool() -> None:
    contract = _package(hours="10", starts_on=dt.date(2027, 1, 1), poolable=1)
    PooledMonths.objects.create(contract=contract, first_month=dt.date(2027, 1, 1), months=2)
    periods = hours_ledger(contract, today=dt.date(2027, 2, 5))
    assert [p.months for p in periods] == [1, 1]


# -- enablement hours -------------------------------------------------------------------------


def _enablement_ticket(contract):
    category = CategoryFactory.create(plan=contract.plan, draws_enablement_hours=True)
    return TicketFactory.create(
        organization=contract.organization, plan=contract.plan, category=category
    )


def test_enablement_time_draws_on_the_yearly_allowance_not_the_month() -> None:
    contract = _package(hours="10", starts_on=dt.date(2027, 1, 1), enablement="8")
    _log(contract, dt.date(2027, 1, 5), 120, ticket=_enablement_ticket(contract))
    (month,) = hours_ledger(contract, today=dt.date(2027, 1, 20))
    (year,) = enablement_ledger(contract, today=dt.date(2027, 1, 20))
    assert month.used_minutes == 0
    assert (year.used, year.left) == (Decimal("2.00"), Decimal("6.00"))


def test_enablement_years_turn_on_the_contract_anniversary() -> None:
    contract = _package(starts_on=dt.date(2026, 3, 1), enablement="8")
    ticket = _enablement_ticket(contract)
    _log(contract, dt.date(2027, 2, 28), 180, ticket=ticket)
    _log(contract, dt.date(2027, 3, 1), 60, ticket=ticket)
    first, second = enablement_ledger(contract, today=dt.date(2027, 3, 2))
    assert (first.start, first.end, first.used_minutes) == (
        dt.date(2026, 3, 1),
        dt.date(2027, 2, 28),
        180,
    )
    assert (second.start, second.used_minutes, second.current) == (dt.date(2027, 3, 1), 60, True)


def test_enablement_only_plans_have_a_summary_without_monthly_hours() -> None:
    plan = PlanFactory.create(monthly_support_hours=None, enablement_hours_per_year=Decimal("8"))
    contract = ContractFactory.create(plan=plan, starts_on=dt.date(2027, 1, 1))
    summary = plan_hours_summary(organization=contract.organization, today=dt.date(2027, 5, 1))
    assert summary["current"] is None
    assert summary["enablement"].allowance == Decimal("8.00")


# -- what the /plan/ page gets ----------------------------------------------------------------


def test_a_plan_that_sells_no_hours_has_no_summary() -> None:
    plan = PlanFactory.create(monthly_support_hours=None, enablement_hours_per_year=None)
    contract = ContractFactory.create(plan=plan)
    assert plan_hours_summary(organization=contract.organization, today=dt.date(2027, 1, 1)) is None


def test_an_organization_without_a_contract_has_no_summary() -> None:
    assert (
        plan_hours_summary(organization=OrganizationFactory.create(), today=dt.date(2027, 1, 1))
        is None
    )


def test_each_organization_sees_only_its_own_time() -> None:
    ours = _package(starts_on=dt.date(2027, 1, 1))
    theirs = _package(starts_on=dt.date(2027, 1, 1))
    mine = _log(ours, dt.date(2027, 1, 5), 60)
    _log(theirs, dt.date(2027, 1, 5), 300)
    summary = plan_hours_summary(organization=ours.organization, today=dt.date(2027, 1, 20))
    assert summary["current"].entries == [mine]
    assert summary["current"].used_minutes == 60


def test_history_lists_past_periods_newest_first() -> None:
    contract = _package(starts_on=dt.date(2027, 1, 1))
    summary = plan_hours_summary(organization=contract.organization, today=dt.date(2027, 4, 10))
    assert [p.start for p in summary["history"]] == [
        dt.date(2027, 3, 1),
        dt.date(2027, 2, 1),
        dt.date(2027, 1, 1),
    ]


# -- managers' overage report -----------------------------------------------------------------


def test_overage_report_lists_periods_with_overage_starting_in_the_range() -> None:
    over = _package(hours="1", starts_on=dt.date(2027, 1, 15))
    under = _package(hours="10", starts_on=dt.date(2027, 1, 15))
    _log(over, dt.date(2027, 2, 20), 120)
    _log(over, dt.date(2027, 3, 20), 120)
    _log(under, dt.date(2027, 2, 20), 120)
    rows = overage_by_organization(
        dt.date(2027, 2, 1), dt.date(2027, 2, 28), today=dt.date(2027, 4, 1)
    )
    assert [(r.organization, r.period.start, r.period.overage) for r in rows] == [
        (over.organization, dt.date(2027, 2, 15), Decimal("1.00"))
    ]
    assert rows[0].period.amount == Decimal("80.00")
    assert rows[0].closed


def test_overage_report_shows_a_pool_once_in_the_month_it_starts() -> None:
    contract = _package(hours="1", starts_on=dt.date(2027, 1, 1))
    PooledMonths.objects.create(contract=contract, first_month=dt.date(2027, 2, 1), months=2)
    _log(contract, dt.date(2027, 3, 10), 4 * 60)
    february = overage_by_organization(
        dt.date(2027, 2, 1), dt.date(2027, 2, 28), today=dt.date(2027, 5, 1)
    )
    march = overage_by_organization(
        dt.date(2027, 3, 1), dt.date(2027, 3, 31), today=dt.date(2027, 5, 1)
    )
    assert [(r.period.months, r.period.overage) for r in february] == [(2, Decimal("2.00"))]
    assert march == []


# -- fixed query counts -----------------------------------------------------------------------


def _busy(contract, *, months: int, per_month: int) -> None:
    tickets = [
        TicketFactory.create(organization=contract.organization, plan=contract.plan)
        for _ in range(3)
    ]
    for month in range(months):
        for number in range(per_month):
            _log(contract, add_months(contract.starts_on, month), 30, ticket=tickets[number % 3])


@pytest.mark.parametrize("size", [(1, 1), (12, 10)])
def test_the_ledger_runs_two_queries_whatever_the_entries(
    django_assert_num_queries, size: tuple[int, int]
) -> None:
    contract = _package(starts_on=dt.date(2026, 1, 1))
    _busy(contract, months=size[0], per_month=size[1])
    PooledMonths.objects.create(contract=contract, first_month=dt.date(2026, 3, 1), months=2)
    with django_assert_num_queries(2):
        periods = hours_ledger(contract, today=dt.date(2027, 1, 5))
        [entry.ticket.reference for period in periods for entry in period.entries]


@pytest.mark.parametrize("size", [(1, 1), (12, 10)])
def test_the_plan_summary_runs_three_queries_whatever_the_entries(
    django_assert_num_queries, size: tuple[int, int]
) -> None:
    contract = _package(starts_on=dt.date(2026, 1, 1), enablement="8")
    _busy(contract, months=size[0], per_month=size[1])
    # The plan is read once per process and policy revision (plans.policy_cache): as a request
    # finds it after the first one.
    plan_hours_summary(organization=contract.organization, today=dt.date(2027, 1, 5))
    with django_assert_num_queries(3):
        summary = plan_hours_summary(organization=contract.organization, today=dt.date(2027, 1, 5))
        [e.agent.get_full_name() for p in summary["history"] for e in p.entries]


@pytest.mark.parametrize("organizations", [1, 8])
def test_the_overage_report_runs_three_queries_whatever_the_organizations(
    django_assert_num_queries, organizations: int
) -> None:
    for _ in range(organizations):
        contract = _package(hours="1", starts_on=dt.date(2026, 1, 1))
        _busy(contract, months=6, per_month=4)
    with django_assert_num_queries(3):
        rows = overage_by_organization(
            dt.date(2026, 1, 1), dt.date(2026, 12, 31), today=dt.date(2027, 1, 5)
        )
        [(r.organization.name, r.contract.plan.name) for r in rows]
    assert len(rows) == organizations * 6
