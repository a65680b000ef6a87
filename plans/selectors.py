"""Reads for plans."""

import datetime as dt
import zoneinfo

from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from plans.models import Contract, NamedContact, Organization, Plan, UserProfile


def contract_active(*, organization: Organization, on: dt.date | None = None) -> Contract | None:
    """The contract in force on `on` (today in the organization's zone by default)."""
    if on is None:
        on = timezone.localdate(timezone=zoneinfo.ZoneInfo(organization.time_zone))
    return (
        Contract.objects.select_related("plan", "plan__base_plan")
        .filter(organization=organization, starts_on__lte=on)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on))
        .order_by("-starts_on")
        .first()
    )


def effective_plan(*, contract: Contract) -> Plan:
    """The plan whose support applies: the base tier until technical onboarding is completed."""
    plan = contract.plan
    if not contract.onboarding_completed and plan.base_plan is not None:
        return plan.base_plan
    return plan


def viewer_time_zone(*, user: User) -> str:
    """The zone to show times in: the user's preference, their organization's, else UTC.

    Cached on the user object so a request reads it once.
    """
    cached = getattr(user, "_viewer_tz", None)
    if cached:
        return cached
    zone = (
        UserProfile.objects.filter(user=user).values_list("time_zone", flat=True).first()
        or NamedContact.objects.filter(user=user)
        .values_list("organization__time_zone", flat=True)
        .first()
        or "UTC"
    )
    user._viewer_tz = zone  # type: ignore[attr-defined]
    return zone
