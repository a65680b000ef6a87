"""Support hours, targets and escalation rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from plans.admin import (
    EMPTY,
    FormFieldsMixin,
    admin_link,
)
from plans.models import Plan
from sla.admin.calendars import retarget_open_clocks
from sla.admin.fields import (
    SeverityLevelFilter,
    recipients_field,
    rule_offset_field,
    target_duration_field,
    target_text,
)
from sla.models import (
    EscalationRule,
    Metric,
    SupportHours,
    Target,
)
from sla.policy.schema import EMAIL, NOTIFY_ROLES

NO_GUARANTEE = "no guarantee"


class PlanScopedForm(forms.ModelForm):
    """Offer only the chosen plan's severities, categories and calendars (its policy's)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plan_id = self.data.get(self.add_prefix("plan")) if self.is_bound else None
        plan_id = str(plan_id or self.initial.get("plan") or "")
        plan = Plan.objects.filter(pk=int(plan_id)).first() if plan_id.isdigit() else None
        if plan is None:
            return
        for name, lookup in (
            ("severity", {"policy_id": plan.policy_id}),
            ("calendar", {"policy_id": plan.policy_id}),
            ("category", {"plan_id": plan.pk}),
        ):
            field = self.fields.get(name)
            if isinstance(field, forms.ModelChoiceField) and field.queryset is not None:
                field.queryset = field.queryset.filter(**lookup)


class TargetForm(PlanScopedForm):
    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        plan, severity = cleaned.get("plan"), cleaned.get("severity")
        if plan is None or severity is None or "category" in self.errors:
            return cleaned
        category = cleaned.get("category")
        taken = Target.objects.filter(plan=plan, severity=severity, category=category)
        if taken.exclude(pk=self.instance.pk).exists():
            where = f" ({category.name})" if category else ""
            self.add_error(
                "severity", f"{plan} already has a target for severity {severity.level}{where}."
            )
        return cleaned


class EscalationRuleForm(PlanScopedForm):
    def clean_notify(self) -> list[str]:
        recipients: list[str] = self.cleaned_data["notify"]
        for item in recipients:
            kind, _, rest = item.partition(":")
            if not (
                item in NOTIFY_ROLES
                or (kind == "group" and rest.strip())
                or (kind == "email" and EMAIL.match(rest))
            ):
                raise ValidationError(
                    f"{item!r} is not a recipient ({', '.join(NOTIFY_ROLES)}, "
                    "group:<name> or email:<address>)."
                )
        return recipients

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if {"after", "after_percent"} & set(self.errors):
            return cleaned
        after, percent = cleaned.get("after"), cleaned.get("after_percent")
        if (after is None) == (percent is None):
            self.add_error("after", "Give either a duration or a percentage of the target.")
            return cleaned
        if percent is not None and percent < 1:
            self.add_error("after_percent", "A percentage is at least 1.")
            return cleaned
        plan, severity, metric = cleaned.get("plan"), cleaned.get("severity"), cleaned.get("metric")
        if percent is None or plan is None or severity is None or not metric:
            return cleaned
        category = cleaned.get("category")
        rows = {
            t.category_id: t
            for t in Target.objects.filter(plan=plan, severity=severity).filter(
                Q(category__isnull=True) | Q(category=category)
            )
        }
        row = rows.get(category.pk if category else None) or rows.get(None)
        if row is None or getattr(row, metric) is None:
            self.add_error(
                "after_percent",
                f"{percent}% needs a {Metric(metric).label.lower()} target for severity "
                f"{severity.level}; give a duration instead.",
            )
        return cleaned


