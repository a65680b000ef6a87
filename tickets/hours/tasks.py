"""Support-hours warnings, run by a django-q2 worker after time is logged.

`tickets.services.time_entry_log` enqueues `hours_check_warnings(contract_id=...)` on commit.
The check is safe to run any number of times, by any number of workers at once: each warning
is a `HoursWarning` row (unique per contract, period and threshold) inserted first, and the
email goes out on commit only from the worker whose insert won.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from plans.models import Contract
from tickets.hours.ledger import (
    WARNING_THRESHOLDS,
    Period,
    current_period,
    hours_ledger,
    local_today,
)
from tickets.models import HoursWarning


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


def _send(contract: Contract, period: Period, threshold: int) -> None:
    recipients = warning_recipients(contract)
    if not recipients:
        return
    context = {
        "contract": contract,
        "organization": contract.organization,
        "plan": contract.plan,
        "period": period,
        "threshold": threshold,
        "site_url": settings.SITE_URL,
    }
    subject = " ".join(render_to_string("emails/hours_warning_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/hours_warning.txt", context),
        to=recipients,
    )
    message.attach_alternative(render_to_string("emails/hours_warning.html", context), "text/html")
    message.send()


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
    won: list[int] = []
    with transaction.atomic():
        now = timezone.now()
        for threshold in reached:
            _, created = HoursWarning.objects.get_or_create(
                contract=contract,
                period_start=period.start,
                threshold=threshold,
                defaults={"sent_at": now},
            )
            if created:
                won.append(threshold)
        if won:
            highest = max(won)
            transaction.on_commit(lambda: _send(contract, period, highest))
    return won
