"""Unwarranted escalations (OpenBack: "notify Customers in advance that charges will be levied
in cases where unwarranted and repeated support request escalations are sought").

When an agent marks an escalation unwarranted and, with it, the organization reaches the
policy's `unwarranted_warn_after` in a charge period (`unwarranted_period_months` from the
contract start), the customer is warned once for that period: an `UnwarrantedEscalationWarning`
row (unique per contract and period) is written in the same transaction and its mail goes out
on commit. Each further unwarranted escalation of the period is charged (see `tickets.billing`).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from plans.models import Contract
from plans.selectors import contract_active
from tickets import emails
from tickets.billing import charge_periods, unwarranted_by_period
from tickets.models import CustomerEscalation, TicketEvent, UnwarrantedEscalationWarning


def warn_if_due(*, escalation: CustomerEscalation) -> UnwarrantedEscalationWarning | None:
    """Record (and queue the mail of) the period's warning when this escalation reaches the
    threshold; None when no warning is due or it was already sent."""
    organization = escalation.organization
    zone = zoneinfo.ZoneInfo(organization.time_zone)
    day = escalation.requested_at.astimezone(zone).date()
    contract = contract_active(organization=organization, on=day)
    if contract is None:
        return None
    policy = contract.plan.policy
    if not policy.unwarranted_warn_after:
        return None
    contract.organization = organization
    start, end = charge_periods(contract, day)
    marked = list(CustomerEscalation.objects.filter(organization=organization, unwarranted=True))
    in_period = unwarranted_by_period(contract, marked).get((start, end), [])
    if len(in_period) < policy.unwarranted_warn_after:
        return None
    if UnwarrantedEscalationWarning.objects.filter(contract=contract, period_start=start).exists():
        return None
    now = timezone.now()
    try:
        with transaction.atomic():
            warning = UnwarrantedEscalationWarning.objects.create(
                contract=contract,
                period_start=start,
                period_end=end,
                unwarranted=len(in_period),
                sent_at=now,
            )
    except IntegrityError:  # another agent's mark won the race: that one warns
        return None
    TicketEvent.objects.create(
        ticket=escalation.ticket,
        kind=TicketEvent.Kind.UNWARRANTED_WARNING,
        at=now,
        summary=f"Warned that further unwarranted escalations until {end:%d %b %Y} are charged",
        data={"warning": warning.pk, "unwarranted": len(in_period)},
        customer_visible=True,
    )
    emails.unwarranted_warning(warning=warning)
    return warning


def unwarranted_summary(*, contract: Contract, today: dt.date) -> dict[str, Any] | None:
    """What the customer's plan page says about unwarranted escalations in the current charge
    period; None when the policy charges nothing. Two queries."""
    policy = contract.plan.policy
    if not policy.unwarranted_warn_after or policy.unwarranted_charge is None:
        return None
    start, end = charge_periods(contract, today)
    marked = list(
        CustomerEscalation.objects.filter(
            organization_id=contract.organization_id, unwarranted=True
        )
    )
    count = len(unwarranted_by_period(contract, marked).get((start, end), []))
    warning = UnwarrantedEscalationWarning.objects.filter(
        contract=contract, period_start=start
    ).first()
    return {
        "start": start,
        "end": end,
        "count": count,
        "free": policy.unwarranted_warn_after,
        "charged": max(count - policy.unwarranted_warn_after, 0),
        "charge": policy.unwarranted_charge,
        "warning": warning,
    }
