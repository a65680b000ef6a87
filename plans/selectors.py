"""Reads for plans."""

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from plans import policy_cache
from plans.models import (
    ConditionLimit,
    Contract,
    ContractCondition,
    NamedContact,
    Organization,
    Plan,
    PlanCondition,
    Severity,
    TamOption,
    TicketCategory,
)

PEOPLE = ("customer_success_manager", "technical_account_manager_user", "account_manager")


def contract_active(
    *, organization: Organization, on: dt.date | None = None, people: bool = True
) -> Contract | None:
    """The contract in force on `on` (today in the organization's zone by default), with its
    plan, policy and base plan, and (`people`) the account team's users."""
    if on is None:
        on = timezone.localdate(timezone=zoneinfo.ZoneInfo(organization.time_zone))
    in_force = (
        Contract.objects.select_related(*(PEOPLE if people else ()))
        .filter(organization=organization, starts_on__lte=on)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on))
        # The policy revision, read with the contract (no query of its own): the cached policy
        # reads of its plans (`plan_severities`, ..., `sla_terms`) are keyed by it.
        .annotate(read_policy_revision=policy_cache.revision_subquery())
        # The latest start wins, chosen here: the rows in force are one or two, and ordering in
        # SQL makes Django hash each of the selected columns to build the query.
        .order_by()
    )
    contract = max(in_force, key=lambda row: (row.starts_on, row.pk), default=None)
    if contract is not None:
        contract.organization = organization
        revision = contract.read_policy_revision
        policy_cache.record_revision(contract, revision)
        plan_id = contract.plan_id
        # The plan with its policy and base plan: from the cache at this revision (shared by
        # the process's requests: read it, never change it), else one query.
        contract.plan = policy_cache.cached(
            contract, ("plan", plan_id), lambda: _plan(plan_id, revision)
        )
    return contract


def _plan(plan_id: int, revision: int | None) -> Plan:
    """The plan with its policy and base plan, each noting the revision it was read at (once,
    as it is read: a plan from the cache is never written to again)."""
    plan = Plan.objects.select_related("policy", "base_plan").get(pk=plan_id)
    policy_cache.record_revision(plan, revision)
    base = plan.base_plan
    if base is not None:
        policy_cache.record_revision(base, revision)
        if base.policy_id == plan.policy_id:
            base.policy = plan.policy  # the tiers of one policy: no query for it
    return plan


def plan_severities(*, plan: Plan) -> list[Severity]:
    """The severities of the plan's policy by level (one query, kept on the plan object, so a
    request's form, checks and SLA terms share it; none for a plan that `contract_active`
    read, whose policy revision the process cache knows). The rows are shared by every request
    of the process: read them, never change them."""
    cached = getattr(plan, "_severities", None)
    if cached is None:
        policy_id = plan.policy_id
        cached = list(
            policy_cache.cached(
                plan,
                ("severities", policy_id),
                lambda: list(Severity.objects.filter(policy_id=policy_id).order_by("level")),
            )
        )
        _keep(plan, "_severities", cached)
    return cached


def plan_categories(*, plan: Plan) -> list[TicketCategory]:
    """The plan's kinds of request in display order (one query, kept on the plan object; none
    from the process cache, as `plan_severities`). The rows are shared: never change them."""
    cached = getattr(plan, "_categories", None)
    if cached is None:
        plan_id = plan.pk
        cached = list(
            policy_cache.cached(
                plan,
                ("categories", plan_id),
                lambda: list(
                    TicketCategory.objects.filter(plan_id=plan_id).order_by("position", "name")
                ),
            )
        )
        _keep(plan, "_categories", cached)
    return cached


def _keep(plan: Plan, name: str, rows: list[Any]) -> None:
    """Keep rows read for this plan object on it, for the rest of its request; not on a plan
    from the process cache (`contract_active`'s, which carries a revision): that object is
    shared, and each request gets its own list from the cache."""
    if policy_cache.revision_of(plan) is None:
        setattr(plan, name, rows)


