"""Maintenance releases in the agents' admin: publish (resolves the linked tickets and tells
their customers), and the ticket queue's action that plans tickets for a release."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from helpdesk.http import signed_in_user
from tickets.models import OPEN_STATUSES, Release, Ticket
from tickets.releases.services import release_plan_ticket, release_publish


class TicketInline(admin.TabularInline):
    model = Ticket
    fk_name = "release"
    fields = ("reference", "subject", "organization", "status")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "tickets planned for this release"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Ticket]:
        return super().get_queryset(request).select_related("organization")


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ["version", "planned_on", "published_at", "open_tickets", "all_tickets"]
    search_fields = ["version"]
    readonly_fields = ["published_at", "published_by"]
    fields = ["version", "planned_on", "notes", "published_at", "published_by"]
    inlines = [TicketInline]
    actions = ["publish"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Release]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_count=Count("tickets", filter=Q(tickets__status__in=OPEN_STATUSES)),
                ticket_count=Count("tickets"),
            )
        )

    @admin.display(description="open tickets", ordering="open_count")
    def open_tickets(self, obj: Release) -> int:
        return obj.open_count  # type: ignore[attr-defined]

    @admin.display(description="tickets", ordering="ticket_count")
    def all_tickets(self, obj: Release) -> int:
        return obj.ticket_count  # type: ignore[attr-defined]

    @admin.action(description="Publish (resolves its open tickets and tells their customers)")
    def publish(self, request: HttpRequest, queryset: QuerySet[Release]) -> None:
        for release in queryset:
            try:
                resolved = release_publish(release=release, by=signed_in_user(request))
            except ValidationError as error:
                self.message_user(request, " ".join(error.messages), messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Release {release} published: {len(resolved)} ticket(s) resolved.",
                    messages.SUCCESS,
                )


class PlanForReleaseForm(forms.Form):
    release = forms.ModelChoiceField(
        label="Release",
        queryset=Release.objects.filter(published_at__isnull=True),
        required=False,
        empty_label="No release (unlink)",
    )


@admin.action(description="Plan for a release\u2026")
def plan_for_release(
    modeladmin: Any, request: HttpRequest, queryset: QuerySet[Ticket]
) -> TemplateResponse | None:
    """The ticket queue's action (`modeladmin` is the ticket admin, with its action page)."""
    form = PlanForReleaseForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        release = form.cleaned_data["release"]
        modeladmin._each(
            request,
            queryset,
            f"planned for {release}" if release else "unlinked from their release",
            lambda t: release_plan_ticket(ticket=t, release=release, by=signed_in_user(request)),
        )
        return None
    return modeladmin._action_page(
        request,
        queryset,
        action="plan_for_release",
        title="Plan tickets for a maintenance release",
        form=form,
        button="Plan",
    )
