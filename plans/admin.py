"""Admin for plans: each policy as written, the plans' entitlement matrix, customers and contacts.

plans must not import sla (imports point tickets -> sla -> plans), so what sla owns about a plan or
a policy (support hours, targets, escalation rules, calendars) is added to these pages by
`sla/admin.py`, which re-registers `PlanAdmin` and `PolicyAdmin` as subclasses with more inlines.

JSON lists are edited the way the policy files write them: channels as tick boxes, texts one per
line, severity levels as `1, 2`.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.contrib.admin.options import BaseModelAdmin
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.text import capfirst

from plans.models import (
    Channel,
    Contract,
    NamedContact,
    NamedContactChange,
    Organization,
    Plan,
    Policy,
    PooledMonths,
    Severity,
    TicketCategory,
    UserProfile,
)
from plans.selectors import contract_active
from plans.services import named_contact_add, named_contact_remove, named_contact_set_role

EMPTY = "-"

# --------------------------------------------------------------------------------------------
# Form fields: JSON lists as the policy files write them


class TextListField(forms.CharField):
    """A JSON list of texts, edited one per line (or separated by `separator`)."""

    def __init__(self, *, separator: str = "\n", hint: str = "", **kwargs: Any) -> None:
        self.separator = separator
        if separator == "\n":
            kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3, "cols": 60}))
            hint = hint or "One per line."
        else:
            kwargs.setdefault("widget", forms.TextInput(attrs={"size": 30}))
        kwargs["help_text"] = " ".join(part for part in (kwargs.get("help_text"), hint) if part)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            joiner = "\n" if self.separator == "\n" else f"{self.separator} "
            return joiner.join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[Any]:  # type: ignore[override]
        text = super().to_python(value)
        return [part.strip() for part in text.split(self.separator) if part.strip()]


class LevelsField(TextListField):
    """A JSON list of severity levels, edited as `1, 2, 3`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(separator=",", hint="Levels separated by commas, like 1, 2.", **kwargs)

    def to_python(self, value: Any) -> list[Any]:  # type: ignore[override]
        levels = []
        for part in super().to_python(value):
            if not part.isdigit() or int(part) < 1:
                raise ValidationError(f"{part!r} is not a severity level (a whole number from 1).")
            levels.append(int(part))
        return sorted(set(levels))


class ChannelsField(forms.MultipleChoiceField):
    """A JSON list of channels, as tick boxes."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        super().__init__(choices=Channel.choices, **kwargs)

    def to_python(self, value: Any) -> list[str]:
        chosen = set(super().to_python(value))
        return [channel for channel in Channel.values if channel in chosen]


class PolicyScopedChoiceField(forms.ModelChoiceField):
    """Plans, severities and calendars of several policies share names: say whose each one is."""

    def label_from_instance(self, obj: models.Model) -> str:
        return f"{obj.policy} · {obj}"  # type: ignore[attr-defined]


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: models.Model) -> str:
        assert isinstance(obj, TicketCategory)
        return f"{obj.plan.policy} · {obj.plan.name} · {obj.name}"


FieldFactory = Callable[..., forms.Field]


class FormFieldsMixin(BaseModelAdmin):
    """Use `form_field_factories` for named model fields; label related rows with their policy."""

    form_field_factories: ClassVar[dict[str, FieldFactory]] = {}

    def formfield_for_dbfield(
        self, db_field: models.Field, request: HttpRequest, **kwargs: Any
    ) -> forms.Field | None:
        factory = self.form_field_factories.get(db_field.name)
        if factory is None:
            return super().formfield_for_dbfield(db_field, request, **kwargs)
        return factory(
            label=capfirst(str(db_field.verbose_name)),
            help_text=db_field.help_text,
            required=not db_field.blank,
        )

    def formfield_for_foreignkey(
        self, db_field: models.ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        related = db_field.related_model
        if related is TicketCategory:
            kwargs.setdefault("form_class", CategoryChoiceField)
            kwargs.setdefault("queryset", TicketCategory.objects.select_related("plan__policy"))
        elif any(field.name == "policy" for field in related._meta.fields):
            kwargs.setdefault("form_class", PolicyScopedChoiceField)
            kwargs.setdefault("queryset", related._default_manager.select_related("policy"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# --------------------------------------------------------------------------------------------
# Display helpers, shared with sla/admin.py


def admin_link(obj: models.Model, text: object | None = None) -> SafeString:
    """A link to the object's change page."""
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, obj if text is None else text)


