from django.urls import path

from tickets.kb import views

app_name = "kb_reports"
urlpatterns = [
    path("", views.report, name="help"),
]
