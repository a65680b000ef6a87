"""What a plan promises for a severity (and category): due instants and escalation instants."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from plans.models import Plan, Severity
from plans.selectors import contract_active
from sla.models import SupportHours, Target
from sla.terms import RuleTerms, TermsError, sla_terms
from tests.factories import (
    CalendarFactory,
    CategoryFactory,
    ContractFactory,
    EscalationRuleFactory,
    OpenPeriodFactory,
    PlanFactory,
    SeverityFactory,
    TargetFactory,
)

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)  # a Monday
H = dt.timedelta(hours=1)


@pytest.fixture
def plan() -> Plan:
    """24x7 (the default calendar), severity 1 with 1h/4h/24h targets, severity 2 without."""
    plan = PlanFactory.create(slug="pro")
    SeverityFactory.create(policy=plan.policy, level=2)
    TargetFactory.create(plan=plan)
    return plan


def rule(**fields: object) -> RuleTerms:
    values: dict = {
        "rule_id": 1,
        "metric": "resolution",
        "after": None,
        "after_percent": None,
        "notify": ("support_managers",),
        "move_to": "",
    }
    return RuleTerms(**{**values, **fields})


def test_a_rule_fires_after_its_offset_or_its_share_of_the_target() -> None:
    assert rule(after=2 * H).offset(24 * H) == 2 * H
    assert rule(after_percent=75).offset(4 * H) == 3 * H
    assert rule(after_percent=75).offset(None) is None


def test_due_instants_add_each_target_on_the_calendar(plan: Plan) -> None:
    terms = sla_terms(plan="pro", severity=1)
    assert terms.plan_slug == "pro"
    assert terms.due("acknowledge", START) == START + H
    assert terms.due("first_response", START) == START + 4 * H
    assert terms.due("resolution", START) == START + 24 * H


def test_a_severity_without_a_target_row_has_no_due_instants(plan: Plan) -> None:
    terms = sla_terms(plan=plan, severity=2)
    assert terms.targets == {"acknowledge": None, "first_response": None, "resolution": None}
    assert terms.due("resolution", START) is None
    assert terms.calendar_id == plan.support_hours.calendar_id


def test_business_hours_push_due_instants_past_closing_time() -> None:
    office = CalendarFactory.create(slug="office", always_open=False)
    OpenPeriodFactory.create(calendar=office, weekday=0, start_minute=9 * 60, end_minute=17 * 60)
    OpenPeriodFactory.create(calendar=office, weekday=1, start_minute=9 * 60, end_minute=17 * 60)
    plan = PlanFactory.create(slug="office-plan", policy=office.policy)
    TargetFactory.create(plan=plan, calendar=office, first_response=10 * H)
    terms = sla_terms(plan=plan, severity=1)
    # Eight hours on Monday, the last two on Tuesday morning.
    assert terms.due("first_response", START) == START + dt.timedelta(days=1, hours=2)


def test_escalations_come_in_time_order_and_a_share_of_no_target_never_fires(plan: Plan) -> None:
    EscalationRuleFactory.create(plan=plan, metric="resolution", after=2 * H, notify=["queue"])
    EscalationRuleFactory.create(plan=plan, metric="first_response", after=None, after_percent=75)
    SeverityFactory.create(policy=plan.policy, level=3)
    EscalationRuleFactory.create(
        plan=plan,
        severity=SeverityFactory.create(policy=plan.policy, level=2),
        metric="resolution",
        after=None,
        after_percent=50,
    )
    fired = sla_terms(plan=plan, severity=1).escalations(START)
    assert [(e.rule.metric, e.at) for e in fired] == [
        ("resolution", START + 2 * H),
        ("first_response", START + 3 * H),
    ]
    assert fired[0].rule.notify == ("queue",)
    # Severity 2 has no resolution target: 50% of nothing is never.
    assert sla_terms(plan=plan, severity=2).escalations(START) == []


def test_a_categorys_own_row_and_rules_apply_to_it_with_the_plans_general_rules(
    plan: Plan,
) -> None:
    outage = CategoryFactory.create(plan=plan, slug="outage")
    night = CalendarFactory.create(policy=plan.policy, slug="night")
    TargetFactory.create(
        plan=plan, category=outage, calendar=night, acknowledge=dt.timedelta(minutes=15)
    )
    EscalationRuleFactory.create(plan=plan, metric="acknowledge", after=dt.timedelta(minutes=10))
    EscalationRuleFactory.create(
        plan=plan, category=outage, metric="acknowledge", after=dt.timedelta(minutes=5)
    )
    terms = sla_terms(plan=plan, severity=1, category="outage")
    assert terms.category_slug == "outage"
    assert terms.calendar_id == night.pk
    assert terms.due("acknowledge", START) == START + dt.timedelta(minutes=15)
    assert [e.at - START for e in terms.escalations(START)] == [
        dt.timedelta(minutes=5),
        dt.timedelta(minutes=10),
    ]
    general = sla_terms(plan=plan, severity=1)
    assert [e.at - START for e in general.escalations(START)] == [dt.timedelta(minutes=10)]


def test_a_category_without_its_own_row_uses_the_severitys_row(plan: Plan) -> None:
    CategoryFactory.create(plan=plan, slug="question")
    assert sla_terms(plan=plan, severity=1, category="question").due("acknowledge", START) == (
        START + H
    )


def test_a_category_outside_the_sla_has_no_due_instants(plan: Plan) -> None:
    CategoryFactory.create(plan=plan, slug="feature", sla_applies=False)
    terms = sla_terms(plan=plan, severity=1, category="feature")
    assert set(terms.targets.values()) == {None}


@pytest.mark.parametrize(
    ("ask", "message"),
    [
        ({"plan": "nope", "severity": 1}, "no plan 'nope'"),
        ({"plan": "pro", "severity": 7}, "plan 'pro' has no severity 7 (it has [1, 2])"),
        ({"plan": "pro", "severity": 1, "category": "nope"}, "plan 'pro' has no category 'nope'"),
        ({"plan": "pro", "severity": 2, "category": "sev1-only"}, "takes severities [1] only"),
    ],
)
def test_a_question_about_something_the_policy_lacks_names_it(
    plan: Plan, ask: dict, message: str
) -> None:
    CategoryFactory.create(plan=plan, slug="sev1-only", severity_levels=[1])
    with pytest.raises(TermsError) as caught:
        sla_terms(**ask)
    assert message in str(caught.value)


def test_a_plan_without_targets_or_support_hours_cannot_answer(plan: Plan) -> None:
    SupportHours.objects.filter(plan=plan).delete()
    with pytest.raises(TermsError, match="plan 'pro' has no support hours"):
        sla_terms(plan=plan, severity=2)


def test_the_rows_of_a_new_ticket_are_taken_as_given_without_reading_them_again(
    plan: Plan, django_assert_num_queries: Any
) -> None:
    outage = CategoryFactory.create(plan=plan, slug="outage")
    EscalationRuleFactory.create(
        plan=plan, category=outage, metric="acknowledge", after=dt.timedelta(minutes=5)
    )
    severity = Severity.objects.get(policy=plan.policy, level=1)
    sla_terms(plan=plan, severity=severity, category=outage)  # the calendar's clock is cached
    with django_assert_num_queries(2):  # the target rows with their calendar, the rules
        terms = sla_terms(plan=plan, severity=severity, category=outage)
    assert terms == sla_terms(plan=plan, severity=1, category="outage")


def test_a_severity_of_another_policy_stands_for_its_level_in_the_plans_policy(
    plan: Plan,
) -> None:
    elsewhere = SeverityFactory.create(level=1)
    assert elsewhere.policy_id != plan.policy_id
    assert sla_terms(plan=plan, severity=elsewhere) == sla_terms(plan=plan, severity=1)


# -- the rows from the process cache, for a plan read with the policy revision --------------------


def in_force(plan: Plan) -> Plan:
    """The plan as a new request reads it through its contract (with the policy revision)."""
    contract = (
        ContractFactory.create(plan=plan) if not plan.contracts.exists() else plan.contracts.get()
    )
    found = contract_active(organization=contract.organization, on=dt.date(2026, 1, 1))
    assert found is not None
    return found.plan


def test_a_second_request_reads_no_rows_for_the_same_terms(
    plan: Plan, django_assert_num_queries: Any
) -> None:
    severity = Severity.objects.get(policy=plan.policy, level=1)
    first = sla_terms(plan=in_force(plan), severity=severity)
    second_plan = in_force(plan)
    with django_assert_num_queries(0):
        assert sla_terms(plan=second_plan, severity=severity) == first


def test_a_plan_read_without_the_revision_still_reads_its_rows(
    plan: Plan, django_assert_num_queries: Any
) -> None:
    severity = Severity.objects.get(policy=plan.policy, level=1)
    sla_terms(plan=in_force(plan), severity=severity)  # the cache holds them
    with django_assert_num_queries(2):  # the target rows with their calendar, the rules
        sla_terms(plan=plan, severity=severity)


def test_a_targets_new_duration_is_seen_by_the_next_request(plan: Plan) -> None:
    severity = Severity.objects.get(policy=plan.policy, level=1)
    sla_terms(plan=in_force(plan), severity=severity)
    target = Target.objects.get(plan=plan, severity=severity)
    target.first_response = 2 * H
    target.save()  # as the admin saves it
    terms = sla_terms(plan=in_force(plan), severity=severity)
    assert terms.due("first_response", START) == START + 2 * H


def test_a_new_escalation_rule_is_seen_by_the_next_request(plan: Plan) -> None:
    severity = Severity.objects.get(policy=plan.policy, level=1)
    assert sla_terms(plan=in_force(plan), severity=severity).rules == ()
    EscalationRuleFactory.create(plan=plan, severity=severity, after=3 * H)
    terms = sla_terms(plan=in_force(plan), severity=severity)
    assert [rule.after for rule in terms.rules] == [3 * H]


def test_an_edited_escalation_rule_is_seen_by_the_next_request(plan: Plan) -> None:
    severity = Severity.objects.get(policy=plan.policy, level=1)
    rule_row = EscalationRuleFactory.create(plan=plan, severity=severity, after=3 * H)
    sla_terms(plan=in_force(plan), severity=severity)
    rule_row.after = None
    rule_row.after_percent = 50
    rule_row.save()
    terms = sla_terms(plan=in_force(plan), severity=severity)
    assert [(rule.after, rule.after_percent) for rule in terms.rules] == [(None, 50)]


def test_a_calendar_that_needs_holidays_is_not_changed_in_the_cache(plan: Plan) -> None:
    """`clock_for` writes the calendar row it extends the holidays of: a request gets its own
    row then, and the shared one stays as it was read."""
    severity = Severity.objects.get(policy=plan.policy, level=1)
    calendar = Target.objects.get(plan=plan, severity=severity).calendar
    calendar.holiday_countries = ["GB-ENG"]
    calendar.always_open = False
    calendar.save()
    first = sla_terms(plan=in_force(plan), severity=severity, around=START)
    assert first.calendar_row is not None
    assert first.calendar_row.holidays_to_year is not None
    shared = sla_terms(plan=in_force(plan), severity=severity, around=START).calendar_row
    # Ten years on, the holidays must be extended: the shared row is not the one written.
    later = sla_terms(plan=in_force(plan), severity=severity, around=START.replace(year=2036))
    assert later.calendar_row is not shared
    assert shared is not None and shared.holidays_to_year == first.calendar_row.holidays_to_year
    assert later.calendar_row is not None and later.calendar_row.holidays_to_year == 2038
