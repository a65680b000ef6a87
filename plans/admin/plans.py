"""Plans and ticket categories."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from helpdesk.http import parse_int
from plans.admin.display import EMPTY, changelist_link, channels_text, levels_text, unknown_levels
from plans.admin.fields import ChannelsField, FormFieldsMixin, LevelsField
from plans.models import (
    Plan,
    PlanCondition,
    TicketCategory,
)
from plans.ranking import priorities_changed


class PlanForm(forms.ModelForm):
    """A plan's base plan and severity levels must be its own policy's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("base_plan")
        policy_id = self.instance.policy_id or self.initial.get("policy")
        if isinstance(policy_id, str):  # ?policy= on the add page: any text at all
            policy_id = parse_int(policy_id, max_digits=18)
        if isinstance(field, forms.ModelChoiceField) and policy_id:
            field.queryset = (
                Plan.objects.select_related("policy")
                .filter(policy_id=int(policy_id))
                .exclude(pk=self.instance.pk)
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        policy = cleaned.get("policy")
        if policy is None:
            return cleaned
        base_plan = cleaned.get("base_plan")
        if base_plan is not None and base_plan.policy_id != policy.pk:
            self.add_error("base_plan", f"{base_plan} belongs to another policy.")
        if (
            base_plan is not None
            and self.instance.pk is not None
            and base_plan.pk == self.instance.pk
        ):
            self.add_error("base_plan", "A plan cannot be its own base plan.")
        for name in ("post_incident_report_levels", "customer_escalation_levels"):
            missing = unknown_levels(policy.pk, cleaned.get(name) or [])
            if missing:
                self.add_error(name, f"{policy} has no severity {levels_text(missing)}.")
        return cleaned


class CategoryFormSet(BaseInlineFormSet):
    """Categories accept only severity levels that the plan's policy defines."""

    def clean(self) -> None:
        super().clean()
        policy_id = self.instance.policy_id
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            missing = unknown_levels(policy_id, form.cleaned_data.get("severity_levels") or [])
            if missing:
                form.add_error("severity_levels", f"No severity {levels_text(missing)}.")


class TicketCategoryInline(FormFieldsMixin, admin.TabularInline):
    model = TicketCategory
    view_on_site = False
    formset = CategoryFormSet
    extra = 0
    fields = [
        "position",
        "slug",
        "name",
        "channels",
        "severity_levels",
        "sla_applies",
        "guarantee",
        "priority_flag",
        "draws_enablement_hours",
    ]
    show_change_link = True
    form_field_factories = {"channels": ChannelsField, "severity_levels": LevelsField}


class PlanConditionInline(admin.TabularInline):
    """Conditions the policy puts on the plan's support (contracts record whether they are met)."""

    model = PlanCondition
    view_on_site = False
    extra = 0
    fields = ["slug", "name", "limit", "new_users_only", "presumed_met", "description"]
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2})}}


