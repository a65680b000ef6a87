"""Named-contact change requests: agents approve (the swap goes through the service, which keeps
the plan's limit and writes the change log) or reject them."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from helpdesk.http import signed_in_user
from plans.contact_changes import contact_change_approve, contact_change_reject
from plans.models import ContactChangeRequest


@admin.register(ContactChangeRequest)
class ContactChangeRequestAdmin(admin.ModelAdmin):
    list_display = [
        "requested_at",
        "organization",
        "former_user",
        "new_email",
        "via",
        "requested_by",
        "status",
        "decided_by",
    ]
    list_select_related = ["organization", "former_user", "requested_by", "decided_by"]
    list_filter = ["status", "via"]
    search_fields = ["organization__name", "former_user__email", "new_email"]
    date_hierarchy = "requested_at"
    actions = ["approve", "reject"]
    fields = (
        "organization",
        "former_user",
        "new_email",
        "new_name",
        "reason",
        "via",
        "requested_by",
        "requested_at",
        "status",
        "decided_by",
        "decided_at",
        "decision_note",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: ContactChangeRequest | None = None
    ) -> bool:
        return False

    def _decide(self, request: HttpRequest, queryset: QuerySet, approve: bool) -> None:
        by = signed_in_user(request)
        for change in queryset.filter(status=ContactChangeRequest.Status.PENDING):
            try:
                if approve:
                    contact_change_approve(change=change, by=by)
                else:
                    contact_change_reject(change=change, by=by, note="Rejected by support")
            except ValidationError as error:
                self.message_user(
                    request, f"#{change.pk}: {' '.join(error.messages)}", messages.ERROR
                )
            else:
                verb = "approved" if approve else "rejected"
                self.message_user(request, f"#{change.pk} {verb}: {change}.", messages.SUCCESS)

    @admin.action(description="Approve: replace the former contact by the new one")
    def approve(self, request: HttpRequest, queryset: QuerySet[ContactChangeRequest]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject the selected requests")
    def reject(self, request: HttpRequest, queryset: QuerySet[ContactChangeRequest]) -> None:
        self._decide(request, queryset, approve=False)
