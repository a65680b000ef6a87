"""Load a parsed policy into the database: upsert by slug, remove what the file dropped.

`load_policy_file(path, dry_run=...)` is all-or-nothing: it runs in one transaction, and a dry
run does the same work and rolls it back, so what it reports is exactly what a real load does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from django.db import models, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from helpdesk.formatting import policy_duration
from plans.models import Plan, PlanCondition, Policy, PolicyChange, Severity, TicketCategory
from plans.ranking import priorities_changed
from sla.calendars import (
    calendar_ensure_holidays,
    calendar_reset_holidays,
    calendar_touch,
    holiday_window,
)
from sla.ladders import ladder_gaps
from sla.models import (
    BusinessCalendar,
    Closure,
    EscalationRule,
    OpenPeriod,
    SupportHours,
    Target,
)
from sla.policy.schema import CalendarSpec, PlanSpec, PolicyError, PolicySpec, parse_policy

M = TypeVar("M", bound=models.Model)


@dataclass
class Change:
    action: str  # "create", "update", "remove"
    what: str
    detail: str = ""

    def __str__(self) -> str:
        sign = {"create": "+", "update": "~", "remove": "-"}[self.action]
        return f"{sign} {self.what}{': ' + self.detail if self.detail else ''}"


@dataclass
class LoadResult:
    policy: str
    changes: list[Change] = field(default_factory=list)
    dry_run: bool = False
    gaps: list[str] = field(default_factory=list)  # organizations a ladder would not reach

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)


class _Rollback(Exception):
    pass


def read_policy_file(path: Path) -> object:
    """YAML (which also reads JSON); a syntax error becomes a PolicyError naming the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError([f"{path}: cannot read the file ({exc.strerror})"]) from exc
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise PolicyError([f"{path}:{exc.lineno}: not valid JSON ({exc.msg})"]) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError([f"{path}{where}: not valid YAML ({problem})"]) from exc


def load_policy_file(path: Path, *, dry_run: bool = False, by: str = "") -> LoadResult:
    spec = parse_policy(read_policy_file(path), default_slug=path.stem)
    return policy_load(spec=spec, source=path.name, dry_run=dry_run, by=by)


def policy_load(
    *, spec: PolicySpec, source: str = "", dry_run: bool = False, by: str = ""
) -> LoadResult:
    """Load one policy; a run that changed something is recorded as a `PolicyChange` (who,
    when, what), in the same transaction."""
    result = LoadResult(policy=spec.slug, dry_run=dry_run)
    try:
        with transaction.atomic():
            _Loader(spec, source, result).run()
            plans = Plan.objects.filter(policy__slug=spec.slug)
            result.gaps = [str(gap) for gap in ladder_gaps(plans=plans)]
            if dry_run:
                raise _Rollback
            if result.changes:
                PolicyChange.objects.create(
                    policy=Policy.objects.filter(slug=spec.slug).first(),
                    policy_slug=spec.slug,
                    at=timezone.now(),
                    by=by or "unknown",
                    source=source[:300],
                    summary="\n".join(str(change) for change in result.changes),
                )
    except _Rollback:
        pass
    return result


