"""SLA reports for support managers: the report page, its CSV and the monthly statement.

The views parse the filters, check access, call `sla.reports` and render. The tables below turn a
report into rows of text once, so the page and the CSV show the same cells.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from helpdesk.formatting import compact_duration, instant_plain
from plans.models import Organization
from plans.roles import manager_required
from sla.models import Metric, SlaClock
from sla.standing import standing_of
from tickets.reports import charts, exports
from tickets.reports.forms import ReportFilterForm, StatementPickForm, parse_month
from tickets.reports.sla_queries import (
    LiveList,
    SlaReport,
    Tally,
    default_dates,
    monthly_statement,
    sla_report,
)

View = Callable[..., HttpResponse]


# --- tables: what the page shows and the CSV exports, cell for cell --------------------------


@dataclass
class Row:
    cells: list[str]
    link: str = ""  # the admin page of the ticket in the first cell, for live lists


@dataclass
class Section:
    key: str
    title: str
    columns: list[str]
    rows: list[Row]
    note: str = ""


def percent_text(value: float | None) -> str:
    return "—" if value is None else f"{value:g}%"


def tally_rows(tallies: list[Tally]) -> list[Row]:
    return [
        Row(
            [
                t.label,
                str(t.met_on_time),
                str(t.breached),
                str(t.total),
                percent_text(t.achievement),
            ]
        )
        for t in tallies
    ]


TALLY_COLUMNS = ["Met on time", "Breached", "Counted (denominator)", "Achievement"]


def ticket_admin_url(ticket_id: int) -> str:
    """The agents' change page of a ticket."""
    return reverse("admin:tickets_ticket_change", args=[ticket_id])


def live_rows(clocks: list[SlaClock], zone: dt.tzinfo) -> list[Row]:
    metric_labels = dict(Metric.choices)
    rows = []
    for clock in clocks:
        ticket = clock.ticket
        assignee = ticket.assignee
        rows.append(
            Row(
                [
                    ticket.reference or f"#{ticket.pk}",
                    ticket.subject,
                    ticket.organization.name,
                    metric_labels.get(clock.metric, clock.metric),
                    clock.plan.name,
                    compact_duration(clock.target),
                    instant_plain(clock.due_at, zone),
                    (assignee.get_full_name() or assignee.username) if assignee else "Unassigned",
                    ticket.queue.name if ticket.queue else "No queue",
                ],
                link=ticket_admin_url(ticket.pk),
            )
        )
    return rows


