"""The agents' view of outgoing mail: every notification, its state and its cause (read-only).

Rows are written by the services and changed only by the sending task; the one thing an agent
may do is ask for failed rows to be tried again.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from plans.admin import EMPTY, admin_link
from tickets.models import DeliveryStatus, OutgoingNotification
from tickets.notifications import retry_failed

STATUS_COLOURS = {
    DeliveryStatus.PENDING: "#8a6d00",
    DeliveryStatus.SENDING: "#1f5fa8",
    DeliveryStatus.SENT: "#1e7b34",
    DeliveryStatus.FAILED: "#b3261e",
}
CAUSE_PAGES = {
    OutgoingNotification.Cause.FIRING: "admin:sla_escalationfiring_change",
    OutgoingNotification.Cause.INVITATION: "admin:plans_namedcontact_change",
}


@admin.register(OutgoingNotification)
class OutgoingNotificationAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "status_badge",
        "template",
        "recipient",
        "cause_link",
        "ticket_link",
        "attempts",
        "sent_at",
    ]
    list_filter = ["status", "template", "cause"]
    list_select_related = ["ticket"]
    search_fields = ["recipient", "ticket__reference"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "status",
        "template",
        "recipient",
        "cause",
        "cause_id",
        "ticket",
        "data",
        "attempts",
        "last_error",
        "send_id",
        "created_at",
        "send_after",
        "group",
        "next_attempt_at",
        "claimed_at",
        "sent_at",
    ]
    fields = tuple(readonly_fields)
    actions = ["send_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: OutgoingNotification) -> SafeString:
        return format_html(
            '<strong style="color:{}">{}</strong>',
            STATUS_COLOURS[DeliveryStatus(obj.status)],
            obj.get_status_display(),
        )

    @admin.display(description="cause", ordering="cause")
    def cause_link(self, obj: OutgoingNotification) -> SafeString:
        text = f"{obj.get_cause_display()} #{obj.cause_id}"
        page = CAUSE_PAGES.get(OutgoingNotification.Cause(obj.cause))
        try:
            url = reverse(page, args=[obj.cause_id]) if page else ""
        except NoReverseMatch:
            url = ""
        return format_html('<a href="{}">{}</a>', url, text) if url else format_html("{}", text)

    @admin.display(description="ticket", ordering="ticket")
    def ticket_link(self, obj: OutgoingNotification) -> SafeString | str:
        return admin_link(obj.ticket, obj.ticket.reference) if obj.ticket else EMPTY

    @admin.action(description="Send the selected failed notifications again")
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutgoingNotification]) -> None:
        count = retry_failed(ids=queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            f"{count} failed notification(s) queued to be sent again.",
            messages.SUCCESS if count else messages.WARNING,
        )
