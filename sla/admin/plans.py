"""What sla adds to the plan and policy pages."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from helpdesk.adminkit import ReadOnlyInline
from plans import admin as plans_admin
from plans.admin import (
    EMPTY,
    FormFieldsMixin,
    add_link,
    admin_link,
    changelist_link,
    html_table,
)
from plans.models import Plan, Policy
from sla.admin.calendars import week_text
from sla.admin.targets import TargetColumns
from sla.models import (
    BusinessCalendar,
    EscalationRule,
    SupportHours,
    Target,
)

NO_GUARANTEE = "no guarantee"


class SupportHoursFormSet(BaseInlineFormSet):
    """Offer only the plan's policy's calendars."""

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        field = form.fields.get("calendar")
        if (
            isinstance(field, forms.ModelChoiceField)
            and field.queryset is not None
            and self.instance.policy_id is not None
        ):
            field.queryset = field.queryset.filter(policy_id=self.instance.policy_id)


class SupportHoursInline(FormFieldsMixin, admin.TabularInline):
    model = SupportHours
    view_on_site = False
    formset = SupportHoursFormSet
    fields = ["calendar"]
    max_num = 1
    can_delete = False
    verbose_name_plural = "support hours (the calendar of targets that name none)"


class PlanTargetInline(TargetColumns, ReadOnlyInline):
    model = Target
    verbose_name_plural = "response targets"
    fields = (
        "severity_text",
        "category_name",
        "calendar",
        "acknowledge_text",
        "first_response_text",
        "resolution_text",
        "note",
        "edit",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Target]:
        return (
            super().get_queryset(request).select_related("plan", "severity", "category", "calendar")
        )


class PlanEscalationRuleInline(TargetColumns, ReadOnlyInline):
    model = EscalationRule
    verbose_name_plural = "escalation rules"
    fields = (
        "severity_text",
        "category_name",
        "metric",
        "when",
        "notify_text",
        "move_to",
        "edit",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[EscalationRule]:
        return super().get_queryset(request).select_related("plan", "severity", "category")


admin.site.unregister(Plan)


@admin.register(Plan)
class PlanAdmin(plans_admin.PlanAdmin):
    """The plans page with the plan's support hours, targets and escalation rules."""

    list_display = [*plans_admin.PlanAdmin.list_display, "support_calendar", "sla_rows"]
    list_select_related = [*plans_admin.PlanAdmin.list_select_related, "support_hours__calendar"]
    readonly_fields = [*plans_admin.PlanAdmin.readonly_fields, "sla_links"]
    fieldsets = [
        *plans_admin.PlanAdmin.fieldsets,
        ("Response targets & escalations", {"fields": ["sla_links"]}),
    ]
    inlines = [
        SupportHoursInline,
        *plans_admin.PlanAdmin.inlines,
        PlanTargetInline,
        PlanEscalationRuleInline,
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Plan]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                target_total=Count("targets", distinct=True),
                rule_total=Count("escalation_rules", distinct=True),
            )
        )

    @admin.display(description="support hours", ordering="support_hours__calendar__name")
    def support_calendar(self, obj: Plan) -> str:
        try:
            return obj.support_hours.calendar.name
        except SupportHours.DoesNotExist:
            return EMPTY

    @admin.display(description="targets / rules", ordering="target_total")
    def sla_rows(self, obj: Plan) -> SafeString:
        return format_html(
            "{} / {}",
            changelist_link("sla.target", obj.target_total, plan__id__exact=obj.pk),  # type: ignore[attr-defined]
            changelist_link("sla.escalationrule", obj.rule_total, plan__id__exact=obj.pk),  # type: ignore[attr-defined]
        )

    @admin.display(description="targets and rules")
    def sla_links(self, obj: Plan) -> SafeString | str:
        if obj.pk is None:
            return "Save the plan first; its targets and escalation rules are listed below."
        return format_html(
            "{} · {} · {} · {}",
            changelist_link("sla.target", "All targets of this plan", plan__id__exact=obj.pk),
            changelist_link(
                "sla.escalationrule", "All escalation rules of this plan", plan__id__exact=obj.pk
            ),
            add_link("sla.target", "Add a target", plan=obj.pk),
            add_link("sla.escalationrule", "Add an escalation rule", plan=obj.pk),
        )


admin.site.unregister(Policy)


@admin.register(Policy)
class PolicyAdmin(plans_admin.PolicyAdmin):
    """The policy page with its calendars and links to its targets and escalation rules."""

    readonly_fields = [*plans_admin.PolicyAdmin.readonly_fields, "calendars_table", "sla_links"]
    fieldsets = [
        *plans_admin.PolicyAdmin.fieldsets,
        ("Support hours", {"fields": ["calendars_table"]}),
        ("Response targets & escalations", {"fields": ["sla_links"]}),
    ]

    @admin.display(description="calendars")
    def calendars_table(self, obj: Policy) -> SafeString | str:
        if obj.pk is None:
            return "Save the policy first."
        calendars = BusinessCalendar.objects.filter(policy=obj).prefetch_related("periods")
        table = html_table(
            ["calendar", "slug", "time zone", "weekly hours", "public holidays of"],
            (
                (
                    admin_link(calendar),
                    calendar.slug,
                    calendar.timezone,
                    "always open" if calendar.always_open else week_text(calendar.periods.all()),
                    ", ".join(calendar.holiday_countries) or EMPTY,
                )
                for calendar in calendars
            ),
        )
        add = add_link("sla.businesscalendar", "Add a calendar", policy=obj.pk)
        return format_html("{}<p>{}</p>", table, add)

    @admin.display(description="of every plan")
    def sla_links(self, obj: Policy) -> SafeString | str:
        if obj.pk is None:
            return EMPTY
        links = [
            ("sla.target", "Response targets"),
            ("sla.escalationrule", "Escalation rules"),
            ("sla.supporthours", "Support hours"),
        ]
        return format_html_join(
            " · ",
            "{}",
            (
                (changelist_link(model, text, plan__policy__id__exact=obj.pk),)
                for model, text in links
            ),
        )