def report_sections(report: SlaReport) -> list[Section]:
    """Every table of the report page, in page order; the CSV writes the same cells."""
    zone = report.filters.zone
    zone_name = str(zone)
    b = report.breakdown
    rt = report.response_times
    live_columns = ["Ticket", "Subject", "Organization", "Metric", "Plan", "Target"]
    live_columns += [f"Due ({zone_name})", "Assignee", "Queue"]

    def shown(live: LiveList) -> str:
        if live.total > len(live.clocks):
            return f"Showing the {len(live.clocks)} most urgent of {live.total}."
        return f"{live.total} clock{'s' if live.total != 1 else ''}."

    return [
        Section(
            "achievement",
            "Achievement per metric",
            ["Metric", *TALLY_COLUMNS],
            [*tally_rows(b.by_metric), *tally_rows([b.overall])],
            note="Clocks with a target that were met or breached in the period: "
            "met on time / (met on time + breached).",
        ),
        Section("by_plan", "Breaches by plan", ["Plan", *TALLY_COLUMNS], tally_rows(b.by_plan)),
        Section(
            "by_plan_metric",
            "Breaches by plan and metric",
            ["Plan · metric", *TALLY_COLUMNS],
            tally_rows(b.by_plan_metric),
        ),
        Section(
            "by_severity",
            "Breaches by severity",
            ["Severity", *TALLY_COLUMNS],
            tally_rows(b.by_severity),
        ),
        Section("by_queue", "Breaches by queue", ["Queue", *TALLY_COLUMNS], tally_rows(b.by_queue)),
        Section("by_agent", "Breaches by agent", ["Agent", *TALLY_COLUMNS], tally_rows(b.by_agent)),
        Section(
            "trend",
            "Trend by week",
            [f"Week starting ({zone_name})", *TALLY_COLUMNS],
            [
                Row([f"{t.key:%Y-%m-%d}", *row.cells[1:]])
                for t, row in zip(report.trend, tally_rows(report.trend), strict=True)
            ],
        ),
        Section(
            "first_response",
            "First response business time",
            ["First-response clocks met", "Median", "90th percentile"],
            [Row([str(rt.count), compact_duration(rt.median), compact_duration(rt.p90)])],
            note="Business time from start to first response, pauses excluded, of first-response "
            "clocks met in the period (met late included).",
        ),
        Section(
            "at_risk",
            "Currently at risk",
            live_columns,
            live_rows(report.at_risk.clocks, zone),
            note=f"Running clocks with 75% or more of the target used. {shown(report.at_risk)}",
        ),
        Section(
            "breached_now",
            "Currently breached",
            live_columns,
            live_rows(report.breached_now.clocks, zone),
            note=f"Open clocks past their due time. {shown(report.breached_now)}",
        ),
        Section(
            "escalations",
            "Escalations by organization",
            ["Organization", "SLA escalations fired", "Customer escalations", "Marked unwarranted"],
            [
                Row([e.name, str(e.fired), str(e.requested), str(e.unwarranted)])
                for e in report.escalations
            ],
        ),
        Section(
            "fell_back",
            "Escalations that fell back to the support managers",
            ["Ticket", "Organization", "Rule", f"Fired ({zone_name})", "Why", "Notified"],
            [
                Row(
                    [
                        firing.clock.ticket.reference or f"#{firing.clock.ticket_id}",
                        firing.clock.ticket.organization.name,
                        firing.rule_text,
                        instant_plain(firing.fired_at, zone),
                        firing.fallback_reason,
                        ", ".join(firing.notified) or "nobody",
                    ],
                    link=ticket_admin_url(firing.clock.ticket_id),
                )
                for firing in report.fell_back.firings
            ],
            note=f"A role of the rule reached nobody, so the support managers were told. "
            f"{report.fell_back.total} in the period.",
        ),
    ]


# --- views -----------------------------------------------------------------------------------


def filter_form(request: HttpRequest, now: dt.datetime) -> ReportFilterForm:
    zone = timezone.get_current_timezone()
    data = request.GET.copy()
    start, end = default_dates(now, zone)
    data.setdefault("start", start.isoformat())
    data.setdefault("end", end.isoformat())
    return ReportFilterForm(data, zone=zone, now=now)


@manager_required
def report(request: HttpRequest) -> HttpResponse:
    """The SLA report page (`?format=csv` gives its tables as CSV)."""
    now = timezone.now()
    form = filter_form(request, now)
    if not form.is_valid():
        return render(request, "reports/report.html", {"form": form}, status=400)
    result = sla_report(form.filters(), now=now)
    sections = report_sections(result)
    if request.GET.get("format") == "csv":
        table = request.GET.get("table", "")
        return unknown_table(request, table, sections) or csv_response(sections, result, table)
    worst_plan = worst(result.breakdown.by_plan)
    bars = [charts.Bar(t.label, t.met_on_time, t.breached) for t in result.trend]
    severity_bars = [
        charts.Bar(t.label, t.met_on_time, t.breached) for t in result.breakdown.by_severity
    ]
    query = request.GET.copy()
    query.pop("format", None)
    query.pop("table", None)
    return render(
        request,
        "reports/report.html",
        {
            "form": form,
            "report": result,
            "sections": {section.key: section for section in sections},
            "trend_chart": charts.trend_chart(bars),
            "severity_chart": charts.severity_chart(severity_bars),
            "worst_plan": worst_plan,
            "worst_plan_metric": worst(
                [
                    t
                    for t in result.breakdown.by_plan_metric
                    if worst_plan and t.key[0] == worst_plan.key
                ]
            ),
            "query": query.urlencode(),
            "pick_form": StatementPickForm(
                initial={
                    "organization": getattr(result.filters.organization, "slug", ""),
                    "month": f"{result.filters.start.astimezone(result.filters.zone):%Y-%m}",
                }
            ),
            "period_last_day": result.filters.end.astimezone(result.filters.zone)
            - dt.timedelta(microseconds=1),
        },
    )