class _Loader:
    def __init__(self, spec: PolicySpec, source: str, result: LoadResult) -> None:
        self.spec = spec
        self.source = source
        self.result = result
        self.errors: list[str] = []
        self.reranked_plans: set[int] = set()  # plans whose priority this load changed

    def record(self, action: str, what: str, detail: str = "") -> None:
        self.result.changes.append(Change(action, what, detail))

    def upsert(
        self,
        model: type[M],
        lookup: dict[str, Any],
        values: dict[str, Any],
        what: str,
    ) -> M:
        obj = model._default_manager.filter(**lookup).first()
        if obj is None:
            obj = model(**lookup, **values)
            obj.full_clean()
            obj.save()
            self.record("create", what)
            return obj
        changed = [name for name, value in values.items() if _differs(getattr(obj, name), value)]
        if changed:
            for name in changed:
                setattr(obj, name, values[name])
            obj.full_clean()
            obj.save()
            self.record("update", what, ", ".join(changed))
        return obj

    def remove(self, queryset: models.QuerySet, describe: Any) -> None:
        for obj in queryset:
            try:
                with transaction.atomic():
                    obj.delete()
            except ProtectedError:
                self.errors.append(f"{describe(obj)}: still in use, cannot remove it")
                continue
            self.record("remove", describe(obj))

    def run(self) -> None:
        spec = self.spec
        other = Plan.objects.filter(slug__in=[p.slug for p in spec.plans]).exclude(
            policy__slug=spec.slug
        )
        for plan in other.select_related("policy"):
            index = next(i for i, p in enumerate(spec.plans) if p.slug == plan.slug)
            self.errors.append(
                f"plans[{index}].slug: {plan.slug!r} already belongs to policy {plan.policy.slug!r}"
            )
        if self.errors:
            raise PolicyError(self.errors)
        policy = self.upsert(
            Policy,
            {"slug": spec.slug},
            {
                "name": spec.name,
                "not_covered": spec.not_covered,
                "severity_clarification": spec.severity_clarification,
                "unwarranted_escalation_charges": spec.unwarranted_escalation_charges,
                "unwarranted_warn_after": spec.unwarranted_warn_after,
                "unwarranted_period_months": spec.unwarranted_period_months,
                "unwarranted_charge": spec.unwarranted_charge,
                "notes": spec.notes,
                "includes": spec.includes,
                "prerequisites": spec.prerequisites,
                "contact": spec.contact,
                "email_severity_tag": spec.email_severity_tag,
                "email_default_severity": spec.email_default_severity,
                "source": self.source,
            },
            f"policy {spec.slug}",
        )
        calendars = {c.slug: self.calendar(policy, c) for c in spec.calendars}
        severities = {
            s.level: self.upsert(
                Severity,
                {"policy": policy, "level": s.level},
                {
                    "name": s.name,
                    "definition": s.definition,
                    "examples": s.examples,
                    "resolution": s.resolution,
                },
                f"severity {s.level}",
            )
            for s in spec.severities
        }
        plans = {p.slug: self.plan(policy, p, calendars, severities) for p in spec.plans}
        for plan_spec in spec.plans:
            base = plans[plan_spec.base_plan] if plan_spec.base_plan else None
            plan = plans[plan_spec.slug]
            if plan.base_plan_id != (base.pk if base else None):
                plan.base_plan = base
                plan.save(update_fields=["base_plan"])
                self.record("update", f"plan {plan.slug}", "base_plan")
        self.remove(
            Plan.objects.filter(policy=policy).exclude(slug__in=plans),
            lambda p: f"plan {p.slug}",
        )
        self.remove(
            Severity.objects.filter(policy=policy).exclude(level__in=severities),
            lambda s: f"severity {s.level}",
        )
        self.remove(
            BusinessCalendar.objects.filter(policy=policy).exclude(slug__in=calendars),
            lambda c: f"calendar {c.slug}",
        )
        if self.errors:
            raise PolicyError(self.errors)
        # The queue ranks tickets by their plan's priority: their stored rank follows it.
        priorities_changed(plan_ids=self.reranked_plans)
        if self.result.changes:
            Policy.objects.filter(pk=policy.pk).update(loaded_at=timezone.now())

    def calendar(self, policy: Policy, spec: CalendarSpec) -> BusinessCalendar:
        what = f"calendar {spec.slug}"
        before = BusinessCalendar.objects.filter(policy=policy, slug=spec.slug).first()
        if before is not None and before.holiday_countries != spec.holiday_countries:
            calendar_reset_holidays(calendar=before)
        calendar = self.upsert(
            BusinessCalendar,
            {"policy": policy, "slug": spec.slug},
            {
                "name": spec.name,
                "timezone": spec.timezone,
                "always_open": spec.always_open,
                "follows_organization": spec.follows_organization,
                "holiday_countries": spec.holiday_countries,
            },
            what,
        )
        have = set(calendar.periods.values_list("weekday", "start_minute", "end_minute"))
        want = set(spec.periods)
        if have != want:
            calendar.periods.all().delete()
            OpenPeriod.objects.bulk_create(
                OpenPeriod(calendar=calendar, weekday=w, start_minute=s, end_minute=e)
                for w, s, e in sorted(want)
            )
            if have:
                self.record("update", what, "hours")
            calendar_touch(calendar=calendar)
        extra = {closure.date: closure for closure in calendar.closures.filter(source="policy")}
        for day in spec.extra_closures:
            if day not in extra:
                Closure.objects.update_or_create(
                    calendar=calendar,
                    date=day,
                    defaults={"source": Closure.Source.POLICY, "active": True, "name": "Closed"},
                )
                self.record("create", f"{what} closure {day}")
        self.remove(
            calendar.closures.filter(source="policy").exclude(date__in=spec.extra_closures),
            lambda c: f"{what} closure {c.date}",
        )
        first, last = holiday_window()
        added = calendar_ensure_holidays(calendar=calendar, first_year=first, last_year=last)
        if added:
            self.record("create", f"{what} public holidays", f"{added} days {first}-{last}")
        return calendar

    def plan(
        self,
        policy: Policy,
        spec: PlanSpec,
        calendars: dict[str, BusinessCalendar],
        severities: dict[int, Severity],
    ) -> Plan:
        what = f"plan {spec.slug}"
        priority_before = (
            Plan.objects.filter(slug=spec.slug).values_list("priority", flat=True).first()
        )
        plan = self.upsert(
            Plan,
            {"slug": spec.slug},
            {
                "policy": policy,
                "name": spec.name,
                "description": spec.description,
                "position": spec.position,
                "priority": spec.priority,
                "notes": spec.notes,
                **spec.entitlements,
            },
            what,
        )
        if priority_before is not None and priority_before != plan.priority:
            self.reranked_plans.add(plan.pk)
        self.upsert(
            SupportHours,
            {"plan": plan},
            {"calendar": calendars[spec.calendar]},
            f"{what} support hours",
        )
        categories = {
            c.slug: self.upsert(
                TicketCategory,
                {"plan": plan, "slug": c.slug},
                {
                    "name": c.name,
                    "description": c.description,
                    "channels": c.channels,
                    "guarantee": c.guarantee,
                    "sla_applies": c.sla_applies,
                    "severity_levels": c.severity_levels,
                    "priority_flag": c.priority_flag,
                    "draws_enablement_hours": c.draws_enablement_hours,
                    "position": c.position,
                },
                f"{what} category {c.slug}",
            )
            for c in spec.categories
        }
        targets = []
        for t in spec.targets:
            category = categories[t.category] if t.category else None
            target = self.upsert(
                Target,
                {"plan": plan, "severity": severities[t.severity], "category": category},
                {
                    "calendar": calendars[t.calendar or spec.calendar],
                    "acknowledge": t.acknowledge,
                    "first_response": t.first_response,
                    "resolution": t.resolution,
                    "note": t.note,
                    "wording": t.wording,
                    "assigned_until_resolved": t.assigned_until_resolved,
                },
                f"{what} target severity {t.severity}{' ' + t.category if t.category else ''}",
            )
            targets.append(target.pk)
        self.remove(
            plan.targets.exclude(pk__in=targets).select_related("severity", "category"),
            lambda t: f"{what} target {t}",
        )
        rules = []
        for r in spec.escalations:
            rule = self.upsert(
                EscalationRule,
                {
                    "plan": plan,
                    "severity": severities[r.severity],
                    "category": categories[r.category] if r.category else None,
                    "metric": r.metric,
                    "after": r.after,
                    "after_percent": r.after_percent,
                },
                {"notify": r.notify, "move_to": r.move_to, "position": r.position},
                f"{what} escalation severity {r.severity} {r.metric} after "
                + (f"{r.after_percent}%" if r.after_percent else policy_duration(r.after)),
            )
            rules.append(rule.pk)
        self.remove(
            plan.escalation_rules.exclude(pk__in=rules).select_related("severity", "plan"),
            lambda r: f"{what} escalation {r}",
        )
        self.remove(
            plan.categories.exclude(slug__in=categories),
            lambda c: f"{what} category {c.slug}",
        )
        conditions = [
            self.upsert(
                PlanCondition,
                {"plan": plan, "slug": c.slug},
                {
                    "name": c.name,
                    "description": c.description,
                    "limit": c.limit,
                    "new_users_only": c.new_users_only,
                    "presumed_met": c.presumed_met,
                    "position": c.position,
                },
                f"{what} condition {c.slug}",
            ).pk
            for c in spec.conditions
        ]
        self.remove(
            plan.conditions.exclude(pk__in=conditions), lambda c: f"{what} condition {c.slug}"
        )
        return plan


def _differs(current: object, wanted: object) -> bool:
    if isinstance(current, models.Model) or isinstance(wanted, models.Model):
        return getattr(current, "pk", None) != getattr(wanted, "pk", None)
    return current != wanted