def changelist_link(model: str, text: object, **filters: object) -> SafeString:
    """A link to a changelist (`app_label.model`) with `field__id__exact=` style filters."""
    app_label, model_name = model.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    return format_html('<a href="{}?{}">{}</a>', url, urlencode(filters), text)


def add_link(model: str, text: str, **initial: object) -> SafeString:
    """A link to an add page with fields filled in from the query string."""
    app_label, model_name = model.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_add")
    return format_html('<a class="addlink" href="{}?{}">{}</a>', url, urlencode(initial), text)


def html_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> SafeString:
    """A read-only table; cells are escaped unless already safe (links)."""
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
    )
    if not body:
        return format_html("<p>{}</p>", "None yet.")
    head = format_html_join("", "<th>{}</th>", ((header,) for header in headers))
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


def channels_text(channels: list[str]) -> str:
    labels = dict(Channel.choices)
    return ", ".join(str(labels.get(channel, channel)) for channel in channels) or EMPTY


def levels_text(levels: list[int]) -> str:
    return ", ".join(str(level) for level in levels) or EMPTY


def unknown_levels(policy_id: int | None, levels: Iterable[int]) -> list[int]:
    """The levels that the policy defines no severity for."""
    if policy_id is None:
        return []
    known = set(Severity.objects.filter(policy_id=policy_id).values_list("level", flat=True))
    return sorted(set(levels) - known)


# --------------------------------------------------------------------------------------------
# Policy and severities


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
            {"fields": ["not_covered", "severity_clarification", "unwarranted_escalation_charges"]},
        ),
        ("Plans", {"fields": ["plans_table"]}),
    ]
    inlines = [SeverityInline]
    form_field_factories = {"not_covered": TextListField}
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


# --------------------------------------------------------------------------------------------
# Plans and categories


