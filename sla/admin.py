"""Admin for sla: business calendars, support hours, response targets and escalation rules.

Durations read and are written as in the policy files (`1h30m`; empty: no guarantee) and open
periods as `HH:MM`. plans must not import sla, so this module also adds what sla owns to the plans
pages: `PlanAdmin` and `PolicyAdmin` are re-registered here as subclasses that show the plan's
support hours, targets and escalation rules, and the policy's calendars.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

import holidays
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from plans import admin as plans_admin
from plans.admin import (
    EMPTY,
    FormFieldsMixin,
    ReadOnlyInline,
    TextListField,
    add_link,
    admin_link,
    changelist_link,
    html_table,
)
from plans.models import Plan, Policy
from sla.calendars import calendar_touch
from sla.models import (
    BusinessCalendar,
    Closure,
    EscalationFiring,
    EscalationRule,
    Metric,
    OpenPeriod,
    SlaClock,
    SlaClockEvent,
    SupportHours,
    Target,
    Weekday,
    format_duration,
    minute_text,
)
from sla.policy.schema import EMAIL, NOTIFY_ROLES, parse_duration
from sla.services import clocks_recalculate, live_clock_count

NO_GUARANTEE = "no guarantee"

# --------------------------------------------------------------------------------------------
# Form fields: durations and times of day as the policy files write them


def duration_text(value: dt.timedelta) -> str:
    """`format_duration`, keeping any seconds (`45s`) so that editing loses nothing."""
    seconds = int(value.total_seconds()) % 60
    if not seconds:
        return format_duration(value)
    whole = value - dt.timedelta(seconds=seconds)
    return f"{format_duration(whole) if whole else ''}{seconds}s"


def target_text(value: dt.timedelta | None) -> str:
    return NO_GUARANTEE if value is None else format_duration(value)


class DurationTextField(forms.CharField):
    """A business-time duration written `30m`, `4h` or `1h30m`."""

    widget = forms.TextInput(attrs={"size": 8, "placeholder": "1h30m"})

    def __init__(self, *, hint: str = "Like 30m, 4h or 1h30m.", **kwargs: Any) -> None:
        kwargs["help_text"] = " ".join(part for part in (kwargs.get("help_text"), hint) if part)
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return duration_text(value) if isinstance(value, dt.timedelta) else value

    def to_python(self, value: Any) -> dt.timedelta | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_duration(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


def target_duration_field(**kwargs: Any) -> DurationTextField:
    return DurationTextField(hint="Like 30m, 4h or 1h30m; empty: no guarantee.", **kwargs)


def rule_offset_field(**kwargs: Any) -> DurationTextField:
    return DurationTextField(
        hint="Like 30m, 4h or 1h30m; or leave empty and give a percentage.", **kwargs
    )


def recipients_field(**kwargs: Any) -> TextListField:
    return TextListField(
        hint="One per line: assignee, queue, customer_success_manager, support_managers, "
        "group:<name> or email:<address>.",
        **kwargs,
    )


def holiday_codes_field(**kwargs: Any) -> TextListField:
    kwargs["help_text"] = "Public holidays from the holidays package: codes like GB-ENG, US."
    return TextListField(separator=",", **kwargs)


class SeverityLevelFilter(admin.AllValuesFieldListFilter):
    """`severity__level`, titled as such."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.title = "severity level"


class MinuteField(forms.CharField):
    """Minutes since local midnight, written `HH:MM` (`24:00` is the end of the day)."""

    widget = forms.TextInput(attrs={"size": 5, "placeholder": "HH:MM"})
    pattern = re.compile(r"^(\d{1,2}):(\d{2})$")

    def prepare_value(self, value: Any) -> Any:
        return minute_text(value) if isinstance(value, int) else value

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        match = self.pattern.match(text)
        if match is None:
            raise ValidationError(f"{text!r} is not a time like 09:00.")
        hours, minutes = int(match[1]), int(match[2])
        if minutes > 59 or hours * 60 + minutes > 1440:
            raise ValidationError(f"{text!r} is not a time of day (00:00 to 24:00).")
        return hours * 60 + minutes


# --------------------------------------------------------------------------------------------
# Business calendars


def week_text(periods: Iterable[OpenPeriod]) -> str:
    """`Mon-Fri 09:00-18:00; Sat 09:00-16:00`: days with the same hours run together."""
    by_day: dict[int, list[str]] = {}
    for period in periods:
        by_day.setdefault(period.weekday, []).append(period.text())
    short = {day.value: day.label[:3] for day in Weekday}
    runs: list[tuple[int, int, str]] = []
    for day in sorted(by_day):
        hours = ", ".join(by_day[day])
        if runs and runs[-1][1] == day - 1 and runs[-1][2] == hours:
            runs[-1] = (runs[-1][0], day, hours)
        else:
            runs.append((day, day, hours))
    return "; ".join(
        f"{short[first]}{'' if first == last else '-' + short[last]} {hours}"
        for first, last, hours in runs
    )


