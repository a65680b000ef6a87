"""Every billable amount, by organization and billing period: the hours report, its CSV and
each organization's billing statement read these lines.

Three kinds of line:

- **overage**: hours beyond a monthly package (see `tickets.hours`);
- **as used**: plans without a package whose time is all billed (`plan.all_time_billed`, the
  agency's on-demand support: "all time is billed as used"): every billable hour of a billing
  month (aligned to the contract start, like packages) at the contract's hourly rate;
- **unwarranted escalations**: where the policy charges for them (OpenBack), each escalation
  marked unwarranted after the first `warn_after` of a charge period (`period_months` from the
  contract start, counted in the order they were requested) costs `policy.unwarranted_charge`.

A contract's discount (`discount_percent`, e.g. 10 on a one-year contract) is taken off every
line: `discount = gross x percent / 100` rounded half up to the cent, `net = gross - discount`.
Lines fall in the report's months by the day their period starts (overage, as used) or the day
the charged escalations were requested, in the organization's zone.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

from plans.models import Contract, Organization
from tickets.hours.ledger import (
    CENT,
    MINUTES_PER_HOUR,
    _entries,
    _last_day,
    add_months,
    billing_month,
    hours,
    local_today,
    month_index,
    overage_by_organization,
)
from tickets.models import CustomerEscalation, TimeEntry

OVERAGE = "overage"
AS_USED = "as_used"
ESCALATIONS = "unwarranted_escalations"
KIND_LABELS = {
    OVERAGE: "Hours beyond the package",
    AS_USED: "Hours billed as used",
    ESCALATIONS: "Unwarranted escalations",
}


@dataclass
class BillingLine:
    organization: Organization
    contract: Contract
    kind: str
    start: dt.date
    end: dt.date
    months: int
    allowance: Decimal | None  # hours included (packages)
    used: Decimal  # hours used, or escalations marked unwarranted in the period
    quantity: Decimal  # what is billed: hours, or escalations charged
    rate: Decimal | None  # per hour, or per escalation
    closed: bool
    minutes: int = 0  # hour lines: the exact minutes billed (amounts are not rounded hours)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def gross(self) -> Decimal | None:
        """The amount before the discount; None when no rate is set."""
        if not self.quantity:
            return Decimal("0.00")
        if self.rate is None:
            return None
        if self.kind == ESCALATIONS:
            exact = self.quantity * self.rate
        else:
            exact = Decimal(self.minutes) * self.rate / MINUTES_PER_HOUR
        return exact.quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def discount_percent(self) -> Decimal | None:
        return self.contract.discount_percent

    @property
    def discount(self) -> Decimal:
        gross, percent = self.gross, self.discount_percent
        if gross is None or not percent:
            return Decimal("0.00")
        return (gross * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def net(self) -> Decimal | None:
        gross = self.gross
        return None if gross is None else gross - self.discount


def _as_used_lines(
    contracts: list[Contract],
    month_start: dt.date,
    month_end: dt.date,
    today: dt.date | None,
) -> list[BillingLine]:
    """Billing months starting in the range, with every billable hour (one query)."""
    if not contracts:
        return []
    first = min(max(c.starts_on, month_start) for c in contracts)
    last = add_months(month_end, 1)
    entries: dict[int, list[TimeEntry]] = defaultdict(list)
    for entry in _entries({c.organization_id for c in contracts}, first=first, last=last):
        entries[entry.ticket.organization_id].append(entry)
    lines = []
    for contract in contracts:
        local = today or local_today(contract.organization)
        anchor = contract.starts_on
        index = month_index(anchor, max(month_start, anchor))
        if add_months(anchor, index) < month_start:
            index += 1
        last_index = month_index(anchor, _last_day(contract, month_end))
        while index <= last_index:
            start, end = billing_month(anchor, index)
            if contract.ends_on is not None:
                end = min(end, contract.ends_on)
            minutes = sum(
                entry.minutes
                for entry in entries[contract.organization_id]
                if start <= entry.date <= end
                and not (
                    entry.ticket.category is not None
                    and entry.ticket.category.draws_enablement_hours
                )
            )
            if minutes:
                lines.append(
                    BillingLine(
                        organization=contract.organization,
                        contract=contract,
                        kind=AS_USED,
                        start=start,
                        end=end,
                        months=1,
                        allowance=None,
                        used=hours(minutes),
                        quantity=hours(minutes),
                        rate=contract.overage_hourly_rate,
                        closed=end < local,
                        minutes=minutes,
                    )
                )
            index += 1
    return lines


def charge_periods(contract: Contract, day: dt.date) -> tuple[dt.date, dt.date]:
    """The charge period (of `policy.unwarranted_period_months`) holding `day`."""
    months = contract.plan.policy.unwarranted_period_months or 12
    number = month_index(contract.starts_on, day) // months
    start = add_months(contract.starts_on, number * months)
    return start, add_months(contract.starts_on, (number + 1) * months) - dt.timedelta(days=1)


def unwarranted_by_period(
    contract: Contract, escalations: list[CustomerEscalation]
) -> dict[tuple[dt.date, dt.date], list[CustomerEscalation]]:
    """The contract's unwarranted escalations per charge period, in the order requested."""
    zone = zoneinfo.ZoneInfo(contract.organization.time_zone)
    periods: dict[tuple[dt.date, dt.date], list[CustomerEscalation]] = defaultdict(list)
    for escalation in sorted(escalations, key=lambda e: (e.requested_at, e.pk)):
        day = escalation.requested_at.astimezone(zone).date()
        if day < contract.starts_on or (contract.ends_on and day > contract.ends_on):
            continue
        periods[charge_periods(contract, day)].append(escalation)
    return periods


