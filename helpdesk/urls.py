from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from plans.accounts import OutboxPasswordResetForm

admin.site.site_header = "Helpdesk · agent desk"
admin.site.site_title = "Helpdesk agent desk"
admin.site.index_title = "Queues, customers and support policies"


def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("admin/", admin.site.urls),
    # Django's reset view, with its mail recorded and sent like every other (helpdesk.mail).
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=OutboxPasswordResetForm),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("healthz", healthz, name="healthz"),
    path("reports/", include("sla.urls")),
    path("reports/hours/", include("tickets.hours_urls")),
    path("", include("tickets.urls")),
]
