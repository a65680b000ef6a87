from django.urls import path

from sla import views

app_name = "sla"
urlpatterns = [
    path("sla/", views.report, name="report"),
    path("sla/export.csv", views.export_csv, name="export"),
    path("sla/statement/<slug:organization>/<str:month>/", views.statement, name="statement"),
]
