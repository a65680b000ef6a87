from django.urls import path

from tickets.portal import contact_change_views, live_views, views

app_name = "tickets"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("time-left.json", live_views.dashboard_time_left, name="dashboard_time_left"),
    path("tickets/new/", views.ticket_new, name="new"),
    path(
        "tickets/<str:reference>/time-left.json",
        live_views.ticket_time_left,
        name="ticket_time_left",
    ),
    path("tickets/<str:reference>/", views.ticket_detail, name="detail"),
    path("tickets/<str:reference>/reply/", views.ticket_reply, name="reply"),
    path("tickets/<str:reference>/close/", views.ticket_close, name="close"),
    path("tickets/<str:reference>/reopen/", views.ticket_reopen, name="reopen"),
    path("tickets/<str:reference>/post-incident-report/", views.ticket_request_pir, name="pir"),
    path("tickets/<str:reference>/escalate/", views.ticket_escalate, name="escalate"),
    path(
        "tickets/<str:reference>/attachments/<int:pk>/",
        views.attachment_download,
        name="attachment",
    ),
    path("plan/", views.plan, name="plan"),
    path("plan/contacts/add/", views.contact_add, name="contact_add"),
    path("plan/contacts/<int:pk>/remove/", views.contact_remove, name="contact_remove"),
    path("plan/invitations/<int:pk>/resend/", views.invitation_resend, name="invitation_resend"),
    path("account/", views.account, name="account"),
    path("account/contact-change/", contact_change_views.contact_change, name="contact_change"),
]
