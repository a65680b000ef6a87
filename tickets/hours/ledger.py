"""The support-hours ledger: monthly packages (agency) and yearly enablement hours (Prismic).

Rules, as plain functions over the rows (nothing here lives in views, templates or signals):

- **Billing months** are aligned to the contract start: a contract starting on 15 January has
  months 15 Jan-14 Feb, 15 Feb-14 Mar, ... A start on the 29th-31st is clamped to the last day
  of shorter months (31 Jan -> 28 Feb -> 31 Mar), always counted from the contract's own start
  day so a short February does not shift the months after it.
- Dates are the organization's local dates: `TimeEntry.date` is already the day worked in the
  organization's zone, and "today" is the caller's local date for that organization.
- **Allowance** per billing month is `plan.monthly_support_hours`; unused hours **do not roll
  over** (the plans that sell hours here all say so, and `hours_rollover` is not honoured).
- **Pooled months** (`PooledMonths`): by agreement, consecutive billing months form one period
  whose allowance and use are added together. A pool is honoured for at most
  `plan.poolable_months` months; months already in an earlier pool are not pooled again.
- **Overage** = billable time beyond the period's allowance, billed at
  `contract.overage_hourly_rate` (rounded half-up to the cent) when the plan bills overage.
- Only **billable** entries count.
- Time on tickets whose category `draws_enablement_hours` draws on the **enablement** allowance
  (`plan.enablement_hours_per_year`) per **contract year** (from contract-start anniversaries)
  instead of the monthly hours. Enablement hours are "up to N a year": there is no overage.

Every public function runs a fixed number of queries whatever the number of periods or
entries: the rows are read once and grouped in Python.
"""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from plans.models import Contract, Organization, PooledMonths
from plans.selectors import contract_active
from tickets.models import TimeEntry

CENT = Decimal("0.01")
MINUTES_PER_HOUR = Decimal(60)
WARNING_THRESHOLDS = (80, 100)


# -- dates ------------------------------------------------------------------------------------


def add_months(start: dt.date, months: int) -> dt.date:
    """`start` moved by whole months, its day clamped to the target month's last day."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day)


def month_index(anchor: dt.date, day: dt.date) -> int:
    """Which billing month (0 = the first) of a contract starting on `anchor` holds `day`."""
    index = (day.year - anchor.year) * 12 + (day.month - anchor.month)
    if day < add_months(anchor, index):
        index -= 1
    return index


def billing_month(anchor: dt.date, index: int) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of billing month `index` of a contract from `anchor`."""
    return add_months(anchor, index), add_months(anchor, index + 1) - dt.timedelta(days=1)


def local_today(organization: Organization) -> dt.date:
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(organization.time_zone))


def hours(minutes: int) -> Decimal:
    """Minutes as hours, to the hundredth."""
    return (Decimal(minutes) / MINUTES_PER_HOUR).quantize(CENT, rounding=ROUND_HALF_UP)


# -- results ----------------------------------------------------------------------------------


@dataclass
class Period:
    """One billing period: a billing month, or several pooled months shown as one."""

    start: dt.date
    end: dt.date
    months: int
    allowance_minutes: int
    used_minutes: int = 0
    rate: Decimal | None = None
    overage_billed: bool = True
    current: bool = False
    entries: list[TimeEntry] = field(default_factory=list)

    @property
    def pooled(self) -> bool:
        return self.months > 1

    @property
    def allowance(self) -> Decimal:
        return hours(self.allowance_minutes)

    @property
    def used(self) -> Decimal:
        return hours(self.used_minutes)

    @property
    def left_minutes(self) -> int:
        return max(self.allowance_minutes - self.used_minutes, 0)

    @property
    def left(self) -> Decimal:
        return hours(self.left_minutes)

    @property
    def overage_minutes(self) -> int:
        return max(self.used_minutes - self.allowance_minutes, 0)

    @property
    def overage(self) -> Decimal:
        return hours(self.overage_minutes)

    @property
    def amount(self) -> Decimal | None:
        """What the overage costs; None when no rate is set for a plan that bills overage."""
        if not self.overage_billed or not self.overage_minutes:
            return Decimal("0.00")
        if self.rate is None:
            return None
        exact = Decimal(self.overage_minutes) * self.rate / MINUTES_PER_HOUR
        return exact.quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def percent_used(self) -> int:
        """Share of the allowance used, in whole percent (rounded down)."""
        if not self.allowance_minutes:
            return 100 if self.used_minutes else 0
        return self.used_minutes * 100 // self.allowance_minutes

    @property
    def bar_percent(self) -> int:
        """`percent_used` capped at 100, for a progress bar."""
        return min(self.percent_used, 100)

    def reached(self, threshold: int) -> bool:
        """Whether use has reached `threshold` percent of the allowance (exactly, no rounding)."""
        return self.used_minutes * 100 >= self.allowance_minutes * threshold