@dataclass(frozen=True)
class ConditionState:
    """One condition of the contract's plan, as it stands for this contract."""

    condition: PlanCondition
    met: bool
    applies: bool  # False: the condition is for new users only and this customer is not one
    note: str = ""

    @property
    def limits(self) -> bool:
        """Unmet and applicable: support is limited as the condition says."""
        return self.applies and not self.met


def contract_conditions(*, contract: Contract) -> list[ConditionState]:
    """The conditions of the contract's plan and whether the contract meets each (cached on the
    contract): one query (none for a contract `contract_active` read, from the process cache),
    and one for the contract's records when the plan has conditions.
    A condition no record speaks about is met when the policy presumes it (`presumed_met`); one
    that limits support to the base plan reads the contract's "onboarding completed" box, which
    records the onboarding condition."""
    cached = getattr(contract, "_condition_states", None)
    if cached is not None:
        return cached
    # Two plain queries cost a fraction of one with a subquery per recorded field to build, and
    # most plans have no conditions at all (the second is then not asked). The plan's conditions
    # come from the process cache for a contract `contract_active` read (shared rows: never
    # changed here or by callers); the contract's own records are always read.
    plan_id = contract.plan_id
    conditions: list[PlanCondition] = policy_cache.cached(
        contract,
        ("conditions", plan_id),
        lambda: sorted(
            PlanCondition.objects.filter(plan_id=plan_id).order_by(),
            key=lambda condition: (condition.position, condition.slug),
        ),
    )
    records = (
        {
            record.condition_id: record
            for record in ContractCondition.objects.filter(contract=contract).order_by()
        }
        if conditions
        else {}
    )
    states = []
    for condition in conditions:
        record = records.get(condition.pk)
        if record is not None:
            met = record.met
        elif condition.limit == ConditionLimit.BASE_PLAN:
            met = contract.onboarding_completed
        else:
            met = condition.presumed_met
        applies = contract.new_user or not condition.new_users_only
        note = record.note if record is not None else ""
        states.append(ConditionState(condition, met, applies, note))
    contract._condition_states = states  # type: ignore[attr-defined]
    return states


def effective_plan(*, contract: Contract) -> Plan:
    """The plan whose support applies: the base tier while a condition that limits support to
    it is unmet (OpenBack: technical onboarding, for new users only). A plan with a base plan
    but no such condition declared falls back to the contract's "onboarding completed" box."""
    plan = contract.plan
    if plan.base_plan_id is None:
        return plan
    limiting = [
        state
        for state in contract_conditions(contract=contract)
        if state.condition.limit == ConditionLimit.BASE_PLAN
    ]
    if limiting:
        pending = any(state.limits for state in limiting)
    else:
        pending = not contract.onboarding_completed
    return plan.base_plan if pending else plan  # type: ignore[return-value]


def support_refused(*, contract: Contract) -> list[ConditionState]:
    """Unmet conditions that withhold technical support altogether (OpenBack's SDK clause)."""
    return [
        state
        for state in contract_conditions(contract=contract)
        if state.limits and state.condition.limit == ConditionLimit.NO_TECHNICAL_SUPPORT
    ]


def contract_for_contacts(*, organization: Organization) -> Contract | None:
    """The contract whose plan sets the named-contact limit: the one in force, else the next one
    to start (contacts can be designated before a contract starts)."""
    current = contract_active(organization=organization)
    if current is not None:
        return current
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(organization.time_zone))
    return (
        Contract.objects.select_related("plan")
        .filter(organization=organization, starts_on__gt=today)
        .order_by("starts_on")
        .first()
    )


def _viewer_rows(user: User) -> None:
    """Read the viewer's profile zone and named-contact row (with its organization) in one
    query, and keep them on the user object: a request's user is read once."""
    if hasattr(user, "_viewer_tz"):
        return
    rows = (
        get_user_model()
        .objects.select_related("profile", "named_contact__organization")
        .filter(pk=user.pk)
        .order_by()  # one row: no ORDER BY (`first()` would add one)
    )
    row = next(iter(rows), None)
    profile = getattr(row, "profile", None)
    contact: NamedContact | None = getattr(row, "named_contact", None)
    user._named_contact = contact  # type: ignore[attr-defined]
    user._viewer_tz = (  # type: ignore[attr-defined]
        (profile.time_zone if profile is not None else "")
        or (contact.organization.time_zone if contact is not None else "")
        or "UTC"
    )


