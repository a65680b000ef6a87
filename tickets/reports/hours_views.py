"""Managers' support-hours pages: what to bill by organization and billing month (overage,
hours billed as used, unwarranted escalations, each less the contract's discount), its CSV and
each organization's billing statement.

The rules live in `tickets.hours` and `tickets.billing`; these views parse the months asked for,
check access and render the rows (the page and the CSV show the very same cells).
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from helpdesk.exports import csv_writer
from plans.models import Organization
from plans.roles import is_support_manager
from tickets.billing import ESCALATIONS, BillingLine, billing_lines
from tickets.hours.ledger import add_months

MAX_MONTHS = 36


def csv_header() -> list[str]:
    """The columns of the page and the CSV; amounts name their currency."""
    money = settings.BILLING_CURRENCY
    return [
        "Organization",
        "Plan",
        "Period start",
        "Period end",
        "Months",
        "Allowance",
        "Used",
        "Billed",
        f"Rate ({money})",
        f"Amount ({money})",
        "Status",
        "Billed for",
        f"Discount ({money})",
        f"Net amount ({money})",
    ]


NUMERIC_COLUMNS = frozenset({*range(4, 10), 12, 13})


class MonthInput(forms.DateInput):
    input_type = "month"

    def format_value(self, value: object) -> str | None:
        if isinstance(value, dt.date):
            return value.strftime("%Y-%m")
        return super().format_value(value)


class OverageFilterForm(forms.Form):
    start = forms.DateField(
        label="From billing month",
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=MonthInput(),
        help_text="Periods that start in this month or later.",
        error_messages={"invalid": "Enter a month as YYYY-MM, for example 2027-01."},
    )
    end = forms.DateField(
        label="To billing month",
        input_formats=["%Y-%m", "%Y-%m-%d"],
        widget=MonthInput(),
        help_text="Periods that start in this month or earlier.",
        error_messages={"invalid": "Enter a month as YYYY-MM, for example 2027-03."},
    )

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if start and end:
            start = data["start"] = start.replace(day=1)
            end = data["end"] = end.replace(day=calendar.monthrange(end.year, end.month)[1])
            if end < start:
                self.add_error("end", "The last month must not be before the first month.")
            elif add_months(start, MAX_MONTHS) <= end:
                self.add_error("end", f"Ask for at most {MAX_MONTHS} months at a time.")
        return data


def _require_manager(request: HttpRequest) -> None:
    if not is_support_manager(request.user):
        raise PermissionDenied("Only support managers can see billing reports.")


def _default_months() -> dict[str, str]:
    today = timezone.localdate()
    first = add_months(today.replace(day=1), -2)
    return {"start": first.strftime("%Y-%m"), "end": today.strftime("%Y-%m")}


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _quantity(line: BillingLine, value: object) -> str:
    if value is None:
        return ""
    return f"{value:.0f}" if line.kind == ESCALATIONS else f"{value:.2f}"


def overage_cells(row: BillingLine) -> list[str]:
    """One report line as text: the page's table cells and the CSV's fields."""
    gross = row.gross
    return [
        row.organization.name,
        row.contract.plan.name,
        row.start.isoformat(),
        row.end.isoformat(),
        str(row.months),
        _quantity(row, row.allowance),
        _quantity(row, row.used),
        _quantity(row, row.quantity),
        _money(row.rate),
        _money(gross) if gross is not None else "rate not set",
        "closed" if row.closed else "in progress",
        row.kind_label,
        _money(row.discount) if gross is not None else "",
        _money(row.net),
    ]


def _report(request: HttpRequest) -> tuple[OverageFilterForm, list[BillingLine]]:
    form = OverageFilterForm(request.GET if request.GET else _default_months())
    if not form.is_valid():
        return form, []
    rows = billing_lines(form.cleaned_data["start"], form.cleaned_data["end"])
    return form, rows


@login_required
@require_GET
def overage_report(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form, rows = _report(request)
    amounts = [row.net for row in rows]
    context = {
        "form": form,
        "header": csv_header(),
        "currency": settings.BILLING_CURRENCY,
        "numeric": NUMERIC_COLUMNS,
        "lines": [overage_cells(row) for row in rows],
        "organizations": len({row.organization.pk for row in rows}),
        "statement_organizations": list(
            {row.organization.pk: row.organization for row in rows}.values()
        ),
        "total_hours": sum(
            (row.quantity for row in rows if row.kind != ESCALATIONS), Decimal("0.00")
        ),
        "total_amount": sum((a for a in amounts if a is not None), Decimal("0.00")),
        "missing_rates": sum(1 for a in amounts if a is None),
        "open_periods": sum(1 for row in rows if not row.closed),
        "query": request.GET.urlencode()
        or "&".join(f"{key}={value}" for key, value in _default_months().items()),
    }
    return render(
        request, "reports/hours_overage.html", context, status=200 if form.is_valid() else 400
    )


@login_required
@require_GET
def overage_csv(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form, rows = _report(request)
    if not form.is_valid():
        problems = "; ".join(
            f"{form.fields[name].label if name in form.fields else name}: "
            f"{' '.join(map(str, errors))}"
            for name, errors in form.errors.items()
        )
        return HttpResponse(problems, status=400, content_type="text/plain; charset=utf-8")
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="overage-{start:%Y-%m}-to-{end:%Y-%m}.csv"'
    )
    writer = csv_writer(response)
    writer.writerow(csv_header())
    for row in rows:
        writer.writerow(overage_cells(row))
    return response


def parse_month(value: str) -> tuple[int, int] | None:
    """`YYYY-MM` as (year, month); None when it is not a month."""
    try:
        parsed = dt.datetime.strptime(value, "%Y-%m")  # noqa: DTZ007 - a month, not an instant
    except ValueError:
        return None
    return (parsed.year, parsed.month) if 2000 <= parsed.year <= 2100 else None


@login_required
@require_GET
def statement(request: HttpRequest, organization: str, month: str) -> HttpResponse:
    """One organization's billing statement for one calendar month: every line with its
    discount, and the total to bill."""
    _require_manager(request)
    parsed = parse_month(month)
    if parsed is None:
        return HttpResponse(
            f"month: {month!r} is not a month; write it as YYYY-MM.",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    first = dt.date(parsed[0], parsed[1], 1)
    org = get_object_or_404(Organization, slug=organization)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    lines = billing_lines(first, last, organization=org)
    nets = [line.net for line in lines]
    context = {
        "organization": org,
        "month": first,
        "lines": lines,
        "gross": sum((line.gross or Decimal("0.00") for line in lines), Decimal("0.00")),
        "discount": sum((line.discount for line in lines), Decimal("0.00")),
        "total": sum((n for n in nets if n is not None), Decimal("0.00")),
        "missing_rates": sum(1 for n in nets if n is None),
        "currency": settings.BILLING_CURRENCY,
    }
    return render(request, "portal/hours_statement.html", context)
