"""The policy revision moves on every write to a table the cached policy reads depend on (the
triggers of plans 0007 and sla 0010), and on nothing else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection, transaction
from django.db.models import Model

from plans.models import (
    ConditionLimit,
    Plan,
    PlanCondition,
    Policy,
    PolicyRevision,
    Severity,
    TicketCategory,
)
from sla.models import BusinessCalendar, EscalationRule, SupportHours, Target
from tests.factories import (
    CategoryFactory,
    ContractFactory,
    EscalationRuleFactory,
    PlanFactory,
    SeverityFactory,
    TargetFactory,
)

pytestmark = pytest.mark.django_db


def revision() -> int:
    return PolicyRevision.objects.get(pk=1).revision


@dataclass
class World:
    plan: Plan
    bare_plan: Plan  # a plan without support hours (one row of those per plan)
    second_severity: Severity
    category: TicketCategory
    condition: PlanCondition
    target: Target
    rule: EscalationRule


@pytest.fixture
def world() -> World:
    plan = PlanFactory.create()
    target = TargetFactory.create(plan=plan)
    return World(
        plan=plan,
        bare_plan=clone(Plan.objects.get(pk=plan.pk), slug="bare"),
        second_severity=SeverityFactory.create(policy=plan.policy, level=2),
        category=CategoryFactory.create(plan=plan),
        condition=PlanCondition.objects.create(
            plan=plan, slug="sdk", name="SDK included", limit=ConditionLimit.NO_TECHNICAL_SUPPORT
        ),
        target=target,
        rule=EscalationRuleFactory.create(plan=plan, severity=target.severity),
    )


def clone(row: Model, **changes: object) -> Model:
    """A copy of `row` saved as a new row of its table only (`changes` keep it unique)."""
    row.pk = None
    row._state.adding = True
    for name, value in changes.items():
        setattr(row, name, value)
    row.save()
    return row


# Each watched table: a new row of it alone, from the world's rows.
NEW_ROWS: dict[str, Callable[[World], Model]] = {
    "plans_policy": lambda w: clone(Policy.objects.get(pk=w.plan.policy_id), slug="other"),
    "plans_plan": lambda w: clone(Plan.objects.get(pk=w.plan.pk), slug="other"),
    "plans_severity": lambda w: clone(Severity.objects.get(pk=w.second_severity.pk), level=9),
    "plans_ticketcategory": lambda w: clone(
        TicketCategory.objects.get(pk=w.category.pk), slug="other"
    ),
    "plans_plancondition": lambda w: clone(
        PlanCondition.objects.get(pk=w.condition.pk), slug="other"
    ),
    "sla_target": lambda w: clone(
        Target.objects.get(pk=w.target.pk), severity_id=w.second_severity.pk
    ),
    "sla_escalationrule": lambda w: clone(EscalationRule.objects.get(pk=w.rule.pk)),
    "sla_supporthours": lambda w: clone(
        SupportHours.objects.get(plan=w.plan), plan_id=w.bare_plan.pk
    ),
    "sla_businesscalendar": lambda w: clone(
        BusinessCalendar.objects.get(pk=w.target.calendar_id), slug="other"
    ),
}
WATCHED = list(NEW_ROWS)


def test_the_migration_creates_the_one_revision_row() -> None:
    assert PolicyRevision.objects.count() == 1


@pytest.mark.parametrize("table", WATCHED)
def test_an_insert_into_a_watched_table_moves_the_revision(world: World, table: str) -> None:
    before = revision()
    row = NEW_ROWS[table](world)
    assert row._meta.db_table == table
    assert revision() > before


@pytest.mark.parametrize("table", WATCHED)
def test_an_update_of_a_watched_table_moves_the_revision(world: World, table: str) -> None:
    row = NEW_ROWS[table](world)
    before = revision()
    row.save()
    assert revision() > before


@pytest.mark.parametrize("table", WATCHED)
def test_a_delete_from_a_watched_table_moves_the_revision(world: World, table: str) -> None:
    row = NEW_ROWS[table](world)
    before = revision()
    row.delete()
    assert revision() > before


@pytest.mark.postgres
def test_a_truncate_of_a_watched_table_moves_the_revision(world: World) -> None:
    before = revision()
    with connection.cursor() as cursor:
        # The fixture's rows leave deferred foreign-key checks pending, which TRUNCATE refuses.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE sla_supporthours")
    assert revision() > before


def test_writes_to_customers_tables_leave_the_revision_alone(world: World) -> None:
    before = revision()
    contract = ContractFactory.create(plan=world.plan)
    contract.onboarding_completed = False
    contract.save()
    assert revision() == before


def test_a_write_in_a_rolled_back_transaction_leaves_a_revision_never_seen_again(
    world: World,
) -> None:
    """A cache may have been filled under the revision a rolled-back transaction saw: a later
    write must not reach the same number (a sequence on PostgreSQL, the clock on SQLite)."""
    before = revision()
    with pytest.raises(RuntimeError), transaction.atomic():
        world.category.name = "Renamed"
        world.category.save()
        seen = revision()
        raise RuntimeError("roll back")
    assert revision() == before
    world.category.save()
    assert revision() not in (before, seen)
