"""What a contact may submit under their organization's plan, refused field by field."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError

from plans.models import Plan
from tests.factories import (
    CategoryFactory,
    ContractFactory,
    NamedContactFactory,
    OrganizationFactory,
    PlanFactory,
    PolicyFactory,
    SeverityFactory,
    UserFactory,
)
from tickets.entitlements import (
    allowed_channels,
    can_request_escalation,
    can_request_post_incident_report,
    check_submission,
    entitlement_for,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan() -> Plan:
    policy = PolicyFactory.create(slug="tiers")
    for level in (1, 2, 3):
        SeverityFactory.create(policy=policy, level=level)
    return PlanFactory.create(
        policy=policy,
        slug="tiers-pro",
        channels=["portal", "email"],
        post_incident_report_levels=[1],
        customer_escalation_levels=[2, 3],
    )


def refused(**kwargs: object) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        check_submission(**kwargs)  # type: ignore[arg-type]
    return caught.value.message_dict


# -- who is entitled --------------------------------------------------------------------------


def test_a_named_contact_with_a_contract_in_force_is_entitled(plan: Plan) -> None:
    contact = NamedContactFactory.create()
    contract = ContractFactory.create(organization=contact.organization, plan=plan)
    entitlement = entitlement_for(user=contact.user)
    assert entitlement.contact == contact
    assert entitlement.organization == contact.organization
    assert entitlement.contract == contract
    assert entitlement.plan == plan
    assert not entitlement.onboarding_pending


def test_someone_who_is_not_a_named_contact_is_not_entitled() -> None:
    with pytest.raises(ValidationError, match="Only named support contacts"):
        entitlement_for(user=UserFactory.create())
    with pytest.raises(ValidationError, match="Only named support contacts"):
        entitlement_for(user=AnonymousUser())


def test_a_contract_that_ended_entitles_nobody(plan: Plan) -> None:
    contact = NamedContactFactory.create(organization=OrganizationFactory.create(name="Lapsed"))
    ContractFactory.create(
        organization=contact.organization,
        plan=plan,
        starts_on=dt.date(2020, 1, 1),
        ends_on=dt.date(2021, 1, 1),
    )
    with pytest.raises(ValidationError, match="Lapsed has no active support contract"):
        entitlement_for(user=contact.user)


def test_before_onboarding_the_base_plans_support_applies(plan: Plan) -> None:
    base = PlanFactory.create(policy=plan.policy, slug="tiers-basic")
    plan.base_plan = base
    plan.save()
    contact = NamedContactFactory.create()
    ContractFactory.create(organization=contact.organization, plan=plan, onboarding_completed=False)
    entitlement = entitlement_for(user=contact.user)
    assert entitlement.plan == base
    assert entitlement.contract.plan == plan
    assert entitlement.onboarding_pending


# -- what may be submitted --------------------------------------------------------------------


def test_a_category_names_its_own_channels_else_the_plans_apply(plan: Plan) -> None:
    chat_only = CategoryFactory.create(plan=plan, channels=["chat"])
    any_channel = CategoryFactory.create(plan=plan, channels=[])
    assert allowed_channels(plan=plan, category=None) == ["portal", "email"]
    assert allowed_channels(plan=plan, category=chat_only) == ["chat"]
    assert allowed_channels(plan=plan, category=any_channel) == ["portal", "email"]


def test_an_allowed_submission_returns_its_severity_row(plan: Plan) -> None:
    severity = check_submission(plan=plan, severity_level=2, category=None, channel="email")
    assert (severity.policy_id, severity.level) == (plan.policy_id, 2)


def test_a_severity_the_policy_lacks_is_refused_on_the_severity_field(plan: Plan) -> None:
    errors = refused(plan=plan, severity_level=9, category=None, channel="portal")
    assert errors == {"severity": ["The Tiers-Pro plan has no severity 9."]}


def test_a_channel_outside_the_plan_is_refused_naming_the_allowed_ones(plan: Plan) -> None:
    errors = refused(plan=plan, severity_level=1, category=None, channel="phone")
    assert errors == {
        "channel": ["The phone channel is not part of this plan (allowed: portal, email)."]
    }


def test_a_plan_with_categories_needs_one(plan: Plan) -> None:
    CategoryFactory.create(plan=plan)
    errors = refused(plan=plan, severity_level=1, category=None, channel="portal")
    assert list(errors) == ["category"]
    assert "sorts requests by kind" in errors["category"][0]


def test_a_category_of_another_plan_is_refused(plan: Plan) -> None:
    other = CategoryFactory.create(name="Elsewhere")
    errors = refused(plan=plan, severity_level=1, category=other, channel="portal")
    assert errors["category"] == ["Elsewhere is not a category of the Tiers-Pro plan."]


def test_a_category_limited_to_some_severities_refuses_the_others(plan: Plan) -> None:
    outage = CategoryFactory.create(
        plan=plan, name="API outage", severity_levels=[1], channels=["portal"]
    )
    errors = refused(plan=plan, severity_level=3, category=outage, channel="portal")
    assert errors == {"severity": ["API outage requests take severity 1 only."]}
    assert check_submission(plan=plan, severity_level=1, category=outage, channel="portal")


def test_post_incident_reports_and_escalations_follow_the_plans_levels(plan: Plan) -> None:
    assert can_request_post_incident_report(plan=plan, severity_level=1)
    assert not can_request_post_incident_report(plan=plan, severity_level=2)
    assert not can_request_escalation(plan=plan, severity_level=1)
    assert can_request_escalation(plan=plan, severity_level=3)
    plan.post_incident_report_levels = None
    assert not can_request_post_incident_report(plan=plan, severity_level=1)
