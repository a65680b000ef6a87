"""Support-hours warnings, run by a django-q2 worker after time is logged.

`tickets.services.time_entry_log` enqueues `hours_check_warnings(contract_id=...)` on commit.
The check is safe to run any number of times, by any number of workers at once: each warning
is a `HoursWarning` row (unique per contract, period and threshold) inserted first, and only
the worker whose insert won records the warning's outgoing notifications, in the same
transaction (sent by `tickets.notifications`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from helpdesk.mail import register_context
from plans.models import Contract
from tickets.hours.ledger import (
    WARNING_THRESHOLDS,
    Period,
    current_period,
    hours_ledger,
    local_today,
)
from tickets.models import HoursWarning, OutgoingNotification
from tickets.notifications import record


def warning_recipients(contract: Contract) -> list[str]:
    """The organization's named contacts, the contract's account manager and the customer
    success manager (the organization's, where the contract names none)."""
    organization = contract.organization
    addresses = set(
        organization.contacts.filter(user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    for manager in (
        contract.account_manager,
        contract.customer_success_manager or organization.customer_success_manager,
    ):
        if manager is not None and manager.is_active and manager.email:
            addresses.add(manager.email)
    return sorted(addresses)


def _record(warning: HoursWarning, contract: Contract, period: Period) -> int:
    """The warning's mails, in the warning's transaction; the numbers are those of now."""
    return record(
        cause=OutgoingNotification.Cause.HOURS_WARNING,
        cause_id=warning.pk,
        name="hours_warning",
        to=warning_recipients(contract),
        data={
            "contract_id": contract.pk,
            "threshold": warning.threshold,
            "period": {
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "months": period.months,
                "allowance_minutes": period.allowance_minutes,
                "used_minutes": period.used_minutes,
            },
        },
    )


@register_context("hours_warning")
def _hours_warning_context(data: Mapping[str, Any]) -> dict[str, Any]:
    contract = Contract.objects.select_related("organization", "plan").get(pk=data["contract_id"])
    stored = data["period"]
    period = Period(
        start=dt.date.fromisoformat(stored["start"]),
        end=dt.date.fromisoformat(stored["end"]),
        months=stored["months"],
        allowance_minutes=stored["allowance_minutes"],
        used_minutes=stored["used_minutes"],
        rate=contract.overage_hourly_rate,
        overage_billed=contract.plan.overage_billed,
    )
    return {
        "contract": contract,
        "organization": contract.organization,
        "plan": contract.plan,
        "period": period,
        "threshold": data["threshold"],
    }


def hours_check_warnings(*, contract_id: int) -> list[int]:
    """Warn at 80% and 100% of the current period's allowance, once each per period.

    Returns the thresholds newly reached by this run (empty when nothing new). When one entry
    takes use past both thresholds at once, both are recorded and one email (the 100% one) is
    sent, so the customer does not get two messages for one entry.
    """
    contract = (
        Contract.objects.select_related(
            "organization",
            "organization__customer_success_manager",
            "plan",
            "account_manager",
            "customer_success_manager",
        )
        .filter(pk=contract_id)
        .first()
    )
    if contract is None or contract.plan.monthly_support_hours is None:
        return []
    period = current_period(hours_ledger(contract, today=local_today(contract.organization)))
    if period is None or not period.allowance_minutes:
        return []
    reached = [threshold for threshold in WARNING_THRESHOLDS if period.reached(threshold)]
    if not reached:
        return []
    won: list[HoursWarning] = []
    with transaction.atomic():
        now = timezone.now()
        for threshold in reached:
            warning, created = HoursWarning.objects.get_or_create(
                contract=contract,
                period_start=period.start,
                threshold=threshold,
                defaults={"sent_at": now},
            )
            if created:
                won.append(warning)
        if won:
            _record(max(won, key=lambda w: w.threshold), contract, period)
    return [warning.threshold for warning in won]