class PlanForm(forms.ModelForm):
    """A plan's base plan and severity levels must be its own policy's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields.get("base_plan")
        policy_id = self.instance.policy_id or self.initial.get("policy")
        if isinstance(field, forms.ModelChoiceField) and str(policy_id or "").isdigit():
            field.queryset = (
                Plan.objects.select_related("policy")
                .filter(policy_id=policy_id)
                .exclude(pk=self.instance.pk)
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
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
        "contract_count",
    ]
    list_select_related = ["policy", "base_plan"]
    list_filter = ["policy", "technical_account_manager", "priority_routing"]
    search_fields = ["name", "slug", "policy__name"]
    ordering = ["policy__name", "position", "name"]
    readonly_fields = ["contracts_link"]
    fieldsets = [
        (None, {"fields": ["policy", "name", "slug", "position", "description", "notes"]}),
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
                    "enablement_hours_per_year",
                ]
            },
        ),
        ("Onboarding", {"fields": ["assisted_onboarding", "base_plan"]}),
        ("Customers", {"fields": ["contracts_link"]}),
    ]
    inlines = [TicketCategoryInline]
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
        cleaned = super().clean()
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


# --------------------------------------------------------------------------------------------
# Organizations and contracts


class ContractInline(FormFieldsMixin, admin.TabularInline):
    model = Contract
    view_on_site = False
    extra = 0
    fields = [
        "plan",
        "starts_on",
        "ends_on",
        "onboarding_completed",
        "technical_account_manager",
        "overage_hourly_rate",
    ]
    autocomplete_fields = ["plan"]
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Contract]:
        return super().get_queryset(request).select_related("plan__policy", "organization")


class ReadOnlyInline(admin.TabularInline):
    """Rows shown as a table: changed elsewhere (through the services), never here."""

    extra = 0
    can_delete = False
    view_on_site = False

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


class NamedContactInline(ReadOnlyInline):
    model = NamedContact
    verbose_name_plural = "named contacts (add, remove or change them on their own pages)"
    fields = ["contact", "email", "role", "added_at"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[NamedContact]:
        return super().get_queryset(request).select_related("user", "organization")

    @admin.display(description="contact")
    def contact(self, obj: NamedContact) -> SafeString:
        return admin_link(obj, obj.user)

    @admin.display(description="email")
    def email(self, obj: NamedContact) -> str:
        return obj.user.email or EMPTY  # type: ignore[attr-defined]


class NamedContactChangeInline(ReadOnlyInline):
    model = NamedContactChange
    verbose_name_plural = "named contact changes"
    fields = ["changed_at", "contact_user", "action", "role", "changed_by", "reason"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[NamedContactChange]:
        return (
            super()
            .get_queryset(request)
            .select_related("contact_user", "changed_by", "organization")
        )


def current_contract(organization: Organization, contracts: Iterable[Contract]) -> Contract | None:
    """`contract_active` over already-fetched contracts (keeps the changelist to one query)."""
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(organization.time_zone))
    in_force = [
        c for c in contracts if c.starts_on <= today and (c.ends_on is None or c.ends_on >= today)
    ]
    return max(in_force, key=attrgetter("starts_on"), default=None)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "current_plan",
        "contact_count",
        "time_zone",
        "customer_success_manager",
        "technical_account_manager",
        "unwarranted_escalations",
    ]
    list_select_related = ["customer_success_manager", "technical_account_manager"]
    search_fields = ["name", "slug"]
    autocomplete_fields = ["customer_success_manager", "technical_account_manager"]
    readonly_fields = ["contact_allowance"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "time_zone"]}),
        ("Account team", {"fields": ["customer_success_manager", "technical_account_manager"]}),
        ("Named contacts", {"fields": ["contact_allowance"]}),
    ]
    inlines = [ContractInline, NamedContactInline, NamedContactChangeInline]
    view_on_site = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        contracts = Contract.objects.select_related("plan")
        return (
            super()
            .get_queryset(request)
            .annotate(contact_total=Count("contacts", distinct=True))
            .annotate(
                # Counted through the reverse relation: plans imports no ticket code.
                unwarranted_total=Count(
                    "customer_escalations",
                    filter=Q(customer_escalations__unwarranted=True),
                    distinct=True,
                )
            )
            .prefetch_related(Prefetch("contracts", queryset=contracts))
        )

    @admin.display(description="unwarranted escalations", ordering="unwarranted_total")
    def unwarranted_escalations(self, obj: Organization) -> SafeString | int:
        total = obj.unwarranted_total  # type: ignore[attr-defined]
        if not total:
            return 0
        return changelist_link(
            "tickets.customerescalation",
            total,
            organization__id__exact=obj.pk,
            unwarranted__exact=1,
        )

    @admin.display(description="plan today")
    def current_plan(self, obj: Organization) -> str:
        contract = current_contract(obj, obj.contracts.all())
        return contract.plan.name if contract else "no contract"

    @admin.display(description="named contacts", ordering="contact_total")
    def contact_count(self, obj: Organization) -> int:
        return obj.contact_total  # type: ignore[attr-defined]

    @admin.display(description="allowance")
    def contact_allowance(self, obj: Organization) -> SafeString | str:
        if obj.pk is None:
            return "Save the organization and add a contract first."
        count = obj.contacts.count()
        contract = contract_active(organization=obj)
        if contract is None:
            text = f"{count} named contact(s); no contract in force, so none can be added."
        elif contract.plan.named_contacts is None:
            text = f"{count} named contact(s); the {contract.plan} plan sets no limit."
        else:
            limit = contract.plan.named_contacts
            text = f"{count} of {limit} named contact(s) allowed by the {contract.plan} plan."
        return format_html(
            "{} {}",
            text,
            add_link("plans.namedcontact", "Add a named contact", organization=obj.pk),
        )


class PooledMonthsInline(admin.TabularInline):
    """Billing months whose support hours are pooled by agreement (up to the plan's limit)."""

    model = PooledMonths
    view_on_site = False
    extra = 0
    fields = ["first_month", "months", "agreed_by", "note"]
    autocomplete_fields = ["agreed_by"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PooledMonths]:
        return super().get_queryset(request).select_related("contract", "agreed_by")


@admin.register(Contract)
class ContractAdmin(FormFieldsMixin, admin.ModelAdmin):
    list_display = [
        "organization",
        "plan",
        "policy_name",
        "starts_on",
        "ends_on",
        "onboarding_completed",
        "support_level",
        "technical_account_manager",
    ]
    list_select_related = ["organization", "plan__policy", "plan__base_plan"]
    list_filter = ["plan__policy", "plan", "onboarding_completed", "technical_account_manager"]
    search_fields = ["organization__name", "plan__name", "plan__slug"]
    autocomplete_fields = ["organization", "plan"]
    date_hierarchy = "starts_on"
    fields = [
        "organization",
        "plan",
        "starts_on",
        "ends_on",
        "onboarding_completed",
        "technical_account_manager",
        "overage_hourly_rate",
        "notes",
    ]
    inlines = [PooledMonthsInline]
    view_on_site = False

    @admin.display(description="policy", ordering="plan__policy__name")
    def policy_name(self, obj: Contract) -> str:
        return obj.plan.policy.name

    @admin.display(description="support level today")
    def support_level(self, obj: Contract) -> str:
        """The plan whose support applies: the base tier until onboarding is completed."""
        if obj.plan.base_plan_id is not None and not obj.onboarding_completed:
            return f"{obj.plan.base_plan} (until onboarding)"
        return obj.plan.name


# --------------------------------------------------------------------------------------------
# Named contacts: every write goes through plans.services

# The service's ValidationError from a failed save, kept on the request for the second attempt.
SERVICE_ERROR = "_plans_admin_service_error"


class ServiceErrorForm(forms.ModelForm):
    """Shows the ValidationError the service raised when this same POST was first saved."""

    service_error: ClassVar[ValidationError | None] = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        error = self.service_error
        if error is not None:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
            else:
                self.add_error(None, error)
        return cleaned


class NamedContactAddForm(ServiceErrorForm):
    reason = forms.CharField(
        required=False, max_length=300, help_text="Kept in the organization's contact change log."
    )


class NamedContactChangeForm(ServiceErrorForm):
    pass


@admin.register(NamedContact)
class NamedContactAdmin(admin.ModelAdmin):
    """Adding, removing and re-roling contacts go through the services, which keep the limit
    and the change log.

    The plan's limit is checked by `named_contact_add` under a lock, in `save_model`, which is
    after the form was validated. When it refuses, the admin's transaction is rolled back and the
    same POST is processed once more with the error attached to the form, which then shows it as
    a form error (status 200, nothing saved) instead of a server error.
    """

    list_display = ["user", "email", "organization", "role", "added_at"]
    list_select_related = ["user", "organization"]
    list_filter = ["role", "organization"]
    search_fields = [
        "user__username",
        "user__email",
        "user__first_name",
        "user__last_name",
        "organization__name",
    ]
    autocomplete_fields = ["organization", "user"]
    date_hierarchy = "added_at"
    add_form = NamedContactAddForm
    form = NamedContactChangeForm
    view_on_site = False

    def get_fields(self, request: HttpRequest, obj: NamedContact | None = None) -> list[str]:
        if obj is None:
            return ["organization", "user", "role", "reason"]
        return ["organization", "user", "role", "added_at"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: NamedContact | None = None
    ) -> list[str]:
        return [] if obj is None else ["organization", "user", "added_at"]

    def get_form(
        self,
        request: HttpRequest,
        obj: NamedContact | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm]:
        kwargs["form"] = self.form if obj is not None else self.add_form
        form = super().get_form(request, obj, change, **kwargs)
        error = getattr(request, SERVICE_ERROR, None)
        if error is None:
            return form
        return type(form.__name__, (form,), {"service_error": error})

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            if request.method != "POST" or hasattr(request, SERVICE_ERROR):
                raise
            # super() rolled its transaction back; validate the same POST again, with the reason.
            setattr(request, SERVICE_ERROR, error)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(
        self, request: HttpRequest, obj: NamedContact, form: forms.ModelForm, change: bool
    ) -> None:
        if change:
            if "role" in form.changed_data:
                current = NamedContact.objects.select_related("organization", "user").get(pk=obj.pk)
                named_contact_set_role(
                    contact=current, role=form.cleaned_data["role"], changed_by=request.user
                )
            return
        contact = named_contact_add(
            organization=obj.organization,
            user=obj.user,
            role=obj.role,
            changed_by=request.user,
            reason=form.cleaned_data.get("reason", ""),
        )
        # The admin goes on with `obj` (message, log entry, redirect): make it the saved row.
        obj.pk, obj.added_at = contact.pk, contact.added_at
        obj._state.adding, obj._state.db = False, contact._state.db

    def delete_model(self, request: HttpRequest, obj: NamedContact) -> None:
        named_contact_remove(contact=obj, changed_by=request.user, reason="Removed in the admin.")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[NamedContact]) -> None:
        with transaction.atomic():
            for contact in queryset.select_related("organization", "user"):
                named_contact_remove(
                    contact=contact, changed_by=request.user, reason="Removed in the admin."
                )

    @admin.display(description="email", ordering="user__email")
    def email(self, obj: NamedContact) -> str:
        return obj.user.email or EMPTY  # type: ignore[attr-defined]


