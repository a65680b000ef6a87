"""Who the escalation ladders will reach: organizations lacking a person a ladder names.

A rule that names the customer success manager, a group or the support managers reaches nobody
for an organization with no such person (the sweep then falls back to the support managers and
says so). This finds those gaps before a ticket needs them: `load_policy` prints them and the
organization's admin page shows them. Roles that depend on the ticket (`assignee`, `queue`) are
not checked here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from plans.models import Contract, Organization, Plan
from plans.roles import SUPPORT_MANAGERS
from plans.selectors import contract_person, effective_plan
from sla.models import EscalationRule


@dataclass(frozen=True)
class LadderGap:
    organization: Organization
    plan: Plan
    role: str
    reason: str

    def __str__(self) -> str:
        return f"{self.organization.slug} ({self.plan.slug}): {self.role}: {self.reason}"


def _usable(user: object) -> bool:
    return user is not None and user.is_active and bool(user.email)  # type: ignore[attr-defined]


def ladder_gaps(
    *,
    plans: Iterable[Plan] | None = None,
    organization: Organization | None = None,
    on: dt.date | None = None,
) -> list[LadderGap]:
    """Gaps for the contracts in force on `on` (today, UTC): four queries whatever the number."""
    on = on or timezone.now().date()
    contracts = (
        Contract.objects.filter(starts_on__lte=on)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on))
        .select_related(
            "organization__customer_success_manager",
            "organization__technical_account_manager",
            "plan__base_plan",
            "customer_success_manager",
            "technical_account_manager_user",
            "account_manager",
        )
        .order_by("organization__name", "starts_on")
    )
    if plans is not None:
        ids = [plan.pk for plan in plans]
        contracts = contracts.filter(Q(plan_id__in=ids) | Q(plan__base_plan_id__in=ids))
    if organization is not None:
        contracts = contracts.filter(organization=organization)
    latest: dict[int, Contract] = {}
    for contract in contracts:
        latest[contract.organization_id] = contract  # the one starting last is in force
    if not latest:
        return []
    plan_ids = {c.plan_id for c in latest.values()} | {
        c.plan.base_plan_id for c in latest.values() if c.plan.base_plan_id
    }
    roles: dict[int, list[str]] = {}
    for plan_id, notify in EscalationRule.objects.filter(plan_id__in=plan_ids).values_list(
        "plan_id", "notify"
    ):
        for role in notify:
            if role not in roles.setdefault(plan_id, []):
                roles[plan_id].append(role)
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    names = {
        r.removeprefix("group:") for rs in roles.values() for r in rs if r.startswith("group:")
    }
    staffed = set(
        users.filter(groups__name__in=names).values_list("groups__name", flat=True).distinct()
    )
    managers = users.filter(groups__name=SUPPORT_MANAGERS).exists()
    gaps = []
    for contract in latest.values():
        plans_now = [contract.plan]
        applies = effective_plan(contract=contract)
        if applies.pk != contract.plan_id:
            plans_now.append(applies)
        seen: set[str] = set()
        for plan in plans_now:
            for role in roles.get(plan.pk, []):
                if role in seen:
                    continue
                seen.add(role)
                reason = _gap(contract, role, staffed, managers)
                if reason:
                    gaps.append(LadderGap(contract.organization, plan, role, reason))
    return gaps


def _gap(contract: Contract, role: str, staffed: set[str], managers: bool) -> str:
    if role == "customer_success_manager":
        person = contract_person(contract=contract, organization=contract.organization, role=role)
        if person is None:
            return "no customer success manager recorded"
        if not _usable(person):
            return f"customer success manager {person.get_username()} is inactive or has no email"
        return ""
    if role.startswith("group:"):
        name = role.removeprefix("group:")
        return "" if name in staffed else f"group {name!r} has no active member with an email"
    if role == "support_managers":
        return "" if managers else "there is no active support manager"
    return ""