@manager_required
def export_csv(request: HttpRequest) -> HttpResponse:
    """The same tables as the page for the same filters: `?table=KEY` gives that one table as a
    CSV file, without it every table's CSV comes in one zip."""
    now = timezone.now()
    form = filter_form(request, now)
    if not form.is_valid():
        return render(request, "reports/report.html", {"form": form}, status=400)
    result = sla_report(form.filters(), now=now)
    sections = report_sections(result)
    table = request.GET.get("table", "")
    return unknown_table(request, table, sections) or csv_response(sections, result, table)


def worst(tallies: list[Tally]) -> Tally | None:
    return tallies[0] if tallies and tallies[0].breached else None


def csv_response(
    sections: list[Section], result: SlaReport, table: str | None = None
) -> HttpResponse:
    """One table as CSV (`table` names it), or every table's CSV in one zip."""
    zone = result.filters.zone
    first = result.filters.start.astimezone(zone).date()
    last = (result.filters.end.astimezone(zone) - dt.timedelta(microseconds=1)).date()
    stem = f"sla-report-{first}-to-{last}"
    if table:
        return exports.csv_file_response(next(s for s in sections if s.key == table), stem)
    return exports.zip_response(sections, stem, first)


def unknown_table(request: HttpRequest, table: str, sections: list[Section]) -> HttpResponse | None:
    """A 400 page naming the tables, when `table` is none of them."""
    if not table or any(section.key == table for section in sections):
        return None
    names = ", ".join(section.key for section in sections)
    return render(
        request,
        "reports/bad_request.html",
        {"field": "table", "message": f"No table “{table}”: choose one of {names}."},
        status=400,
    )


@dataclass
class StatementTicket:
    ticket: Any
    clocks: list[SlaClock]


@manager_required
def statement(request: HttpRequest, organization: str, month: str) -> HttpResponse:
    """A printable monthly SLA statement for one customer organization."""
    parsed = parse_month(month)
    if parsed is None:
        return render(
            request,
            "reports/bad_request.html",
            {"field": "month", "message": f"“{month}” is not a month: write it as YYYY-MM."},
            status=400,
        )
    org = get_object_or_404(Organization, slug=organization)
    result = monthly_statement(organization=org, year=parsed[0], month=parsed[1])
    tickets: list[StatementTicket] = []
    now = timezone.now()
    for clock in result.clocks:
        if not tickets or tickets[-1].ticket.pk != clock.ticket_id:
            tickets.append(StatementTicket(clock.ticket, []))
        clock.target_text = compact_duration(clock.target)  # type: ignore[attr-defined]
        clock.standing = standing_of(clock, now=now)  # type: ignore[attr-defined]
        tickets[-1].clocks.append(clock)
    timezone.activate(result.zone)
    return render(
        request,
        "reports/statement.html",
        {
            "statement": result,
            "tickets": tickets,
            "month_name": dt.date(parsed[0], parsed[1], 1),
            "generated_at": timezone.now(),
            "zone_name": str(result.zone),
            "metric_labels": dict(Metric.choices),
        },
    )


@manager_required
def statement_pick(request: HttpRequest) -> HttpResponse:
    """The statement picker's target: to the chosen organization's statement for the month."""
    form = StatementPickForm(request.GET or None)
    if form.is_valid():
        organization, month = form.cleaned_data["organization"], form.cleaned_data["month"]
        return redirect("reports:statement", organization.slug, f"{month:%Y-%m}")
    return render(
        request,
        "reports/statement_pick.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )
