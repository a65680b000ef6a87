"""The report's filters: every one a GET parameter, so a view of the report can be shared."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from plans.models import Organization, Plan, Severity
from sla.models import Metric
from tickets.models import Queue
from tickets.reports.sla_queries import ReportFilters, default_dates, period_for_dates

MAX_PERIOD_DAYS = 366 * 2


def severity_choices() -> list[tuple[str, str]]:
    levels = Severity.objects.order_by("level").values_list("level", flat=True).distinct()
    return [("", "All severities"), *((str(level), f"Severity {level}") for level in levels)]


def agents() -> QuerySet[Any]:
    return get_user_model().objects.filter(is_staff=True).order_by("username")


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.username


class ReportFilterForm(forms.Form):
    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To (included)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    plan = forms.ModelChoiceField(
        Plan.objects.order_by("name"), to_field_name="slug", required=False, empty_label="All plans"
    )
    organization = forms.ModelChoiceField(
        Organization.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="All organizations",
    )
    severity = forms.TypedChoiceField(
        label="Severity", choices=severity_choices, coerce=int, empty_value=None, required=False
    )
    queue: forms.ModelChoiceField[Queue] = forms.ModelChoiceField(
        queryset=None, to_field_name="slug", required=False, empty_label="All queues"
    )
    agent = AgentChoiceField(
        agents(), to_field_name="username", required=False, empty_label="All agents"
    )
    metric = forms.ChoiceField(choices=[("", "All metrics"), *Metric.choices], required=False)

    def __init__(self, *args: Any, zone: dt.tzinfo, now: dt.datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.now = now
        cast(forms.ModelChoiceField, self.fields["queue"]).queryset = Queue.objects.order_by(
            "position", "name"
        )
        # Read the levels once: validation and rendering share them.
        cast(forms.ChoiceField, self.fields["severity"]).choices = severity_choices()
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "sla-filters"
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(
                Column("start", css_class="col-6 col-md-3 col-xl"),
                Column("end", css_class="col-6 col-md-3 col-xl"),
                Column("plan", css_class="col-6 col-md-3 col-xl"),
                Column("organization", css_class="col-6 col-md-3 col-xl"),
            ),
            Row(
                Column("severity", css_class="col-6 col-md-3 col-xl"),
                Column("queue", css_class="col-6 col-md-3 col-xl"),
                Column("agent", css_class="col-6 col-md-3 col-xl"),
                Column("metric", css_class="col-6 col-md-3 col-xl"),
            ),
            Submit("", "Show report", css_class="btn-primary"),
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        default_start, default_end = default_dates(self.now, self.zone)
        start = data.get("start") or default_start
        end = data.get("end") or default_end
        if "start" in self.errors or "end" in self.errors:
            return data
        if start > end:
            self.add_error("end", "The end date must be on or after the start date.")
        elif (end - start).days >= MAX_PERIOD_DAYS:
            self.add_error("end", f"Choose a period of at most {MAX_PERIOD_DAYS} days.")
        data["start"], data["end"] = start, end
        return data

    def filters(self) -> ReportFilters:
        """The validated filters; call after `is_valid()`."""
        data = self.cleaned_data
        start, end = period_for_dates(data["start"], data["end"], self.zone)
        return ReportFilters(
            start=start,
            end=end,
            zone=self.zone,
            plan=data.get("plan"),
            organization=data.get("organization"),
            severity=data.get("severity"),
            queue=data.get("queue"),
            agent=data.get("agent"),
            metric=data.get("metric") or None,
        )


def parse_month(value: str) -> tuple[int, int] | None:
    """`YYYY-MM` as (year, month); None when it is not a month."""
    try:
        parsed = dt.datetime.strptime(value, "%Y-%m")  # noqa: DTZ007 - a month, not an instant
    except ValueError:
        return None
    if not 2000 <= parsed.year <= 2100:
        return None
    return parsed.year, parsed.month


class MonthInput(forms.DateInput):
    """`<input type="month">`: browsers offer a month picker and send `YYYY-MM`."""

    input_type = "month"

    def format_value(self, value: object) -> str | None:
        if isinstance(value, dt.date):
            return value.strftime("%Y-%m")
        return super().format_value(value)


class StatementPickForm(forms.Form):
    """Which monthly statement to open: an organization and a month, picked, not typed."""

    organization = forms.ModelChoiceField(
        Organization.objects.order_by("name"),
        to_field_name="slug",
        empty_label="Choose an organization",
        error_messages={"required": "Choose the organization of the statement."},
    )
    month = forms.DateField(
        label="Month",
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=MonthInput(),
        error_messages={
            "required": "Choose the month of the statement.",
            "invalid": "Enter a month as YYYY-MM, for example 2026-11.",
        },
    )
