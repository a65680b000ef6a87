"""Managers' support-hours reports, mounted at /reports/hours/."""

from django.urls import path

from tickets import hours_views

app_name = "hours"
urlpatterns = [
    path("", hours_views.overage_report, name="overage"),
    path("overage.csv", hours_views.overage_csv, name="overage_csv"),
    path(
        "statement/<slug:organization>/<str:month>/",
        hours_views.statement,
        name="statement",
    ),
]