class OpenPeriodForm(forms.ModelForm):
    start_minute = MinuteField(label="Opens")
    end_minute = MinuteField(label="Closes", help_text="24:00 is the end of the day.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        start, end = cleaned.get("start_minute"), cleaned.get("end_minute")
        if start is not None and end is not None and end <= start:
            self.add_error(
                "end_minute",
                "Closes before it opens; write an overnight shift as two periods "
                "(22:00-24:00 and 00:00-06:00 the next day).",
            )
        return cleaned


class OpenPeriodInline(admin.TabularInline):
    model = OpenPeriod
    view_on_site = False
    form = OpenPeriodForm
    extra = 0
    fields = ["weekday", "start_minute", "end_minute"]


class ClosureInline(admin.TabularInline):
    model = Closure
    view_on_site = False
    extra = 0
    fields = ["date", "name", "source", "active"]
    verbose_name_plural = "closures (public holidays, policy dates, shutdowns)"


class BusinessCalendarForm(forms.ModelForm):
    def clean_holiday_countries(self) -> list[str]:
        codes: list[str] = self.cleaned_data["holiday_countries"]
        supported = holidays.list_supported_countries()
        for code in codes:
            country, _, subdivision = code.partition("-")
            if country not in supported:
                raise ValidationError(f"{country!r} is not a country the holidays package knows.")
            if subdivision and subdivision not in supported[country]:
                raise ValidationError(f"{subdivision!r} is not a subdivision of {country}.")
        return codes


def retarget_open_clocks(
    admin_model: admin.ModelAdmin,
    request: HttpRequest,
    *,
    calendar_ids: set[int],
    plan_ids: set[int],
) -> None:
    """Retarget the open clocks these calendars or plans' targets govern (met and breached
    history stays); the same as `manage.py recalculate_sla`."""
    checked = live_clock_count(calendar_ids=calendar_ids, plan_ids=plan_ids)
    changed = clocks_recalculate(calendar_ids=calendar_ids, plan_ids=plan_ids)
    admin_model.message_user(
        request, f"{checked} open clock(s) checked, {changed} retargeted.", messages.SUCCESS
    )


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(FormFieldsMixin, admin.ModelAdmin):
    form = BusinessCalendarForm
    actions = ["retarget"]

    @admin.action(description="Retarget open tickets' SLA clocks on these calendars")
    def retarget(self, request: HttpRequest, queryset: QuerySet[BusinessCalendar]) -> None:
        ids = set(queryset.values_list("pk", flat=True))
        retarget_open_clocks(self, request, calendar_ids=ids, plan_ids=set())

    list_display = [
        "name",
        "policy",
        "slug",
        "timezone",
        "always_open",
        "holiday_country_list",
        "period_count",
        "hours",
    ]
    list_select_related = ["policy"]
    list_filter = ["policy", "always_open"]
    search_fields = ["name", "slug", "policy__name", "timezone"]
    ordering = ["policy__name", "name"]
    fieldsets = [
        (None, {"fields": ["policy", "slug", "name", "timezone", "always_open"]}),
        (
            "Public holidays",
            {"fields": ["holiday_countries", "holiday_years", "updated_at"]},
        ),
    ]
    readonly_fields = ["holiday_years", "updated_at"]
    inlines = [OpenPeriodInline, ClosureInline]
    form_field_factories = {"holiday_countries": holiday_codes_field}
    view_on_site = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[BusinessCalendar]:
        return (
            super()
            .get_queryset(request)
            .annotate(period_total=Count("periods", distinct=True))
            .prefetch_related("periods")
        )

    @admin.display(description="holidays of")
    def holiday_country_list(self, obj: BusinessCalendar) -> str:
        return ", ".join(obj.holiday_countries) or EMPTY

    @admin.display(description="periods", ordering="period_total")
    def period_count(self, obj: BusinessCalendar) -> int:
        return obj.period_total  # type: ignore[attr-defined]

    @admin.display(description="weekly hours")
    def hours(self, obj: BusinessCalendar) -> str:
        if obj.always_open:
            return "always open"
        return week_text(obj.periods.all()) or "never open"

    @admin.display(description="holiday rows generated for")
    def holiday_years(self, obj: BusinessCalendar) -> str:
        if obj.holidays_from_year is None:
            return EMPTY
        return f"{obj.holidays_from_year}-{obj.holidays_to_year}"

    def save_related(
        self,
        request: HttpRequest,
        form: forms.ModelForm,
        formsets: list[BaseInlineFormSet],
        change: bool,
    ) -> None:
        from sla.calendars import (  # sla/clock.py is not in the tree yet
            calendar_ensure_holidays,
            calendar_reset_holidays,
            calendar_touch,
            holiday_window,
        )

        super().save_related(request, form, formsets, change)
        calendar = form.instance
        countries_changed = "holiday_countries" in form.changed_data
        if change and countries_changed:
            calendar_reset_holidays(calendar=calendar)
        if not change or countries_changed or "always_open" in form.changed_data:
            first, last = holiday_window()
            calendar_ensure_holidays(calendar=calendar, first_year=first, last_year=last)
        # Periods and closures changed after the calendar row was saved: rebuild every clock.
        calendar_touch(calendar=calendar)


@admin.register(Closure)
class ClosureAdmin(FormFieldsMixin, admin.ModelAdmin):
    list_display = ["date", "name", "calendar", "policy_name", "source", "active"]
    list_select_related = ["calendar__policy"]
    list_filter = ["calendar__policy", "calendar", "source", "active"]
    search_fields = ["name", "calendar__name"]
    date_hierarchy = "date"
    ordering = ["calendar__policy__name", "calendar__name", "date"]
    fields = ["calendar", "date", "name", "source", "active"]
    actions = ["keep_open", "close", "retarget"]

    @admin.action(description="Retarget open tickets' SLA clocks on these days' calendars")
    def retarget(self, request: HttpRequest, queryset: QuerySet[Closure]) -> None:
        ids = set(queryset.values_list("calendar_id", flat=True))
        retarget_open_clocks(self, request, calendar_ids=ids, plan_ids=set())

    @admin.display(description="policy", ordering="calendar__policy__name")
    def policy_name(self, obj: Closure) -> str:
        return obj.calendar.policy.name

    @admin.action(description="Keep open on the selected days (untick active)")
    def keep_open(self, request: HttpRequest, queryset: QuerySet[Closure]) -> None:
        self._set_active(request, queryset, active=False)

    @admin.action(description="Close on the selected days (tick active)")
    def close(self, request: HttpRequest, queryset: QuerySet[Closure]) -> None:
        self._set_active(request, queryset, active=True)

    def _set_active(self, request: HttpRequest, queryset: QuerySet[Closure], active: bool) -> None:
        with transaction.atomic():
            calendar_ids = set(queryset.values_list("calendar_id", flat=True))
            count = queryset.update(active=active)
            self._touch(calendar_ids)
        self.message_user(request, f"{count} closure(s) updated.", messages.SUCCESS)

    def _touch(self, calendar_ids: Iterable[int]) -> None:
        for calendar in BusinessCalendar.objects.filter(pk__in=set(calendar_ids)):
            calendar_touch(calendar=calendar)

    def save_model(
        self, request: HttpRequest, obj: Closure, form: forms.ModelForm, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        # A closure moved to another calendar changes both.
        self._touch({obj.calendar_id, form.initial.get("calendar") or obj.calendar_id})

    def delete_model(self, request: HttpRequest, obj: Closure) -> None:
        super().delete_model(request, obj)
        self._touch([obj.calendar_id])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Closure]) -> None:
        calendar_ids = set(queryset.values_list("calendar_id", flat=True))
        super().delete_queryset(request, queryset)
        self._touch(calendar_ids)


