from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

admin.site.site_header = "Helpdesk · agent desk"
admin.site.site_title = "Helpdesk agent desk"
admin.site.index_title = "Queues, customers and support policies"


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("healthz", healthz, name="healthz"),
    path("reports/", include("sla.urls")),
    path("reports/hours/", include("tickets.hours_urls")),
    path("reports/help/", include("tickets.kb.report_urls")),
    path("help/", include("tickets.kb.urls")),
    path("", include("tickets.urls")),
]
