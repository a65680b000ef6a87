"""Business calendars, their open periods and closures."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import holidays
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from plans.admin import (
    EMPTY,
    FormFieldsMixin,
)
from sla.admin.fields import MinuteField, holiday_codes_field
from sla.calendars import (
    calendar_ensure_holidays,
    calendar_reset_holidays,
    calendar_touch,
    holiday_window,
)
from sla.models import (
    BusinessCalendar,
    Closure,
    OpenPeriod,
    Weekday,
)
from sla.recalculation import clocks_recalculate, live_clock_count

NO_GUARANTEE = "no guarantee"


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
        super().clean()
        cleaned = self.cleaned_data
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

    @admin.action(
        description="Retarget open tickets' SLA clocks on these calendars", permissions=["change"]
    )
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
        (
            None,
            {
                "fields": [
                    "policy",
                    "slug",
                    "name",
                    "timezone",
                    "follows_organization",
                    "always_open",
                ]
            },
        ),
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

    @admin.action(
        description="Retarget open tickets' SLA clocks on these days' calendars",
        permissions=["change"],
    )
    def retarget(self, request: HttpRequest, queryset: QuerySet[Closure]) -> None:
        ids = set(queryset.values_list("calendar_id", flat=True))
        retarget_open_clocks(self, request, calendar_ids=ids, plan_ids=set())

    @admin.display(description="policy", ordering="calendar__policy__name")
    def policy_name(self, obj: Closure) -> str:
        return obj.calendar.policy.name

    @admin.action(
        description="Keep open on the selected days (untick active)", permissions=["change"]
    )
    def keep_open(self, request: HttpRequest, queryset: QuerySet[Closure]) -> None:
        self._set_active(request, queryset, active=False)

    @admin.action(description="Close on the selected days (tick active)", permissions=["change"])
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
