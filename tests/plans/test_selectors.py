"""Reads for plans: the contract in force, the plan whose support applies, the viewer's zone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User

from plans import policy_cache
from plans.models import (
    ConditionLimit,
    Contract,
    ContractCondition,
    Plan,
    PlanCondition,
    PolicyRevision,
    Severity,
)
from plans.selectors import (
    contract_active,
    contract_conditions,
    effective_plan,
    named_contact,
    plan_categories,
    plan_severities,
    support_refused,
    viewer_time_zone,
)
from tests.factories import (
    CategoryFactory,
    ContractFactory,
    NamedContactFactory,
    OrganizationFactory,
    PlanFactory,
    SeverityFactory,
    UserFactory,
    UserProfileFactory,
)

pytestmark = pytest.mark.django_db


def test_the_contract_in_force_is_the_latest_started_that_has_not_ended() -> None:
    acme = OrganizationFactory.create()
    ContractFactory.create(
        organization=acme, starts_on=dt.date(2024, 1, 1), ends_on=dt.date(2024, 12, 31)
    )
    renewal = ContractFactory.create(organization=acme, starts_on=dt.date(2025, 1, 1))
    upgrade = ContractFactory.create(organization=acme, starts_on=dt.date(2026, 6, 1))
    assert contract_active(organization=acme, on=dt.date(2024, 12, 31)).starts_on.year == 2024
    assert contract_active(organization=acme, on=dt.date(2025, 3, 1)) == renewal
    assert contract_active(organization=acme, on=dt.date(2026, 6, 1)) == upgrade
    assert contract_active(organization=acme, on=dt.date(2023, 12, 31)) is None


def test_today_is_judged_in_the_organizations_zone() -> None:
    # 23:30 UTC on 31 December is already 1 January in Sydney.
    sydney = OrganizationFactory.create(time_zone="Australia/Sydney")
    contract = ContractFactory.create(organization=sydney, starts_on=dt.date(2027, 1, 1))
    with time_machine.travel(dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC), tick=False):
        assert contract_active(organization=sydney) == contract
        london = OrganizationFactory.create(time_zone="Europe/London")
        ContractFactory.create(organization=london, starts_on=dt.date(2027, 1, 1))
        assert contract_active(organization=london) is None


def test_the_base_plan_applies_until_onboarding_is_completed() -> None:
    base = PlanFactory.create(slug="base")
    pro = PlanFactory.create(slug="pro", base_plan=base)
    assert (
        effective_plan(contract=ContractFactory.create(plan=pro, onboarding_completed=False))
        == base
    )
    assert (
        effective_plan(contract=ContractFactory.create(plan=pro, onboarding_completed=True)) == pro
    )
    assert (
        effective_plan(contract=ContractFactory.create(plan=base, onboarding_completed=False))
        == base
    )


def test_the_viewers_zone_is_their_preference_else_their_organizations_else_utc() -> None:
    chooser = UserFactory.create()
    UserProfileFactory.create(user=chooser, time_zone="Asia/Kolkata")
    contact = NamedContactFactory.create(
        organization=OrganizationFactory.create(time_zone="America/Chicago")
    )
    assert viewer_time_zone(user=chooser) == "Asia/Kolkata"
    assert viewer_time_zone(user=contact.user) == "America/Chicago"
    assert viewer_time_zone(user=UserFactory.create()) == "UTC"


def test_the_viewers_zone_is_read_once_per_user_object(django_assert_num_queries: object) -> None:
    user = UserFactory.create()
    UserProfileFactory.create(user=user, time_zone="Europe/Berlin")
    with django_assert_num_queries(1):  # type: ignore[operator]
        assert viewer_time_zone(user=user) == "Europe/Berlin"
        assert viewer_time_zone(user=user) == "Europe/Berlin"


def test_the_viewers_zone_and_named_contact_are_read_together_once_per_user_object(
    django_assert_num_queries: Any,
) -> None:
    contact = NamedContactFactory.create(
        organization=OrganizationFactory.create(time_zone="America/Chicago")
    )
    user = User.objects.get(pk=contact.user.pk)
    with django_assert_num_queries(1):
        assert viewer_time_zone(user=user) == "America/Chicago"
        assert named_contact(user=user) == contact
        assert named_contact(user=user).organization.time_zone == "America/Chicago"
    agent = User.objects.get(pk=UserFactory.create().pk)
    with django_assert_num_queries(1):
        assert named_contact(user=agent) is None
        assert viewer_time_zone(user=agent) == "UTC"


def test_the_contract_in_force_brings_its_plan_policy_and_base_plan(
    django_assert_num_queries: Any,
) -> None:
    base = PlanFactory.create(slug="base")
    pro = PlanFactory.create(slug="pro", base_plan=base, policy=base.policy)
    contract = ContractFactory.create(plan=pro, starts_on=dt.date(2025, 1, 1))
    with django_assert_num_queries(2):  # the contract, then its plans (cached from now on)
        found = contract_active(organization=contract.organization, on=dt.date(2026, 1, 1))
        assert found is not None
        assert found.plan.base_plan.policy.slug == found.plan.policy.slug
        assert found.organization == contract.organization
    with django_assert_num_queries(1):  # the contract alone
        again = contract_active(organization=contract.organization, on=dt.date(2026, 1, 1))
        assert again is not None
        assert again.plan.base_plan.policy.slug == again.plan.policy.slug


def test_the_contract_in_force_brings_the_plan_as_it_is_after_a_policy_edit() -> None:
    contract = ContractFactory.create(starts_on=dt.date(2025, 1, 1))
    found = contract_active(organization=contract.organization, on=dt.date(2026, 1, 1))
    assert found is not None
    Plan.objects.filter(pk=contract.plan_id).update(name="Renamed")
    again = contract_active(organization=contract.organization, on=dt.date(2026, 1, 1))
    assert again is not None
    assert again.plan.name == "Renamed"


def test_a_plan_without_conditions_has_its_conditions_read_in_one_query(
    django_assert_num_queries: Any,
) -> None:
    contract = ContractFactory.create()
    with django_assert_num_queries(1):
        assert contract_conditions(contract=contract) == []


def test_a_recorded_condition_overrides_what_the_policy_presumes() -> None:
    contract = ContractFactory.create()
    sdk = PlanCondition.objects.create(
        plan=contract.plan,
        slug="sdk-included",
        name="SDK included",
        limit=ConditionLimit.NO_TECHNICAL_SUPPORT,
        presumed_met=True,
        position=2,
    )
    onboarding = PlanCondition.objects.create(
        plan=contract.plan, slug="onboarding", name="Onboarding", limit=ConditionLimit.BASE_PLAN
    )
    ContractCondition.objects.create(contract=contract, condition=sdk, met=False, note="No SDK")
    states = contract_conditions(contract=contract)
    assert [(s.condition, s.met, s.note) for s in states] == [
        (onboarding, contract.onboarding_completed, ""),
        (sdk, False, "No SDK"),
    ]
    assert support_refused(contract=contract) == [states[1]]


# -- the policy reads from the process cache ------------------------------------------------------


def in_force(contract: Contract) -> Contract:
    """The contract as a new request reads it (fresh objects, with the policy revision)."""
    found = contract_active(organization=contract.organization, on=dt.date(2026, 1, 1))
    assert found is not None
    return found


def test_the_contract_in_force_carries_the_policy_revision_on_it_and_its_plans() -> None:
    base = PlanFactory.create(slug="base")
    contract = ContractFactory.create(
        plan=PlanFactory.create(slug="pro", base_plan=base, policy=base.policy)
    )
    revision = PolicyRevision.objects.get().revision
    found = in_force(contract)
    assert policy_cache.revision_of(found) == revision
    assert policy_cache.revision_of(found.plan) == revision
    assert found.plan.base_plan is not None
    assert policy_cache.revision_of(found.plan.base_plan) == revision


def test_a_second_request_reads_the_severities_and_categories_from_the_cache(
    django_assert_num_queries: Any,
) -> None:
    contract = ContractFactory.create()
    SeverityFactory.create(policy=contract.plan.policy, level=1)
    CategoryFactory.create(plan=contract.plan)
    plan_severities(plan=in_force(contract).plan)
    plan_categories(plan=in_force(contract).plan)
    plan = in_force(contract).plan
    with django_assert_num_queries(0):
        assert [s.level for s in plan_severities(plan=plan)] == [1]
        assert len(plan_categories(plan=plan)) == 1


def test_a_plan_read_without_the_revision_still_reads_its_severities(
    django_assert_num_queries: Any,
) -> None:
    contract = ContractFactory.create()
    SeverityFactory.create(policy=contract.plan.policy, level=1)
    plan_severities(plan=in_force(contract).plan)  # the cache holds them
    plan = Plan.objects.get(pk=contract.plan_id)
    with django_assert_num_queries(1):
        plan_severities(plan=plan)


def test_a_renamed_severity_is_seen_by_the_next_request() -> None:
    contract = ContractFactory.create()
    severity = SeverityFactory.create(policy=contract.plan.policy, level=1, name="Urgent")
    plan_severities(plan=in_force(contract).plan)
    severity.name = "Critical"
    severity.save()  # as the admin saves it
    assert [s.name for s in plan_severities(plan=in_force(contract).plan)] == ["Critical"]


def test_a_new_category_is_seen_by_the_next_request() -> None:
    contract = ContractFactory.create()
    CategoryFactory.create(plan=contract.plan, slug="question", position=1)
    plan_categories(plan=in_force(contract).plan)
    CategoryFactory.create(plan=contract.plan, slug="outage", position=0)
    slugs = [c.slug for c in plan_categories(plan=in_force(contract).plan)]
    assert slugs == ["outage", "question"]


def test_the_plans_conditions_come_from_the_cache_and_the_contracts_records_are_read_live(
    django_assert_num_queries: Any,
) -> None:
    contract = ContractFactory.create()
    sdk = PlanCondition.objects.create(
        plan=contract.plan, slug="sdk", name="SDK", limit=ConditionLimit.NO_TECHNICAL_SUPPORT
    )
    contract_conditions(contract=in_force(contract))
    ContractCondition.objects.create(contract=contract, condition=sdk, met=True)
    fresh = in_force(contract)
    with django_assert_num_queries(1):  # the contract's records only
        assert [state.met for state in contract_conditions(contract=fresh)] == [True]


def test_an_edited_condition_is_seen_by_the_next_request() -> None:
    contract = ContractFactory.create()
    sdk = PlanCondition.objects.create(
        plan=contract.plan, slug="sdk", name="SDK", limit=ConditionLimit.NO_TECHNICAL_SUPPORT
    )
    contract_conditions(contract=in_force(contract))
    sdk.presumed_met = True
    sdk.save()
    assert [state.met for state in contract_conditions(contract=in_force(contract))] == [True]


def test_the_cached_severities_are_the_same_rows_for_every_request() -> None:
    """Shared, hence read-only: what one request gets, the next gets too."""
    contract = ContractFactory.create()
    SeverityFactory.create(policy=contract.plan.policy, level=1)
    first: list[Severity] = plan_severities(plan=in_force(contract).plan)
    second = plan_severities(plan=in_force(contract).plan)
    assert first[0] is second[0]
    assert first is not second  # the list is each request's own
