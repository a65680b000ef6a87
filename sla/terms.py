"""What a plan promises for one severity (and category): targets, calendar, escalation rules.

`sla_terms(...)` reads the rows once and returns a `SlaTerms` value that answers due instants and
escalation instants for any start with clock arithmetic alone, so a batch of thousands of
questions about the same plan costs a handful of queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from plans.models import Plan, Severity, TicketCategory
from sla import clock
from sla.calendars import clock_for
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


def sla_terms(
    *,
    plan: Plan | str,
    severity: int,
    category: str | None = None,
    around: dt.datetime | None = None,
    zone: str | None = None,
) -> SlaTerms:
    """The terms for a plan (object or slug), severity level and optional category slug.

    `zone`: the customer organization's time zone, for calendars of local business hours."""
    if isinstance(plan, str):
        found = Plan.objects.select_related("policy").filter(slug=plan).first()
        if found is None:
            raise TermsError(f"no plan {plan!r}")
        plan = found
    if not Severity.objects.filter(policy_id=plan.policy_id, level=severity).exists():
        levels = list(
            Severity.objects.filter(policy_id=plan.policy_id).values_list("level", flat=True)
        )
        raise TermsError(f"plan {plan.slug!r} has no severity {severity} (it has {levels})")
    category_row = None
    if category:
        category_row = TicketCategory.objects.filter(plan=plan, slug=category).first()
        if category_row is None:
            raise TermsError(f"plan {plan.slug!r} has no category {category!r}")
        if category_row.severity_levels and severity not in category_row.severity_levels:
            raise TermsError(
                f"category {category!r} takes severities {category_row.severity_levels} only"
            )
    rows = Target.objects.select_related("calendar").filter(plan=plan, severity__level=severity)
    by_category = {row.category_id: row for row in rows}
    row = by_category.get(category_row.pk if category_row else None) or by_category.get(None)
    if row is not None:
        calendar_row = row.calendar
    else:
        hours = SupportHours.objects.select_related("calendar").filter(plan=plan).first()
        if hours is None:
            raise TermsError(f"plan {plan.slug!r} has no support hours")
        calendar_row = hours.calendar
    guaranteed = category_row is None or category_row.sla_applies
    targets = {
        metric: row.duration_for(metric) if row is not None and guaranteed else None
        for metric in METRICS
    }
    rules = EscalationRule.objects.filter(plan=plan, severity__level=severity)
    if category_row is None:
        rules = rules.filter(category__isnull=True)
    else:
        rules = rules.filter(category__in=[category_row]) | rules.filter(category__isnull=True)
    return SlaTerms(
        plan_slug=plan.slug,
        severity_level=severity,
        category_slug=category_row.slug if category_row else None,
        calendar_id=calendar_row.pk,
        calendar=clock_for(calendar_row, around=around, zone=zone),
        time_zone=zone if calendar_row.follows_organization and zone else "",
        calendar_row=calendar_row,
        targets=targets,
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