class TargetColumns:
    """Columns shared by the target changelist and the read-only table on the plan page."""

    @admin.display(description="severity", ordering="severity__level")
    def severity_text(self, obj: Target | EscalationRule) -> str:
        return f"{obj.severity.level} - {obj.severity.name}"

    @admin.display(description="category", ordering="category__name")
    def category_name(self, obj: Target | EscalationRule) -> str:
        return obj.category.name if obj.category is not None else "any"

    @admin.display(description="acknowledge", ordering="acknowledge")
    def acknowledge_text(self, obj: Target) -> str:
        return target_text(obj.acknowledge)

    @admin.display(description="first response", ordering="first_response")
    def first_response_text(self, obj: Target) -> str:
        return target_text(obj.first_response)

    @admin.display(description="resolution", ordering="resolution")
    def resolution_text(self, obj: Target) -> str:
        return target_text(obj.resolution)

    @admin.display(description="when", ordering="after")
    def when(self, obj: EscalationRule) -> str:
        return obj.when_text()

    @admin.display(description="notify")
    def notify_text(self, obj: EscalationRule) -> str:
        return ", ".join(obj.notify) or EMPTY

    @admin.display(description="")
    def edit(self, obj: Target | EscalationRule) -> SafeString:
        return admin_link(obj, "Edit")


@admin.register(SupportHours)
class SupportHoursAdmin(FormFieldsMixin, admin.ModelAdmin):
    form = PlanScopedForm
    list_display = ["plan", "policy_name", "calendar"]
    list_select_related = ["plan__policy", "calendar"]
    list_filter = ["plan__policy", "calendar"]
    search_fields = ["plan__name", "plan__slug", "calendar__name"]
    autocomplete_fields = ["plan"]
    fields = ["plan", "calendar"]

    @admin.display(description="policy", ordering="plan__policy__name")
    def policy_name(self, obj: SupportHours) -> str:
        return obj.plan.policy.name


@admin.register(Target)
class TargetAdmin(TargetColumns, FormFieldsMixin, admin.ModelAdmin):
    form = TargetForm
    actions = ["retarget"]

    @admin.action(
        description="Retarget open tickets' SLA clocks on these targets' plans",
        permissions=["change"],
    )
    def retarget(self, request: HttpRequest, queryset: QuerySet[Target]) -> None:
        ids = set(queryset.values_list("plan_id", flat=True))
        retarget_open_clocks(self, request, calendar_ids=set(), plan_ids=ids)

    list_display = [
        "plan",
        "policy_name",
        "severity_text",
        "category_name",
        "calendar",
        "acknowledge_text",
        "first_response_text",
        "resolution_text",
        "note",
    ]
    list_select_related = ["plan__policy", "severity", "category", "calendar"]
    list_filter = ["plan__policy", "plan", ("severity__level", SeverityLevelFilter), "calendar"]
    search_fields = ["plan__name", "plan__slug", "severity__name", "category__name", "note"]
    ordering = ["plan__policy__name", "plan__position", "severity__level", "category__position"]
    autocomplete_fields = ["plan"]
    fields = [
        "plan",
        "severity",
        "category",
        "calendar",
        "acknowledge",
        "first_response",
        "resolution",
        "note",
        "wording",
        "assigned_until_resolved",
    ]
    form_field_factories = {
        "acknowledge": target_duration_field,
        "first_response": target_duration_field,
        "resolution": target_duration_field,
    }
    view_on_site = False

    @admin.display(description="policy", ordering="plan__policy__name")
    def policy_name(self, obj: Target) -> str:
        return obj.plan.policy.name


@admin.register(EscalationRule)
class EscalationRuleAdmin(TargetColumns, FormFieldsMixin, admin.ModelAdmin):
    form = EscalationRuleForm
    list_display = [
        "plan",
        "severity_text",
        "category_name",
        "metric",
        "when",
        "notify_text",
        "move_to",
        "position",
    ]
    list_select_related = ["plan__policy", "severity", "category"]
    list_filter = ["plan__policy", "plan", ("severity__level", SeverityLevelFilter), "metric"]
    search_fields = ["plan__name", "plan__slug", "move_to"]
    ordering = ["plan__policy__name", "plan__position", "severity__level", "metric", "position"]
    autocomplete_fields = ["plan"]
    fields = [
        "plan",
        "severity",
        "category",
        "metric",
        "after",
        "after_percent",
        "notify",
        "move_to",
        "position",
    ]
    form_field_factories = {"after": rule_offset_field, "notify": recipients_field}
    view_on_site = False
