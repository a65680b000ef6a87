from django.contrib import admin
from django.urls import include, path

from helpdesk import health, scrape
from tickets.portal import views as portal_views

admin.site.site_header = "Helpdesk · agent desk"
admin.site.site_title = "Helpdesk agent desk"
admin.site.index_title = "Queues, customers and support policies"


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", scrape.metrics_view, name="metrics"),
    path("reports/", include("tickets.reports.urls")),
    # Named at the root: `plans` writes this link into invitations without knowing the portal.
    path("invitations/<str:token>/", portal_views.invitation_accept, name="invitation"),
    path("", include("tickets.portal.urls")),
]