# --------------------------------------------------------------------------------------------
# Support hours, targets and escalation rules


class PlanScopedForm(forms.ModelForm):
    """Offer only the chosen plan's severities, categories and calendars (its policy's)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plan_id = self.data.get(self.add_prefix("plan")) if self.is_bound else None
        plan_id = plan_id or self.initial.get("plan")
        plan = Plan.objects.filter(pk=plan_id).first() if str(plan_id or "").isdigit() else None
        if plan is None:
            return
        for name, lookup in (
            ("severity", {"policy_id": plan.policy_id}),
            ("calendar", {"policy_id": plan.policy_id}),
            ("category", {"plan_id": plan.pk}),
        ):
            field = self.fields.get(name)
            if isinstance(field, forms.ModelChoiceField):
                field.queryset = field.queryset.filter(**lookup)  # type: ignore[union-attr]


class TargetForm(PlanScopedForm):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
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
        cleaned = super().clean()
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
        return obj.category.name if obj.category_id else "any"  # type: ignore[union-attr]

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

    @admin.action(description="Retarget open tickets' SLA clocks on these targets' plans")
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


# --------------------------------------------------------------------------------------------
# What sla adds to the plan and policy pages


class SupportHoursFormSet(BaseInlineFormSet):
    """Offer only the plan's policy's calendars."""

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        field = form.fields.get("calendar")
        if isinstance(field, forms.ModelChoiceField) and self.instance.policy_id is not None:
            field.queryset = field.queryset.filter(policy_id=self.instance.policy_id)  # type: ignore[union-attr]


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
    fields = [
        "severity_text",
        "category_name",
        "calendar",
        "acknowledge_text",
        "first_response_text",
        "resolution_text",
        "note",
        "edit",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Target]:
        return (
            super().get_queryset(request).select_related("plan", "severity", "category", "calendar")
        )


class PlanEscalationRuleInline(TargetColumns, ReadOnlyInline):
    model = EscalationRule
    verbose_name_plural = "escalation rules"
    fields = [
        "severity_text",
        "category_name",
        "metric",
        "when",
        "notify_text",
        "move_to",
        "edit",
    ]
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
            return obj.support_hours.calendar.name  # type: ignore[attr-defined]
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


# --------------------------------------------------------------------------------------------
# Per-ticket clocks and escalations fired: read-only (the ticket services and the sweep write them)


class SlaClockEventInline(ReadOnlyInline):
    model = SlaClockEvent
    verbose_name_plural = "clock log"
    fields = ["at", "kind", "due_at", "reason", "data"]
    readonly_fields = fields


class EscalationFiringInline(ReadOnlyInline):
    model = EscalationFiring
    verbose_name_plural = "escalations fired"
    fields = ["rule_text", "due_at", "fired_at", "late", "notified", "moved_to"]
    readonly_fields = fields


class ReadOnlyAdmin(admin.ModelAdmin):
    view_on_site = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ClockStateFilter(admin.SimpleListFilter):
    title = "live"
    parameter_name = "live"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [("yes", "Live (running, paused, breached)"), ("no", "Ended")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[SlaClock]) -> QuerySet[SlaClock]:
        live = ["running", "paused", "breached"]
        if self.value() == "yes":
            return queryset.filter(state__in=live)
        if self.value() == "no":
            return queryset.exclude(state__in=live)
        return queryset


@admin.register(SlaClock)
class SlaClockAdmin(ReadOnlyAdmin):
    list_display = [
        "ticket_link",
        "metric",
        "cycle",
        "state",
        "target_text",
        "due_at",
        "breached_at",
        "met_at",
        "plan",
        "severity_level",
    ]
    list_select_related = ["ticket", "plan", "severity"]
    list_filter = [ClockStateFilter, "state", "metric", "plan__policy", "plan"]
    search_fields = ["ticket__reference"]
    date_hierarchy = "started_at"
    fields = [
        "ticket_link",
        "metric",
        "cycle",
        "state",
        "plan",
        "severity",
        "category",
        "calendar",
        "target_text",
        "started_at",
        "due_at",
        "original_due_at",
        "at_risk_at",
        "paused_at",
        "paused_business",
        "met_at",
        "breached_at",
        "business_elapsed",
        "next_action_at",
    ]
    readonly_fields = fields
    inlines = [SlaClockEventInline, EscalationFiringInline]

    @admin.display(description="ticket", ordering="ticket__reference")
    def ticket_link(self, obj: SlaClock) -> SafeString:
        return admin_link(obj.ticket, obj.ticket.reference)  # type: ignore[attr-defined]

    @admin.display(description="target", ordering="target")
    def target_text(self, obj: SlaClock) -> str:
        return target_text(obj.target)

    @admin.display(description="severity", ordering="severity__level")
    def severity_level(self, obj: SlaClock) -> int:
        return obj.severity.level


@admin.register(EscalationFiring)
class EscalationFiringAdmin(ReadOnlyAdmin):
    list_display = ["fired_at", "ticket_link", "metric", "rule_text", "due_at", "late", "moved_to"]
    list_select_related = ["clock__ticket"]
    list_filter = ["late", "clock__metric"]
    search_fields = ["clock__ticket__reference", "rule_text"]
    date_hierarchy = "fired_at"
    fields = [
        "ticket_link",
        "clock_link",
        "rule",
        "rule_text",
        "due_at",
        "fired_at",
        "late",
        "notified",
        "moved_to",
    ]
    readonly_fields = fields

    @admin.display(description="ticket", ordering="clock__ticket__reference")
    def ticket_link(self, obj: EscalationFiring) -> SafeString:
        ticket = obj.clock.ticket  # type: ignore[attr-defined]
        return admin_link(ticket, ticket.reference)

    @admin.display(description="clock")
    def clock_link(self, obj: EscalationFiring) -> SafeString:
        return admin_link(obj.clock)

    @admin.display(description="metric", ordering="clock__metric")
    def metric(self, obj: EscalationFiring) -> str:
        return obj.clock.get_metric_display()
