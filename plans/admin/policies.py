"""Policies and severities."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from plans.admin.display import (
    EMPTY,
    add_link,
    admin_link,
    changelist_link,
    channels_text,
    html_table,
)
from plans.admin.fields import FormFieldsMixin, TextListField
from plans.models import (
    Policy,
    Severity,
)
from plans.ranking import priorities_changed


class SeverityInline(FormFieldsMixin, admin.TabularInline):
    model = Severity
    view_on_site = False
    extra = 0
    fields = ["level", "name", "definition", "examples"]
    form_field_factories = {"examples": TextListField}
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 3})}}


@admin.register(Policy)
class PolicyAdmin(FormFieldsMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "severity_count", "plan_count", "source", "loaded_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["loaded_at", "plans_table"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "source", "loaded_at", "notes"]}),
        (
            "What support covers",
            {
                "fields": [
                    "includes",
                    "not_covered",
                    "prerequisites",
                    "contact",
                    "severity_clarification",
                ]
            },
        ),
        (
            "Unwarranted escalations",
            {
                "fields": [
                    "unwarranted_escalation_charges",
                    "unwarranted_warn_after",
                    "unwarranted_period_months",
                    "unwarranted_charge",
                ]
            },
        ),
        ("Plans", {"fields": ["plans_table"]}),
    ]
    inlines = [SeverityInline]
    form_field_factories = {
        "not_covered": TextListField,
        "includes": TextListField,
        "prerequisites": TextListField,
    }
    view_on_site = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Policy]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                severity_total=Count("severities", distinct=True),
                plan_total=Count("plans", distinct=True),
            )
        )

    def save_formset(
        self, request: HttpRequest, form: forms.ModelForm, formset: BaseInlineFormSet, change: bool
    ) -> None:
        changed = {
            f.instance.pk
            for f in formset.forms
            if f.instance.pk is not None and "level" in f.changed_data
        }
        super().save_formset(request, form, formset, change)
        priorities_changed(severity_ids=changed)

    @admin.display(description="severities", ordering="severity_total")
    def severity_count(self, obj: Policy) -> int:
        return obj.severity_total  # type: ignore[attr-defined]

    @admin.display(description="plans", ordering="plan_total")
    def plan_count(self, obj: Policy) -> SafeString:
        return changelist_link("plans.plan", obj.plan_total, policy__id__exact=obj.pk)  # type: ignore[attr-defined]

    @admin.display(description="plans")
    def plans_table(self, obj: Policy) -> SafeString | str:
        if obj.pk is None:
            return "Save the policy first."
        plans = obj.plans.select_related("base_plan")
        table = html_table(
            ["plan", "slug", "channels", "named contacts", "until onboarding"],
            (
                (
                    admin_link(plan),
                    plan.slug,
                    channels_text(plan.channels),
                    "no limit" if plan.named_contacts is None else plan.named_contacts,
                    plan.base_plan or EMPTY,
                )
                for plan in plans
            ),
        )
        return format_html(
            "{}<p>{}</p>", table, add_link("plans.plan", "Add a plan", policy=obj.pk)
        )


@admin.register(Severity)
class SeverityAdmin(FormFieldsMixin, admin.ModelAdmin):
    list_display = ["level", "name", "policy", "definition"]
    list_display_links = ["level", "name"]
    list_select_related = ["policy"]
    list_filter = ["policy"]
    search_fields = ["name", "definition", "policy__name"]
    ordering = ["policy__name", "level"]
    fields = ["policy", "level", "name", "definition", "examples"]
    form_field_factories = {"examples": TextListField}

    def save_model(
        self, request: HttpRequest, obj: Severity, form: forms.ModelForm, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        if change and "level" in form.changed_data:
            priorities_changed(severity_ids={obj.pk})
