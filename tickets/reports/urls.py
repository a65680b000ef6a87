"""Managers' reports, mounted at /reports/: SLA breaches, statements and support hours."""

from django.urls import path

from tickets.reports import hours_views, sla_views

app_name = "reports"
urlpatterns = [
    path("sla/", sla_views.report, name="report"),
    path("sla/export.csv", sla_views.export_csv, name="export"),
    path("sla/statement/", sla_views.statement_pick, name="statement_pick"),
    path("sla/statement/<slug:organization>/<str:month>/", sla_views.statement, name="statement"),
    path("hours/", hours_views.overage_report, name="hours_overage"),
    path("hours/overage.csv", hours_views.overage_csv, name="hours_overage_csv"),
    path(
        "hours/statement/<slug:organization>/<str:month>/",
        hours_views.statement,
        name="hours_statement",
    ),
]