@admin.register(Plan)
class PlanAdmin(FormFieldsMixin, admin.ModelAdmin):
    form = PlanForm
    list_display = [
        "name",
        "policy",
        "slug",
        "position",
        "channel_list",
        "named_contact_limit",
        "technical_account_manager",
        "base_plan",
        "priority",
        "contract_count",
    ]
    list_select_related = ["policy", "base_plan"]
    list_filter = ["policy", "technical_account_manager", "priority_routing"]
    search_fields = ["name", "slug", "policy__name"]
    ordering = ["policy__name", "position", "name"]
    readonly_fields = ["contracts_link"]
    fieldsets = [
        (
            None,
            {"fields": ["policy", "name", "slug", "position", "priority", "description", "notes"]},
        ),
        ("Channels", {"fields": ["channels", "self_help", "priority_routing"]}),
        (
            "People",
            {
                "fields": [
                    "customer_success_manager",
                    "technical_account_manager",
                    "account_manager",
                    "named_contacts",
                ]
            },
        ),
        (
            "Escalation & reports",
            {
                "fields": [
                    "development_escalation_priority",
                    "customer_escalation_levels",
                    "post_incident_report_levels",
                ]
            },
        ),
        (
            "Hour packages",
            {
                "fields": [
                    "monthly_support_hours",
                    "hours_rollover",
                    "poolable_months",
                    "overage_billed",
                    "all_time_billed",
                    "enablement_hours_per_year",
                    "enablement_hours_capped",
                ]
            },
        ),
        ("Onboarding", {"fields": ["assisted_onboarding", "base_plan"]}),
        ("Customers", {"fields": ["contracts_link"]}),
    ]
    inlines = [TicketCategoryInline, PlanConditionInline]
    form_field_factories = {
        "channels": ChannelsField,
        "post_incident_report_levels": LevelsField,
        "customer_escalation_levels": LevelsField,
    }
    view_on_site = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Plan]:
        return (
            super().get_queryset(request).annotate(contract_total=Count("contracts", distinct=True))
        )

    def save_model(
        self, request: HttpRequest, obj: Plan, form: forms.ModelForm, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        if change and "priority" in form.changed_data:
            priorities_changed(plan_ids={obj.pk})

    @admin.display(description="channels")
    def channel_list(self, obj: Plan) -> str:
        return channels_text(obj.channels)

    @admin.display(description="named contacts", ordering="named_contacts")
    def named_contact_limit(self, obj: Plan) -> str:
        return "no limit" if obj.named_contacts is None else str(obj.named_contacts)

    @admin.display(description="contracts", ordering="contract_total")
    def contract_count(self, obj: Plan) -> SafeString:
        return changelist_link("plans.contract", obj.contract_total, plan__id__exact=obj.pk)  # type: ignore[attr-defined]

    @admin.display(description="contracts")
    def contracts_link(self, obj: Plan) -> SafeString | str:
        if obj.pk is None:
            return EMPTY
        count = obj.contracts.count()
        return changelist_link("plans.contract", f"{count} contract(s)", plan__id__exact=obj.pk)


class TicketCategoryForm(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        plan = cleaned.get("plan")
        levels = cleaned.get("severity_levels") or []
        missing = unknown_levels(plan.policy_id if plan else None, levels)
        if missing:
            self.add_error("severity_levels", f"No severity {levels_text(missing)}.")
        return cleaned


@admin.register(TicketCategory)
class TicketCategoryAdmin(FormFieldsMixin, admin.ModelAdmin):
    form = TicketCategoryForm
    list_display = [
        "name",
        "slug",
        "plan_name",
        "policy_name",
        "channel_list",
        "level_list",
        "sla_applies",
        "guarantee",
        "position",
    ]
    list_select_related = ["plan__policy"]
    list_filter = ["plan__policy", "plan", "sla_applies", "draws_enablement_hours"]
    search_fields = ["name", "slug", "plan__name", "plan__slug"]
    ordering = ["plan__policy__name", "plan__position", "position"]
    autocomplete_fields = ["plan"]
    fields = [
        "plan",
        "slug",
        "name",
        "description",
        "position",
        "channels",
        "guarantee",
        "sla_applies",
        "severity_levels",
        "priority_flag",
        "draws_enablement_hours",
    ]
    form_field_factories = {"channels": ChannelsField, "severity_levels": LevelsField}

    @admin.display(description="plan", ordering="plan__name")
    def plan_name(self, obj: TicketCategory) -> str:
        return obj.plan.name

    @admin.display(description="policy", ordering="plan__policy__name")
    def policy_name(self, obj: TicketCategory) -> str:
        return obj.plan.policy.name

    @admin.display(description="channels")
    def channel_list(self, obj: TicketCategory) -> str:
        return channels_text(obj.channels)

    @admin.display(description="severity levels")
    def level_list(self, obj: TicketCategory) -> str:
        return levels_text(obj.severity_levels) if obj.severity_levels else "all"