def named_contact(*, user: User) -> NamedContact | None:
    """The user's named-contact row, with its organization; None for anyone else (agents,
    managers, visitors). Read once per user object, with `viewer_time_zone`."""
    if not user.is_authenticated:
        return None
    _viewer_rows(user)
    return user._named_contact  # type: ignore[attr-defined]


def viewer_time_zone(*, user: User) -> str:
    """The zone to show times in: the user's preference, their organization's, else UTC.

    Cached on the user object so a request reads it once (with the named-contact row).
    """
    _viewer_rows(user)
    return user._viewer_tz  # type: ignore[attr-defined]


# -- the people a plan promises -----------------------------------------------------------------

ACCOUNT_ROLES = (
    ("customer_success_manager", "Customer success manager"),
    ("technical_account_manager", "Technical account manager"),
    ("account_manager", "Account manager"),
)


@dataclass(frozen=True)
class AccountPerson:
    """One role of the account team: whether the plan includes it and who holds it."""

    role: str
    label: str
    included: bool  # the plan includes it (or the optional one was bought)
    optional: bool  # the plan offers it as an option that was not bought
    user: Any  # the person, or None when nobody is recorded yet

    @property
    def name(self) -> str:
        if self.user is None:
            return ""
        return self.user.get_full_name() or self.user.get_username()

    @property
    def email(self) -> str:
        return self.user.email if self.user is not None else ""


def contract_person(*, contract: Contract | None, organization: Organization, role: str) -> Any:
    """Who holds `role` for the organization: the contract's person, else the organization's.

    `role` is one of `customer_success_manager`, `technical_account_manager`, `account_manager`.
    Read from loaded relations (select them with the contract and organization)."""
    if role == "customer_success_manager":
        person = contract.customer_success_manager if contract is not None else None
        return person or organization.customer_success_manager
    if role == "technical_account_manager":
        person = contract.technical_account_manager_user if contract is not None else None
        return person or organization.technical_account_manager
    if role == "account_manager":
        return contract.account_manager if contract is not None else None
    raise ValueError(f"unknown account role {role!r}")


def account_team(*, contract: Contract) -> list[AccountPerson]:
    """The roles the contract's plan includes (or offers), with the people recorded for them."""
    plan = contract.plan
    organization = contract.organization
    included = {
        "customer_success_manager": plan.customer_success_manager,
        "technical_account_manager": plan.technical_account_manager == TamOption.INCLUDED
        or (
            plan.technical_account_manager == TamOption.OPTIONAL
            and contract.technical_account_manager
        ),
        "account_manager": plan.account_manager,
    }
    optional = (
        plan.technical_account_manager == TamOption.OPTIONAL
        and not included["technical_account_manager"]
    )
    team = []
    for role, label in ACCOUNT_ROLES:
        if not included[role] and not (role == "technical_account_manager" and optional):
            continue
        team.append(
            AccountPerson(
                role=role,
                label=label,
                included=included[role],
                optional=role == "technical_account_manager" and optional,
                user=contract_person(contract=contract, organization=organization, role=role)
                if included[role]
                else None,
            )
        )
    return team


def contracts_in_force(*, organization_ids: list[int], on: dt.date) -> dict[int, Contract]:
    """The contract in force on `on` for each organization, in one query (people loaded)."""
    rows = (
        Contract.objects.filter(organization_id__in=organization_ids, starts_on__lte=on)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on))
        .select_related(
            "plan",
            "customer_success_manager",
            "technical_account_manager_user",
            "account_manager",
        )
        .order_by("organization_id", "starts_on")
    )
    return {contract.organization_id: contract for contract in rows}