def _escalation_lines(
    contracts: list[Contract], month_start: dt.date, month_end: dt.date, today: dt.date | None
) -> list[BillingLine]:
    """Charged escalations requested in the range, one line per contract and period."""
    if not contracts:
        return []
    found: dict[int, list[CustomerEscalation]] = defaultdict(list)
    for escalation in CustomerEscalation.objects.filter(
        organization_id__in={c.organization_id for c in contracts}, unwarranted=True
    ).order_by("requested_at", "id"):
        found[escalation.organization_id].append(escalation)
    lines = []
    for contract in contracts:
        policy = contract.plan.policy
        zone = zoneinfo.ZoneInfo(contract.organization.time_zone)
        local = today or local_today(contract.organization)
        periods = unwarranted_by_period(contract, found[contract.organization_id])
        for (start, end), escalations in sorted(periods.items()):
            charged = [
                e
                for e in escalations[policy.unwarranted_warn_after :]
                if month_start <= e.requested_at.astimezone(zone).date() <= month_end
            ]
            if not charged:
                continue
            lines.append(
                BillingLine(
                    organization=contract.organization,
                    contract=contract,
                    kind=ESCALATIONS,
                    start=start,
                    end=end,
                    months=policy.unwarranted_period_months or 12,
                    allowance=Decimal(policy.unwarranted_warn_after or 0),
                    used=Decimal(len(escalations)),
                    quantity=Decimal(len(charged)),
                    rate=policy.unwarranted_charge,
                    closed=end < local,
                )
            )
    return lines


def billing_lines(
    month_start: dt.date,
    month_end: dt.date,
    *,
    today: dt.date | None = None,
    organization: Organization | None = None,
) -> list[BillingLine]:
    """Every billable line in the months from `month_start` to `month_end` (inclusive), by
    organization, then period, then kind. A fixed number of queries."""
    if month_end < month_start:
        return []
    lines = [
        BillingLine(
            organization=row.organization,
            contract=row.contract,
            kind=OVERAGE,
            start=row.period.start,
            end=row.period.end,
            months=row.period.months,
            allowance=row.period.allowance,
            used=row.period.used,
            quantity=row.period.overage if row.period.overage_billed else Decimal("0.00"),
            rate=row.contract.overage_hourly_rate if row.period.overage_billed else None,
            closed=row.closed,
            minutes=row.period.overage_minutes if row.period.overage_billed else 0,
        )
        for row in overage_by_organization(
            month_start, month_end, today=today, organization=organization
        )
    ]
    others = (
        Contract.objects.filter(starts_on__lte=month_end)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=month_start))
        .filter(
            Q(plan__all_time_billed=True, plan__monthly_support_hours__isnull=True)
            | Q(
                plan__policy__unwarranted_warn_after__isnull=False,
                plan__policy__unwarranted_charge__isnull=False,
            )
        )
        .select_related("organization", "plan__policy")
        .order_by("organization__name", "organization_id", "starts_on")
    )
    if organization is not None:
        others = others.filter(organization=organization)
    contracts = list(others)
    as_used = [
        c for c in contracts if c.plan.all_time_billed and c.plan.monthly_support_hours is None
    ]
    charging = [
        c
        for c in contracts
        if c.plan.policy.unwarranted_warn_after and c.plan.policy.unwarranted_charge is not None
    ]
    lines += _as_used_lines(as_used, month_start, month_end, today)
    lines += _escalation_lines(charging, month_start, month_end, today)
    order = {OVERAGE: 0, AS_USED: 1, ESCALATIONS: 2}
    return sorted(
        lines,
        key=lambda line: (
            line.organization.name,
            line.organization.pk,
            line.start,
            order[line.kind],
        ),
    )
