"""Per-ticket clocks and escalations fired, for agents: read-only (services and sweep write them).

They live in the desk, not in `sla.admin`, because they search and sort by the ticket.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from helpdesk.adminkit import ReadOnlyAdmin, ReadOnlyInline
from plans.admin import admin_link
from sla.admin.fields import target_text
from sla.models import (
    EscalationFiring,
    SlaClock,
    SlaClockEvent,
)
from sla.standing import standing_of

NO_GUARANTEE = "no guarantee"


class SlaClockEventInline(ReadOnlyInline):
    model = SlaClockEvent
    verbose_name_plural = "clock log"
    fields = ("at", "kind", "due_at", "reason", "data")
    readonly_fields = fields


class EscalationFiringInline(ReadOnlyInline):
    model = EscalationFiring
    verbose_name_plural = "escalations fired"
    fields = (
        "rule_text",
        "due_at",
        "fired_at",
        "late",
        "notified",
        "fell_back",
        "fallback_reason",
        "moved_to",
    )
    readonly_fields = fields


class ClockStateFilter(admin.SimpleListFilter):
    title = "live"
    parameter_name = "live"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [("yes", "Live (running, paused, breached)"), ("no", "Ended")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[SlaClock]) -> QuerySet[SlaClock]:
        live = ["running", "paused", "breached"]
        if self.value() == "yes":
            return queryset.filter(state__in=live)
        if self.value() == "no":
            return queryset.exclude(state__in=live)
        return queryset


@admin.register(SlaClock)
class SlaClockAdmin(ReadOnlyAdmin):
    list_display = [
        "ticket_link",
        "metric",
        "cycle",
        "standing_badge",
        "target_text",
        "due_at",
        "breached_at",
        "met_at",
        "plan",
        "severity_level",
    ]
    list_select_related = ["ticket", "plan", "severity"]
    list_filter = [ClockStateFilter, "state", "metric", "plan__policy", "plan"]
    search_fields = ["ticket__reference"]
    date_hierarchy = "started_at"
    fields = (
        "ticket_link",
        "metric",
        "cycle",
        "standing_badge",
        "state",
        "plan",
        "severity",
        "category",
        "calendar",
        "target_text",
        "started_at",
        "due_at",
        "original_due_at",
        "at_risk_at",
        "paused_at",
        "paused_business",
        "met_at",
        "breached_at",
        "business_elapsed",
        "next_action_at",
    )
    readonly_fields = fields
    inlines = [SlaClockEventInline, EscalationFiringInline]

    @admin.display(description="ticket", ordering="ticket__reference")
    def ticket_link(self, obj: SlaClock) -> SafeString:
        return admin_link(obj.ticket, obj.ticket.reference)

    @admin.display(description="SLA standing", ordering="state")
    def standing_badge(self, obj: SlaClock) -> SafeString:
        """The one SLA standing (a clock without a target says "No target", never "Running")."""
        # The standing alone (no business time left): no calendar to read, no query per row.
        standing = standing_of(obj, now=timezone.now())
        return format_html('<span class="sla-badge sla-{}">{}</span>', standing, standing.label)

    @admin.display(description="target", ordering="target")
    def target_text(self, obj: SlaClock) -> str:
        return target_text(obj.target)

    @admin.display(description="severity", ordering="severity__level")
    def severity_level(self, obj: SlaClock) -> int:
        return obj.severity.level


@admin.register(EscalationFiring)
class EscalationFiringAdmin(ReadOnlyAdmin):
    list_display = [
        "fired_at",
        "ticket_link",
        "metric",
        "rule_text",
        "due_at",
        "late",
        "fell_back",
        "moved_to",
    ]
    list_select_related = ["clock__ticket"]
    list_filter = ["late", "fell_back", "clock__metric"]
    search_fields = ["clock__ticket__reference", "rule_text"]
    date_hierarchy = "fired_at"
    fields = (
        "ticket_link",
        "clock_link",
        "rule",
        "rule_text",
        "due_at",
        "fired_at",
        "late",
        "notified",
        "fell_back",
        "fallback_reason",
        "moved_to",
    )
    readonly_fields = fields

    @admin.display(description="ticket", ordering="clock__ticket__reference")
    def ticket_link(self, obj: EscalationFiring) -> SafeString:
        ticket = obj.clock.ticket
        return admin_link(ticket, ticket.reference)

    @admin.display(description="clock")
    def clock_link(self, obj: EscalationFiring) -> SafeString:
        return admin_link(obj.clock)

    @admin.display(description="metric", ordering="clock__metric")
    def metric(self, obj: EscalationFiring) -> str:
        return obj.clock.get_metric_display()
