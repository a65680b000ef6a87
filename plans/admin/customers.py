"""Organizations, contracts, named contacts (written through plans.services), preferences."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from operator import attrgetter
from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from helpdesk.adminkit import ReadOnlyAdmin, ReadOnlyInline
from helpdesk.http import signed_in_user
from plans.admin.display import EMPTY, add_link, admin_link
from plans.admin.fields import FormFieldsMixin
from plans.models import (
    Contract,
    ContractCondition,
    NamedContact,
    NamedContactChange,
    Organization,
    PooledMonths,
    UserProfile,
)
from plans.selectors import contract_active
from plans.services import named_contact_add, named_contact_remove, named_contact_set_role


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
        "discount_percent",
    ]
    autocomplete_fields = ["plan"]
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Contract]:
        return super().get_queryset(request).select_related("plan__policy", "organization")


class NamedContactInline(ReadOnlyInline):
    model = NamedContact
    verbose_name_plural = "named contacts (add, remove or change them on their own pages)"
    fields = ("contact", "email", "role", "added_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[NamedContact]:
        return super().get_queryset(request).select_related("user", "organization")

    @admin.display(description="contact")
    def contact(self, obj: NamedContact) -> SafeString:
        return admin_link(obj, obj.user)

    @admin.display(description="email")
    def email(self, obj: NamedContact) -> str:
        return obj.user.email or EMPTY


class NamedContactChangeInline(ReadOnlyInline):
    model = NamedContactChange
    verbose_name_plural = "named contact changes"
    fields = ("changed_at", "contact_user", "action", "role", "changed_by", "reason")
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
            .prefetch_related(Prefetch("contracts", queryset=contracts))
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


class ContractConditionInline(admin.TabularInline):
    """Whether the contract meets its plan's conditions (onboarding completed, SDK included)."""

    model = ContractCondition
    view_on_site = False
    extra = 0
    fields = ["condition", "met", "note", "recorded_at"]
    readonly_fields = ["recorded_at"]
    verbose_name_plural = "conditions of the plan (no row: the policy's presumption)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ContractCondition]:
        return super().get_queryset(request).select_related("condition", "contract__plan")


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
    autocomplete_fields = [
        "organization",
        "plan",
        "customer_success_manager",
        "technical_account_manager_user",
        "account_manager",
    ]
    date_hierarchy = "starts_on"
    fieldsets = [
        (None, {"fields": ["organization", "plan", "starts_on", "ends_on", "new_user"]}),
        (
            "Account team (empty: the organization's)",
            {
                "fields": [
                    "customer_success_manager",
                    "technical_account_manager",
                    "technical_account_manager_user",
                    "account_manager",
                ]
            },
        ),
        ("Onboarding", {"fields": ["onboarding_completed"]}),
        ("Billing", {"fields": ["overage_hourly_rate", "discount_percent"]}),
        (None, {"fields": ["notes"]}),
    ]
    inlines = [ContractConditionInline, PooledMonthsInline]
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
        super().clean()
        cleaned = self.cleaned_data
        error = self.service_error
        if error is not None:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
            else:
                self.add_error(None, error)
        return cleaned


class ServiceErrorAdminMixin(admin.ModelAdmin):
    """A save that goes through a service: when the service refuses it (ValidationError), the
    same POST is shown again with the reason on the form (`ServiceErrorForm`), never a 500."""

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


class NamedContactAddForm(ServiceErrorForm):
    reason = forms.CharField(
        required=False, max_length=300, help_text="Kept in the organization's contact change log."
    )


class NamedContactChangeForm(ServiceErrorForm):
    pass


@admin.register(NamedContact)
class NamedContactAdmin(ServiceErrorAdminMixin):
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

    def get_fields(self, request: HttpRequest, obj: NamedContact | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("organization", "user", "role", "reason")
        return ("organization", "user", "role", "added_at")

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

    def save_model(
        self, request: HttpRequest, obj: NamedContact, form: forms.ModelForm, change: bool
    ) -> None:
        if change:
            if "role" in form.changed_data:
                current = NamedContact.objects.select_related("organization", "user").get(pk=obj.pk)
                named_contact_set_role(
                    contact=current,
                    role=form.cleaned_data["role"],
                    changed_by=signed_in_user(request),
                )
            return
        contact = named_contact_add(
            organization=obj.organization,
            user=obj.user,
            role=obj.role,
            changed_by=signed_in_user(request),
            reason=form.cleaned_data.get("reason", ""),
        )
        # The admin goes on with `obj` (message, log entry, redirect): make it the saved row.
        obj.pk, obj.added_at = contact.pk, contact.added_at
        obj._state.adding, obj._state.db = False, contact._state.db

    def delete_model(self, request: HttpRequest, obj: NamedContact) -> None:
        named_contact_remove(
            contact=obj, changed_by=signed_in_user(request), reason="Removed in the admin."
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[NamedContact]) -> None:
        with transaction.atomic():
            for contact in queryset.select_related("organization", "user"):
                named_contact_remove(
                    contact=contact,
                    changed_by=signed_in_user(request),
                    reason="Removed in the admin.",
                )

    @admin.display(description="email", ordering="user__email")
    def email(self, obj: NamedContact) -> str:
        return obj.user.email or EMPTY


@admin.register(NamedContactChange)
class NamedContactChangeAdmin(ReadOnlyAdmin):
    """The append-only log: viewable, never added to, changed or deleted by hand."""

    list_display = ["changed_at", "organization", "contact_user", "action", "role", "changed_by"]
    list_select_related = ["organization", "contact_user", "changed_by"]
    list_filter = ["action", "role", "organization"]
    search_fields = ["contact_user__username", "organization__name", "reason"]
    date_hierarchy = "changed_at"
    fields = (
        "changed_at",
        "organization",
        "contact_user",
        "action",
        "role",
        "changed_by",
        "reason",
    )
    readonly_fields = fields


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
        return obj.user.email or EMPTY
