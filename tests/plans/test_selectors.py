"""Reads for plans: the contract in force, the plan whose support applies, the viewer's zone."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from plans.selectors import contract_active, effective_plan, viewer_time_zone
from tests.factories import (
    ContractFactory,
    NamedContactFactory,
    OrganizationFactory,
    PlanFactory,
    UserFactory,
    UserProfileFactory,
)

pytestmark = pytest.mark.django_db


def test_the_contract_in_force_is_the_latest_started_that_has_not_ended() -> None:
    acme = OrganizationFactory()
    ContractFactory(organization=acme, starts_on=dt.date(2024, 1, 1), ends_on=dt.date(2024, 12, 31))
    renewal = ContractFactory(organization=acme, starts_on=dt.date(2025, 1, 1))
    upgrade = ContractFactory(organization=acme, starts_on=dt.date(2026, 6, 1))
    assert contract_active(organization=acme, on=dt.date(2024, 12, 31)).starts_on.year == 2024
    assert contract_active(organization=acme, on=dt.date(2025, 3, 1)) == renewal
    assert contract_active(organization=acme, on=dt.date(2026, 6, 1)) == upgrade
    assert contract_active(organization=acme, on=dt.date(2023, 12, 31)) is None


def test_today_is_judged_in_the_organizations_zone() -> None:
    # 23:30 UTC on 31 December is already 1 January in Sydney.
    sydney = OrganizationFactory(time_zone="Australia/Sydney")
    contract = ContractFactory(organization=sydney, starts_on=dt.date(2027, 1, 1))
    with time_machine.travel(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC), tick=False):
        assert contract_active(organization=sydney) == contract
        london = OrganizationFactory(time_zone="Europe/London")
        ContractFactory(organization=london, starts_on=dt.date(2027, 1, 1))
        assert contract_active(organization=london) is None


def test_the_base_plan_applies_until_onboarding_is_completed() -> None:
    base = PlanFactory(slug="base")
    pro = PlanFactory(slug="pro", base_plan=base)
    assert effective_plan(contract=ContractFactory(plan=pro, onboarding_completed=False)) == base
    assert effective_plan(contract=ContractFactory(plan=pro, onboarding_completed=True)) == pro
    assert effective_plan(contract=ContractFactory(plan=base, onboarding_completed=False)) == base


def test_the_viewers_zone_is_their_preference_else_their_organizations_else_utc() -> None:
    chooser = UserFactory()
    UserProfileFactory(user=chooser, time_zone="Asia/Kolkata")
    contact = NamedContactFactory(organization=OrganizationFactory(time_zone="America/Chicago"))
    assert viewer_time_zone(user=chooser) == "Asia/Kolkata"
    assert viewer_time_zone(user=contact.user) == "America/Chicago"
    assert viewer_time_zone(user=UserFactory()) == "UTC"


def test_the_viewers_zone_is_read_once_per_user_object(django_assert_num_queries: object) -> None:
    user = UserFactory()
    UserProfileFactory(user=user, time_zone="Europe/Berlin")
    with django_assert_num_queries(1):  # type: ignore[operator]
        assert viewer_time_zone(user=user) == "Europe/Berlin"
        assert viewer_time_zone(user=user) == "Europe/Berlin"
