from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.decorators.cache import cache_control
from django.views.generic import TemplateView

from helpdesk import health, scrape
from plans.accounts import OutboxPasswordResetForm
from tickets.portal import views as portal_views

admin.site.site_header = "Helpdesk · agent desk"
admin.site.site_title = "Helpdesk agent desk"
admin.site.index_title = "Queues, customers and support policies"


urlpatterns = [
    path("admin/", admin.site.urls),
    # Django's reset view, with its mail recorded and sent like every other (helpdesk.mail).
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=OutboxPasswordResetForm),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path(
        "robots.txt",
        cache_control(max_age=86400, public=True)(
            TemplateView.as_view(template_name="robots.txt", content_type="text/plain")
        ),
        name="robots",
    ),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", scrape.metrics_view, name="metrics"),
    path("reports/", include("tickets.reports.urls")),
    path("reports/help/", include("tickets.kb.report_urls")),
    path("help/", include("tickets.kb.urls")),
    # Named at the root: `plans` writes this link into invitations without knowing the portal.
    path("invitations/<str:token>/", portal_views.invitation_accept, name="invitation"),
    path("", include("tickets.portal.urls")),
]