@dataclass
class EnablementYear:
    """One contract year of enablement hours (up to the plan's yearly hours)."""

    start: dt.date
    end: dt.date
    allowance_minutes: int
    used_minutes: int = 0
    current: bool = False
    entries: list[TimeEntry] = field(default_factory=list)

    @property
    def allowance(self) -> Decimal:
        return hours(self.allowance_minutes)

    @property
    def used(self) -> Decimal:
        return hours(self.used_minutes)

    @property
    def left(self) -> Decimal:
        return hours(max(self.allowance_minutes - self.used_minutes, 0))

    @property
    def bar_percent(self) -> int:
        if not self.allowance_minutes:
            return 100 if self.used_minutes else 0
        return min(self.used_minutes * 100 // self.allowance_minutes, 100)

    @property
    def over_minutes(self) -> int:
        return max(self.used_minutes - self.allowance_minutes, 0)

    @property
    def left_minutes(self) -> int:
        return max(self.allowance_minutes - self.used_minutes, 0)

    @property
    def over(self) -> Decimal:
        """Hours used beyond the yearly allowance (best effort: shown, never billed)."""
        return hours(self.over_minutes)


@dataclass
class OverageRow:
    """A line of the managers' billing report: one organization's period with overage."""

    organization: Organization
    contract: Contract
    period: Period
    closed: bool


# -- pure building blocks ---------------------------------------------------------------------


def _minutes(value: Decimal | None) -> int:
    return int((Decimal(value or 0) * MINUTES_PER_HOUR).to_integral_value(ROUND_HALF_UP))


def _last_day(contract: Contract, until: dt.date) -> dt.date:
    return min(until, contract.ends_on) if contract.ends_on else until


def _draws_enablement(entry: TimeEntry) -> bool:
    category = entry.ticket.category
    return bool(category is not None and category.draws_enablement_hours)


def build_periods(
    contract: Contract,
    pools: Iterable[PooledMonths],
    entries: Iterable[TimeEntry],
    *,
    today: dt.date,
    first_index: int = 0,
    last_index: int | None = None,
) -> list[Period]:
    """The contract's billing periods from month `first_index` to `last_index` (default: the
    month holding `today`, or the contract's last month if it has ended), oldest first.

    `entries` may hold anything (other contracts' days, enablement time, non-billable time):
    only the contract's billable monthly-hours entries inside a period are counted.
    """
    plan = contract.plan
    if plan.monthly_support_hours is None:
        return []
    anchor = contract.starts_on
    if last_index is None:
        if today < anchor:
            return []
        last_index = month_index(anchor, _last_day(contract, today))
    allowance = _minutes(plan.monthly_support_hours)
    # A pool can only start a period that begins at or before the contract's last day.
    pool_length: dict[int, int] = {}
    for pool in sorted(pools, key=lambda p: p.first_month):
        if pool.first_month < anchor:
            continue
        length = min(pool.months, plan.poolable_months)
        if length >= 2:
            pool_length.setdefault(month_index(anchor, pool.first_month), length)
    contract_last = month_index(anchor, contract.ends_on) if contract.ends_on else None
    periods: list[Period] = []
    index = max(first_index, 0)
    # Walk from the first month so a pool that started before `first_index` is respected.
    cursor = 0
    while cursor <= last_index:
        length = pool_length.get(cursor, 1)
        if contract_last is not None:
            # A pool cut short by the contract's end covers only the months that exist.
            length = max(min(length, contract_last - cursor + 1), 1)
        start = billing_month(anchor, cursor)[0]
        end = billing_month(anchor, cursor + length - 1)[1]
        if contract.ends_on is not None:
            end = min(end, contract.ends_on)
        if cursor >= index:
            periods.append(
                Period(
                    start=start,
                    end=end,
                    months=length,
                    allowance_minutes=allowance * length,
                    rate=contract.overage_hourly_rate,
                    overage_billed=plan.overage_billed,
                    current=start <= today <= end,
                )
            )
        cursor += length
    if not periods:
        return periods
    starts = [period.start for period in periods]
    for entry in entries:
        if not entry.billable or _draws_enablement(entry):
            continue
        if not periods[0].start <= entry.date <= periods[-1].end:
            continue
        # The period holding the entry: the last one starting on or before its date.
        position = _bisect_right(starts, entry.date) - 1
        period = periods[position]
        if entry.date <= period.end:
            period.used_minutes += entry.minutes
            period.entries.append(entry)
    return periods


def _bisect_right(values: Sequence[dt.date], value: dt.date) -> int:
    low, high = 0, len(values)
    while low < high:
        middle = (low + high) // 2
        if value < values[middle]:
            high = middle
        else:
            low = middle + 1
    return low


def build_enablement_years(
    contract: Contract, entries: Iterable[TimeEntry], *, today: dt.date
) -> list[EnablementYear]:
    """Contract years (from contract-start anniversaries) up to the one holding `today`."""
    per_year = contract.plan.enablement_hours_per_year
    anchor = contract.starts_on
    if per_year is None or today < anchor:
        return []
    last = month_index(anchor, _last_day(contract, today)) // 12
    years = []
    for number in range(last + 1):
        start = add_months(anchor, 12 * number)
        end = add_months(anchor, 12 * (number + 1)) - dt.timedelta(days=1)
        if contract.ends_on is not None:
            end = min(end, contract.ends_on)
        years.append(
            EnablementYear(
                start=start,
                end=end,
                allowance_minutes=_minutes(per_year),
                current=start <= today <= end,
            )
        )
    for entry in entries:
        if not entry.billable or not _draws_enablement(entry):
            continue
        if not years[0].start <= entry.date <= years[-1].end:
            continue
        year = years[month_index(anchor, entry.date) // 12]
        year.used_minutes += entry.minutes
        year.entries.append(entry)
    return years


# -- reads ------------------------------------------------------------------------------------


def _entries(organization_ids: Iterable[int], *, first: dt.date, last: dt.date) -> list[TimeEntry]:
    """Billable entries of these organizations between two dates: one query."""
    return list(
        TimeEntry.objects.filter(
            ticket__organization_id__in=list(organization_ids),
            billable=True,
            date__gte=first,
            date__lte=last,
        )
        .select_related("ticket", "ticket__category", "agent")
        .order_by("date", "id")
    )


def _contract_entries(contract: Contract, *, today: dt.date) -> list[TimeEntry]:
    return _entries(
        [contract.organization_id], first=contract.starts_on, last=_last_day(contract, today)
    )


def hours_ledger(contract: Contract, *, today: dt.date) -> list[Period]:
    """Every billing period of the contract up to today's, oldest first, with its entries.

    Two queries (pools, entries); the contract should come with its plan loaded.
    """
    pools = list(contract.pooled_months.all())
    return build_periods(contract, pools, _contract_entries(contract, today=today), today=today)


def enablement_ledger(contract: Contract, *, today: dt.date) -> list[EnablementYear]:
    """Every contract year up to today's with the enablement time drawn on it. One query."""
    if contract.plan.enablement_hours_per_year is None:
        return []
    entries = _contract_entries(contract, today=today)
    return build_enablement_years(contract, entries, today=today)


def current_period(periods: Sequence[Period]) -> Period | None:
    return next((period for period in periods if period.current), None)


def plan_hours_summary(*, organization: Organization, today: dt.date) -> dict[str, Any] | None:
    """What the /plan/ page shows about hours, for one organization only; None when its
    active contract's plan sells no hours (neither a monthly package nor enablement hours).

    Keys: `contract`, `plan`, `current` (Period or None), `history` (past periods, newest
    first), `enablement` (the current EnablementYear or None), `enablement_history` (past
    years, newest first), `rate` and `overage_billed`. Four queries at most.
    """
    contract = contract_active(organization=organization, on=today)
    if contract is None:
        return None
    plan = contract.plan
    if plan.monthly_support_hours is None and plan.enablement_hours_per_year is None:
        return None
    entries = _contract_entries(contract, today=today)
    periods: list[Period] = []
    if plan.monthly_support_hours is not None:
        periods = build_periods(contract, contract.pooled_months.all(), entries, today=today)
    years = build_enablement_years(contract, entries, today=today)
    current = current_period(periods)
    history = [period for period in periods if period.end < today]
    return {
        "contract": contract,
        "organization": organization,
        "plan": plan,
        "current": current,
        "history": list(reversed(history)),
        "enablement": next((year for year in years if year.current), None),
        "enablement_history": [year for year in reversed(years) if not year.current],
        "rate": contract.overage_hourly_rate,
        "overage_billed": plan.overage_billed,
        "warning_thresholds": WARNING_THRESHOLDS,
    }


def overage_by_organization(
    month_start: dt.date,
    month_end: dt.date,
    *,
    today: dt.date | None = None,
    organization: Organization | None = None,
) -> list[OverageRow]:
    """Periods with overage whose first day falls between `month_start` and `month_end`
    (inclusive), for every contract that sells monthly hours, by organization then period.

    A pooled period is reported once, in the month it starts. `closed` says whether the
    period has ended in the organization's zone (open periods can still grow). Three queries.
    """
    if month_end < month_start:
        return []
    rows = (
        Contract.objects.filter(plan__monthly_support_hours__isnull=False, starts_on__lte=month_end)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=month_start))
        .select_related("organization", "plan")
        .order_by("organization__name", "organization_id", "starts_on")
    )
    if organization is not None:
        rows = rows.filter(organization=organization)
    contracts = list(rows)
    if not contracts:
        return []
    pools: dict[int, list[PooledMonths]] = defaultdict(list)
    for pool in PooledMonths.objects.filter(contract__in=[c.pk for c in contracts]):
        pools[pool.contract_id].append(pool)
    # Periods starting in the range can end up to (poolable months) later.
    longest = max(c.plan.poolable_months for c in contracts)
    last_day = add_months(month_end, longest) + dt.timedelta(days=1)
    first_day = min(max(c.starts_on, month_start) for c in contracts)
    entries = _entries({c.organization_id for c in contracts}, first=first_day, last=last_day)
    by_organization: dict[int, list[TimeEntry]] = defaultdict(list)
    for entry in entries:
        by_organization[entry.ticket.organization_id].append(entry)
    overage: list[OverageRow] = []
    for contract in contracts:
        organization = contract.organization
        local = today or local_today(organization)
        anchor = contract.starts_on
        first_index = month_index(anchor, max(month_start, anchor))
        if add_months(anchor, first_index) < month_start:
            first_index += 1  # that month started before the range: it belongs to another
        last_index = month_index(anchor, _last_day(contract, month_end))
        if last_index < first_index:
            continue
        periods = build_periods(
            contract,
            pools[contract.pk],
            by_organization[organization.pk],
            today=local,
            first_index=first_index,
            last_index=last_index,
        )
        for period in periods:
            if month_start <= period.start <= month_end and period.overage_minutes:
                overage.append(
                    OverageRow(organization, contract, period, closed=period.end < local)
                )
    return overage
