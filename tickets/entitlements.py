"""What a person may do with a ticket under their organization's plan (pure reads, no writes).

Each check raises `ValidationError` keyed by the form field it concerns, so a form shows the
message beside the field and a service refuses the same thing whatever called it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from plans.models import Contract, NamedContact, Organization, Plan, Severity, TicketCategory
from plans.selectors import (
    contract_active,
    effective_plan,
    named_contact,
    plan_categories,
    plan_severities,
)


@dataclass(frozen=True)
class Entitlement:
    """Who is asking, for which organization, and which plan's support applies now."""

    contact: NamedContact
    organization: Organization
    contract: Contract
    plan: Plan  # the plan whose support applies (base tier until onboarding is completed)

    @property
    def onboarding_pending(self) -> bool:
        return self.plan.pk != self.contract.plan_id


def entitlement_for(*, user: User) -> Entitlement:
    """The requester's entitlement; only named contacts with an active contract submit."""
    contact = named_contact(user=user)
    if contact is None:
        raise ValidationError(
            "Only named support contacts of a customer organization can submit tickets."
        )
    contract = contract_active(organization=contact.organization, people=False)
    if contract is None:
        raise ValidationError(
            f"{contact.organization} has no active support contract; tickets cannot be submitted."
        )
    return Entitlement(
        contact=contact,
        organization=contact.organization,
        contract=contract,
        plan=effective_plan(contract=contract),
    )


def allowed_channels(*, plan: Plan, category: TicketCategory | None) -> list[str]:
    if category is not None and category.channels:
        return list(category.channels)
    return list(plan.channels)


def check_submission(
    *,
    plan: Plan,
    severity_level: int,
    category: TicketCategory | None,
    channel: str,
) -> Severity:
    """Refuse what the plan does not allow; return the severity row for `severity_level`."""
    errors: dict[str, str] = {}
    has_categories = bool(plan_categories(plan=plan))
    if category is not None and category.plan_id != plan.pk:
        errors["category"] = f"{category.name} is not a category of the {plan} plan."
    elif category is None and has_categories:
        errors["category"] = f"Choose the kind of request; the {plan} plan sorts requests by kind."
    severity = next((s for s in plan_severities(plan=plan) if s.level == severity_level), None)
    if severity is None:
        errors["severity"] = f"The {plan} plan has no severity {severity_level}."
    elif (
        category is not None
        and category.severity_levels
        and (severity_level not in category.severity_levels)
    ):
        levels = ", ".join(str(level) for level in category.severity_levels)
        errors["severity"] = f"{category.name} requests take severity {levels} only."
    if "category" not in errors:
        channels = allowed_channels(plan=plan, category=category)
        if channel not in channels:
            names = ", ".join(channels) or "none"
            errors["channel"] = (
                f"The {channel} channel is not part of this plan (allowed: {names})."
            )
    if errors:
        raise ValidationError(errors)
    assert severity is not None
    return severity


def can_request_post_incident_report(*, plan: Plan, severity_level: int) -> bool:
    return severity_level in (plan.post_incident_report_levels or [])


def can_request_escalation(*, plan: Plan, severity_level: int) -> bool:
    return severity_level in (plan.customer_escalation_levels or [])
