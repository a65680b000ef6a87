"""Who changed what: the policy's change log (load_policy runs), the admin's own log of edits,
and the invitations organization admins sent. All read-only."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.models import LogEntry

from helpdesk.adminkit import ReadOnlyAdmin
from plans.models import ContactInvitation, PolicyChange


@admin.register(PolicyChange)
class PolicyChangeAdmin(ReadOnlyAdmin):
    list_display = ["at", "policy_slug", "by", "source"]
    list_filter = ["policy_slug"]
    search_fields = ["policy_slug", "by", "summary"]
    fields = ("at", "policy", "policy_slug", "by", "source", "summary")
    readonly_fields = fields
    date_hierarchy = "at"
    list_select_related = ["policy"]


@admin.register(LogEntry)
class LogEntryAdmin(ReadOnlyAdmin):
    """Every edit made in the admin (policy, plans, targets, calendars, customers): who, when,
    what, as Django records it."""

    list_display = ["action_time", "user", "content_type", "object_repr", "action_flag"]
    list_filter = ["content_type", "action_flag"]
    search_fields = ["object_repr", "change_message", "user__username"]
    fields = (
        "action_time",
        "user",
        "content_type",
        "object_id",
        "object_repr",
        "action_flag",
        "change_message",
    )
    readonly_fields = fields
    date_hierarchy = "action_time"
    list_select_related = ["user", "content_type"]


@admin.register(ContactInvitation)
class ContactInvitationAdmin(ReadOnlyAdmin):
    list_display = ["email", "organization", "role", "sent_at", "expires_at", "accepted_at"]
    list_filter = ["role", "organization"]
    search_fields = ["email", "organization__name"]
    exclude = ["token_hash"]
    readonly_fields = [
        "organization",
        "email",
        "first_name",
        "last_name",
        "role",
        "invited_by",
        "sent_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
    ]
    list_select_related = ["organization"]