@admin.register(NamedContactChange)
class NamedContactChangeAdmin(admin.ModelAdmin):
    """The append-only log: viewable, never added to, changed or deleted by hand."""

    list_display = ["changed_at", "organization", "contact_user", "action", "role", "changed_by"]
    list_select_related = ["organization", "contact_user", "changed_by"]
    list_filter = ["action", "role", "organization"]
    search_fields = ["contact_user__username", "organization__name", "reason"]
    date_hierarchy = "changed_at"
    fields = [
        "changed_at",
        "organization",
        "contact_user",
        "action",
        "role",
        "changed_by",
        "reason",
    ]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: NamedContactChange | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: NamedContactChange | None = None
    ) -> bool:
        return False


# --------------------------------------------------------------------------------------------
# People's preferences


class TimeZoneChoiceField(forms.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        zones = sorted(zoneinfo.available_timezones())
        super().__init__(choices=[(zone, zone) for zone in zones], **kwargs)


@admin.register(UserProfile)
class UserProfileAdmin(FormFieldsMixin, admin.ModelAdmin):
    """Each person's display zone: times are shown in it, with the zone named."""

    list_display = ["user", "email", "time_zone"]
    list_select_related = ["user"]
    list_filter = ["time_zone"]
    search_fields = ["user__username", "user__email", "time_zone"]
    autocomplete_fields = ["user"]
    fields = ["user", "time_zone"]
    form_field_factories = {"time_zone": TimeZoneChoiceField}
    view_on_site = False

    @admin.display(description="email", ordering="user__email")
    def email(self, obj: UserProfile) -> str:
        return obj.user.email or EMPTY  # type: ignore[attr-defined]
