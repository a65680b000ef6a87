"""What a plan promises for one severity (and category): targets, calendar, escalation rules.

`sla_terms(...)` reads the rows once and returns a `SlaTerms` value that answers due instants and
escalation instants for any start with clock arithmetic alone, so a batch of thousands of
questions about the same plan costs a handful of queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Q

from plans import policy_cache
from plans.models import Plan, Severity, TicketCategory
from sla import clock
from sla.calendars import clock_for, holidays_due
from sla.models import BusinessCalendar, EscalationRule, Metric, SupportHours, Target

METRICS: tuple[str, ...] = tuple(Metric.values)


class TermsError(ValueError):
    """The question names something the policy does not have."""


@dataclass(frozen=True)
class RuleTerms:
    rule_id: int
    metric: str
    after: dt.timedelta | None
    after_percent: int | None
    notify: tuple[str, ...]
    move_to: str

    def offset(self, target: dt.timedelta | None) -> dt.timedelta | None:
        """Business time after the start at which the rule fires; None if it cannot."""
        if self.after is not None:
            return self.after
        if target is None or self.after_percent is None:
            return None
        return target * self.after_percent / 100


@dataclass(frozen=True)
class Escalation:
    rule: RuleTerms
    at: dt.datetime


@dataclass(frozen=True)
class SlaTerms:
    plan_slug: str
    severity_level: int
    category_slug: str | None
    calendar_id: int
    calendar: clock.BusinessCalendar
    targets: dict[str, dt.timedelta | None]
    rules: tuple[RuleTerms, ...]
    # The customer's zone where the calendar follows it (local business hours), else "".
    time_zone: str = ""
    # The calendar's row, so new clocks point at it without loading it again.
    calendar_row: BusinessCalendar | None = field(default=None, compare=False, repr=False)

    def due(self, metric: str, start: dt.datetime) -> dt.datetime | None:
        target = self.targets[metric]
        return None if target is None else self.calendar.add(start, target)

    def escalations(self, start: dt.datetime) -> list[Escalation]:
        fired = []
        for rule in self.rules:
            offset = rule.offset(self.targets[rule.metric])
            if offset is not None:
                fired.append(Escalation(rule, self.calendar.add(start, offset)))
        return sorted(fired, key=lambda e: (e.at, e.rule.metric, e.rule.rule_id))


def _severity_row(plan: Plan, severity: int | Severity) -> Severity:
    """The plan's severity row: the one given when it is of the plan's policy (no query), else
    the row of the plan's policy with that level."""
    if isinstance(severity, Severity):
        if severity.policy_id == plan.policy_id:
            return severity
        severity = severity.level
    row = Severity.objects.filter(policy_id=plan.policy_id, level=severity).order_by().first()
    if row is None:
        levels = list(
            Severity.objects.filter(policy_id=plan.policy_id).values_list("level", flat=True)
        )
        raise TermsError(f"plan {plan.slug!r} has no severity {severity} (it has {levels})")
    return row


def _category_row(plan: Plan, category: str | TicketCategory | None) -> TicketCategory | None:
    if isinstance(category, TicketCategory):
        if category.plan_id == plan.pk:
            return category
        category = category.slug
    if not category:
        return None
    row = TicketCategory.objects.filter(plan=plan, slug=category).order_by().first()
    if row is None:
        raise TermsError(f"plan {plan.slug!r} has no category {category!r}")
    return row


@dataclass(frozen=True)
class _PolicyRows:
    """What the policy says for a plan x severity x category, as `sla_terms` reads it: the
    target row (None: no guarantee), the calendar row its clocks run on, the rules' terms.

    Kept in the process cache (`plans.policy_cache`) for plans read with a policy revision, so
    shared by every request: never change these rows (new clocks point at the calendar row,
    which assigning a foreign key does not change)."""

    target: Target | None
    calendar_row: BusinessCalendar
    rules: tuple[RuleTerms, ...]


def _policy_rows(
    plan: Plan, severity_row: Severity, category_row: TicketCategory | None
) -> _PolicyRows:
    # No ordering: the unique constraints leave one row per category (ordering would join the
    # plan, policy, severity and category tables for nothing).
    rows = (
        Target.objects.select_related("calendar")
        .filter(plan_id=plan.pk, severity_id=severity_row.pk)
        .order_by()
    )
    by_category = {row.category_id: row for row in rows}
    row = by_category.get(category_row.pk if category_row else None) or by_category.get(None)
    if row is not None:
        calendar_row = row.calendar
    else:
        hours = SupportHours.objects.select_related("calendar").filter(plan=plan).first()
        if hours is None:
            raise TermsError(f"plan {plan.slug!r} has no support hours")
        calendar_row = hours.calendar
    which = Q(category__isnull=True)  # rules for every category, and those for this one
    if category_row is not None:
        which |= Q(category_id=category_row.pk)
    rules = EscalationRule.objects.filter(which, plan_id=plan.pk, severity_id=severity_row.pk)
    return _PolicyRows(
        target=row,
        calendar_row=calendar_row,
        rules=tuple(
            RuleTerms(
                rule_id=r.pk,
                metric=r.metric,
                after=r.after,
                after_percent=r.after_percent,
                notify=tuple(r.notify),
                move_to=r.move_to,
            )
            for r in rules.order_by("metric", "position", "pk")
        ),
    )


def sla_terms(
    *,
    plan: Plan | str,
    severity: int | Severity,
    category: str | TicketCategory | None = None,
    around: dt.datetime | None = None,
    zone: str | None = None,
) -> SlaTerms:
    """The terms for a plan (object or slug), severity (level or row) and optional category
    (slug or row). Rows the caller already read (a new ticket's) are not read again.

    `zone`: the customer organization's time zone, for calendars of local business hours."""
    if isinstance(plan, str):
        found = Plan.objects.select_related("policy").filter(slug=plan).first()
        if found is None:
            raise TermsError(f"no plan {plan!r}")
        plan = found
    severity_row = _severity_row(plan, severity)
    level = severity_row.level
    category_row = _category_row(plan, category)
    if (
        category_row is not None
        and category_row.severity_levels
        and level not in category_row.severity_levels
    ):
        raise TermsError(
            f"category {category_row.slug!r} takes severities {category_row.severity_levels} only"
        )
    rows = policy_cache.cached(
        plan,
        ("sla_terms", plan.pk, severity_row.pk, category_row.pk if category_row else None),
        lambda: _policy_rows(plan, severity_row, category_row),
    )
    if policy_cache.revision_of(plan) is not None and holidays_due(rows.calendar_row, around):
        # `clock_for` is about to generate holidays and write the calendar row it is given:
        # never the shared one. This request reads its own (and the write moves the revision).
        rows = _policy_rows(plan, severity_row, category_row)
    calendar_row = rows.calendar_row
    guaranteed = category_row is None or category_row.sla_applies
    target = rows.target if guaranteed else None
    targets = {
        metric: target.duration_for(metric) if target is not None else None for metric in METRICS
    }
    return SlaTerms(
        plan_slug=plan.slug,
        severity_level=level,
        category_slug=category_row.slug if category_row else None,
        calendar_id=calendar_row.pk,
        calendar=clock_for(calendar_row, around=around, zone=zone),
        time_zone=zone if calendar_row.follows_organization and zone else "",
        calendar_row=calendar_row,
        targets=targets,
        rules=rows.rules,
    )
