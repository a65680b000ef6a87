"""The agents' workplace: the ticket changelist is the queue, the change page is the ticket.

Every write goes through `tickets.services`: the ticket's own fields are read-only here, and the
forms on the change page post to the custom views of `tickets.admin_views`, which call one
service each. The queue runs a fixed number of queries whatever the number of rows: the live
clocks of the page's tickets come in one prefetch and the next due instant is an annotation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString

from helpdesk.adminkit import NoAddDeleteMixin, ReadOnlyAdmin
from helpdesk.formatting import badge_duration
from helpdesk.http import AuthenticatedHttpRequest, parse_int
from plans.admin import EMPTY, admin_link, changelist_link
from plans.models import TicketCategory
from plans.selectors import contract_active
from sla.admin import SeverityLevelFilter
from sla.models import ClockState, SlaClock
from sla.selectors import standing_for, ticket_standing_conditions
from sla.standing import AT_RISK_SHARE, Standing, most_urgent
from tickets import services
from tickets.desk import (  # noqa: F401  (they register their admins)
    clock_admin,
    email_admin,
    notifications_admin,
    organization_admin,
)
from tickets.desk.queue_pages import queue_paginator
from tickets.desk.views import TicketActionsMixin, TicketWorkMixin
from tickets.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    CustomerEscalation,
    Queue,
    Ticket,
    TicketEvent,
    TimeEntry,
)
from tickets.queue_order import BREACH_SOONEST, urgency_order

# Clocks that can still be met or missed, and whose due instant runs (a paused clock's due
# instant moves when it resumes, so it is not "next due").
DUE_STATES = (ClockState.RUNNING, ClockState.BREACHED)
LIVE = (ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED)


def live_target_clocks() -> QuerySet[SlaClock]:
    """Live clocks with a target (and their calendars): the ones a badge can speak about."""
    return (
        SlaClock.objects.filter(state__in=LIVE, target__isnull=False)
        .select_related("calendar")
        .order_by("due_at", "pk")
    )


# --------------------------------------------------------------------------------------------
# The SLA badge


BADGE_CLASSES = {
    Standing.BREACHED: "sla-breached",
    Standing.AT_RISK: "sla-amber",
    Standing.ON_TRACK: "sla-ok",
    Standing.PAUSED: "sla-paused",
}


def sla_badge_parts(clocks: list[SlaClock], now: dt.datetime) -> tuple[str, str, str] | None:
    """(css class, text, title) of the badge: the most urgent live clock, in business time.

    The text names the standing ("Breached", "At risk", ...) and the business time left or over
    on the clock's calendar; the title gives the metric and the wall-clock due instant.
    """
    standings = {id(clock): standing_for(clock, now=now) for clock in clocks}
    urgent = most_urgent(list(standings.values()))
    if urgent is None:
        return None
    clock = next(c for c in clocks if standings[id(c)] is urgent)
    left = urgent.business_left
    if left is None:
        amount = ""
    elif left < dt.timedelta(0):
        amount = f" \u00b7 {badge_duration(left)} over"
    else:
        amount = f" \u00b7 {badge_duration(left)} left"
    due = ""
    if urgent.due_at is not None:
        local = timezone.localtime(urgent.due_at)
        due = f", due {local:%a %d %b %H:%M} {local.tzname()}"
    paused = (
        " (clock paused, waiting on the customer)" if urgent.standing == Standing.PAUSED else ""
    )
    return (
        BADGE_CLASSES[urgent.standing],
        f"{urgent.label}{amount}",
        f"{clock.get_metric_display()} {urgent.label.lower()}{due}{paused}",
    )


def sla_badge(clocks: list[SlaClock], now: dt.datetime) -> SafeString | str:
    parts = sla_badge_parts(clocks, now)
    if parts is None:
        return EMPTY
    css, text, title = parts
    standing, separator, amount = text.partition(" \u00b7 ")
    # Written out rather than through format_html: the queue shows one per row.
    head = f'<span class="sla-badge {escape(css)}" title="{escape(title)}">'
    if not separator:
        return SafeString(f"{head}{escape(text)}</span>")
    # The amount on a line of its own where the column is narrow (desk.css, phones).
    return SafeString(
        f'{head}{escape(standing)}<span class="sla-sep"> \u00b7 </span>'
        f'<span class="sla-amount">{escape(amount)}</span></span>'
    )


def short_instant(value: dt.datetime | None) -> SafeString | str:
    """`Fri 20 Nov 14:05 UTC`: 24-hour, in the viewer's zone, named (the year when not this one)."""
    if value is None:
        return EMPTY
    local = timezone.localtime(value)
    year = "" if local.year == timezone.localtime().year else f" {local.year}"
    # Written out rather than through format_html: the queue shows one per row.
    return SafeString(
        f'<time datetime="{escape(local.isoformat())}">{escape(f"{local:%a %d %b}")}{year} '
        f"{escape(f'{local:%H:%M} {local.tzname()}')}</time>"
    )


def severity_pill(ticket: Ticket) -> SafeString:
    severity = ticket.severity
    title = escape(severity.definition)
    return SafeString(
        f'<span class="sev-pill sev-{min(severity.level, 4)}" title="{title}">'
        f"{severity.level} {escape(severity.name)}</span>"
    )


# --------------------------------------------------------------------------------------------
# Filters


class AssignedFilter(admin.SimpleListFilter):
    title = "assigned to"
    parameter_name = "assigned"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [("mine", "Me"), ("nobody", "Nobody (unassigned)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        if self.value() == "mine":
            return queryset.filter(assignee_id=request.user.pk)
        if self.value() == "nobody":
            return queryset.filter(assignee__isnull=True)
        return queryset


class SlaStateFilter(admin.SimpleListFilter):
    """A ticket's most urgent live clock, by the one SLA standing (`sla.standing`)."""

    title = "SLA state"
    parameter_name = "sla"
    standings = (Standing.BREACHED, Standing.AT_RISK, Standing.PAUSED, Standing.ON_TRACK)

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        share = round(AT_RISK_SHARE * 100)
        labels = {Standing.AT_RISK: f"At risk ({share}% or more used)"}
        return [(str(s), labels.get(s, s.label)) for s in self.standings]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        standing = self.standing_asked(request)
        if standing is None:
            return queryset
        return queryset.filter(sla_state_q(standing, queue_instant(request)))

    @classmethod
    def standing_asked(cls, request: HttpRequest) -> Standing | None:
        value = request.GET.get(cls.parameter_name)
        return Standing(value) if value in cls.standings else None


def queue_instant(request: HttpRequest) -> dt.datetime:
    """The instant a view of the queue is read at, one per request: its filter by standing, its
    order and its page agree on it (and its page's compiled SQL is reused at the next one)."""
    instant: dt.datetime | None = getattr(request, "queue_instant", None)
    if instant is None:
        instant = timezone.now()
        request.queue_instant = instant  # type: ignore[attr-defined]
    return instant


def sla_state_q(standing: Standing, now: dt.datetime) -> Q:
    """Tickets whose most urgent live clock has `standing`, from the summary they store."""
    return ticket_standing_conditions(now=now, prefix="sla_")[standing]


class OpenFilter(admin.SimpleListFilter):
    """Open tickets unless asked otherwise: the queue is the work still to do."""

    title = "open or closed"
    parameter_name = "open"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [("no", "Resolved or closed"), ("all", "All")]

    def choices(self, changelist: Any) -> Any:
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Open",
        }
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        if self.value() == "all":
            return queryset
        if self.value() == "no":
            return queryset.filter(status__in=CLOSED_STATUSES)
        # Written as the queue's partial indexes' condition, so the database can use them.
        return queryset.exclude(status__in=CLOSED_STATUSES)


class CategoryFilter(admin.SimpleListFilter):
    """Categories named with their plan, in one query."""

    title = "category"
    parameter_name = "category"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        categories = TicketCategory.objects.select_related("plan").order_by(
            "plan__name", "position", "name"
        )
        return [(str(c.pk), f"{c.plan.name} \u00b7 {c.name}") for c in categories]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
        value = self.value()
        category_id = parse_int(value, max_digits=18)
        if category_id is not None:
            return queryset.filter(category_id=category_id)
        return queryset


# --------------------------------------------------------------------------------------------
# Queues


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position", "agent_count", "open_count"]
    list_editable = ["position"]
    search_fields = ["name", "slug"]
    filter_horizontal = ["agents"]
    fields = ["name", "slug", "position", "agents"]
    prepopulated_fields = {"slug": ["name"]}
    view_on_site = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Queue]:
        open_tickets = Ticket.objects.filter(queue=OuterRef("pk"), status__in=OPEN_STATUSES)
        return (
            super()
            .get_queryset(request)
            .annotate(
                agent_total=Count("agents", distinct=True),
                open_total=Subquery(
                    open_tickets.order_by().values("queue").annotate(n=Count("pk")).values("n")
                ),
            )
        )

    @admin.display(description="agents", ordering="agent_total")
    def agent_count(self, obj: Queue) -> int:
        return obj.agent_total  # type: ignore[attr-defined]

    @admin.display(description="open tickets", ordering="open_total")
    def open_count(self, obj: Queue) -> SafeString:
        total = obj.open_total or 0  # type: ignore[attr-defined]
        return changelist_link("tickets.ticket", total, queue__id__exact=obj.pk)


# --------------------------------------------------------------------------------------------
# Tickets: the queue


QUEUE_COLUMN_FIELDS = [
    "reference",
    "subject",
    "status",
    "updated_at",
    "organization__name",
    "plan__name",
    "severity__level",
    "severity__name",
    "severity__definition",
    "assignee__username",
    "queue__name",
]
"""What the queue's columns (`TicketAdmin.list_display`) read of a ticket and its related rows;
the live clocks come in their own prefetch."""


@admin.register(Ticket)
class TicketAdmin(NoAddDeleteMixin, TicketActionsMixin, TicketWorkMixin, admin.ModelAdmin):
    # No add: customers open tickets through the portal (entitlements apply). No delete: a
    # ticket is part of the record (events, clocks, hours): close it, never delete it.
    # The SLA badge first: the queue is ordered by it, and on a phone the badge, reference and
    # subject are what shows before the table scrolls sideways (in its own region).
    list_display = [
        "sla",
        "reference",
        "subject",
        "organization_name",
        "severity_pill",
        "status",
        "assignee",
        "queue",
        "updated",
    ]
    list_display_links = ["reference", "subject"]
    list_select_related = ["organization", "plan", "severity", "assignee", "queue"]
    list_filter = [
        AssignedFilter,
        SlaStateFilter,
        OpenFilter,
        "queue",
        ("severity__level", SeverityLevelFilter),
        "status",
        CategoryFilter,
    ]
    search_fields = ["reference", "subject", "organization__name", "requester__email"]
    list_per_page = 50
    show_full_result_count = False
    view_on_site = False
    fieldsets = [
        (None, {"fields": ["reference", "subject", "status", "sla"]}),
        (
            "Customer",
            {"fields": ["organization_link", "contract_link", "requester_link", "contacts"]},
        ),
        (
            "Triage",
            {
                "fields": [
                    "plan",
                    "category",
                    "severity_pill",
                    "severity_clarification",
                    "channel",
                    "assignee",
                    "queue",
                    "release",
                ]
            },
        ),
        (
            "Dates",
            {
                "fields": [
                    "created_at",
                    "updated_at",
                    "resolved_at",
                    "post_incident_report_requested_at",
                    "out_of_scope_reason",
                ]
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Ticket]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch("sla_clocks", queryset=live_target_clocks(), to_attr="live_clocks")
            )
        )

    def get_ordering(self, request: HttpRequest) -> list[Any]:
        return urgency_order(queue_instant(request))

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: QuerySet[Any],
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> Paginator:
        if queryset.model is not Ticket:  # the history page pages its log entries here too
            return super().get_paginator(request, queryset, per_page, orphans)
        standing = SlaStateFilter.standing_asked(request)
        # The page's rows load only what the columns show (a fifth of the columns, a third of
        # the time to build the rows); the fixed query count catches a column that needs more.
        rows = queryset.only(*QUEUE_COLUMN_FIELDS)
        now = queue_instant(request)
        return queue_paginator(request, rows, per_page, now=now, standing=standing)

    def get_readonly_fields(self, request: HttpRequest, obj: Ticket | None = None) -> list[str]:
        return flatten_fieldsets(self.fieldsets)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "POST":
            # The ticket's fields are read-only; changes post to the work views.
            return HttpResponseRedirect(request.path)
        return super().changeform_view(request, object_id, form_url, extra_context)

    # -- columns ---------------------------------------------------------------------------

    def action_checkbox(self, obj: Ticket) -> SafeString:
        """Django's row checkbox, written out: its widget renders a template for each row."""
        label = escape(f"Select this object for an action - {obj}")
        return SafeString(
            f'<input type="checkbox" name="{helpers.ACTION_CHECKBOX_NAME}" value="{obj.pk}" '
            f'class="action-select" aria-label="{label}">'
        )

    @admin.display(description="organization", ordering="organization__name")
    def organization_name(self, obj: Ticket) -> SafeString:
        # The plan under the organization: one column, so the queue fits a laptop's width.
        return SafeString(
            f'{escape(obj.organization.name)}<br><span class="quiet queue-plan">'
            f"{escape(obj.plan.name)}</span>"
        )

    @admin.display(description="plan", ordering="plan__name")
    def plan_name(self, obj: Ticket) -> str:
        return obj.plan.name

    @admin.display(description="updated", ordering="updated_at")
    def updated(self, obj: Ticket) -> SafeString | str:
        return short_instant(obj.updated_at)

    @admin.display(description="severity", ordering="severity__level")
    def severity_pill(self, obj: Ticket) -> SafeString:
        return severity_pill(obj)

    @admin.display(description="SLA", ordering=BREACH_SOONEST)
    def sla(self, obj: Ticket) -> SafeString | str:
        clocks = getattr(obj, "live_clocks", None)
        if clocks is None:
            clocks = list(live_target_clocks().filter(ticket=obj))
        return sla_badge(clocks, timezone.now())

    # -- one click to the customer ---------------------------------------------------------

    @admin.display(description="organization")
    def organization_link(self, obj: Ticket) -> SafeString:
        return admin_link(obj.organization)

    @admin.display(description="contract")
    def contract_link(self, obj: Ticket) -> SafeString | str:
        contract = contract_active(organization=obj.organization)
        if contract is None:
            return "no contract in force"
        return admin_link(contract)

    @admin.display(description="requester")
    def requester_link(self, obj: Ticket) -> SafeString:
        requester = obj.requester
        contact = getattr(requester, "named_contact", None)
        name = requester.get_full_name() or requester.get_username()
        text = format_html("{} &lt;{}&gt;", name, requester.email or EMPTY)
        return admin_link(contact, text) if contact is not None else text

    @admin.display(description="named contacts")
    def contacts(self, obj: Ticket) -> SafeString | str:
        contacts = obj.organization.contacts.select_related("user", "organization")
        links = format_html_join(
            ", ",
            "{}",
            ((admin_link(contact, contact.user.get_username()),) for contact in contacts),
        )
        return links or EMPTY


# --------------------------------------------------------------------------------------------
# Customer escalations, time entries and the event log


@admin.register(CustomerEscalation)
class CustomerEscalationAdmin(NoAddDeleteMixin, admin.ModelAdmin):
    """Customers' escalation requests; agents mark the unwarranted ones (OpenBack's clause)."""

    list_display = [
        "requested_at",
        "ticket_link",
        "organization",
        "requested_by",
        "unwarranted",
        "reviewed_by",
        "reviewed_at",
    ]
    list_select_related = ["ticket", "organization", "requested_by", "reviewed_by"]
    list_filter = ["unwarranted", "organization"]
    search_fields = ["ticket__reference", "organization__name", "reason"]
    date_hierarchy = "requested_at"
    fields = (
        "ticket_link",
        "organization",
        "requested_by",
        "requested_at",
        "reason",
        "unwarranted",
        "reviewed_by",
        "reviewed_at",
        "review_note",
    )
    readonly_fields = fields
    actions = ["mark_unwarranted"]
    view_on_site = False

    @admin.display(description="ticket", ordering="ticket__reference")
    def ticket_link(self, obj: CustomerEscalation) -> SafeString:
        return admin_link(obj.ticket, obj.ticket.reference)

    @admin.action(description="Mark the selected escalations unwarranted", permissions=["change"])
    def mark_unwarranted(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[CustomerEscalation]
    ) -> None:
        done = 0
        for escalation in queryset.select_related("ticket"):
            try:
                services.escalation_mark_unwarranted(escalation=escalation, by=request.user)
            except ValidationError as error:
                messages.error(
                    request, f"{escalation.ticket.reference}: {' '.join(error.messages)}"
                )
            else:
                done += 1
        if done:
            messages.success(request, f"{done} escalation(s) marked unwarranted.")


@admin.register(TimeEntry)
class TimeEntryAdmin(ReadOnlyAdmin):
    """Time logged on tickets; new entries are logged on the ticket's page (through the service)."""

    list_display = ["date", "ticket_link", "organization", "agent", "minutes", "billable", "note"]
    list_select_related = ["ticket__organization", "agent"]
    list_filter = ["billable", "date", "ticket__organization"]
    search_fields = ["ticket__reference", "ticket__organization__name", "note"]
    date_hierarchy = "date"
    fields = ("ticket_link", "agent", "date", "minutes", "billable", "note", "created_at")
    readonly_fields = fields

    @admin.display(description="ticket", ordering="ticket__reference")
    def ticket_link(self, obj: TimeEntry) -> SafeString:
        return admin_link(obj.ticket, obj.ticket.reference)

    @admin.display(description="organization", ordering="ticket__organization__name")
    def organization(self, obj: TimeEntry) -> str:
        return obj.ticket.organization.name


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    """The append-only log: viewable, never added to, changed or deleted by hand."""

    list_display = ["at", "ticket_link", "kind", "actor", "summary", "customer_visible"]
    list_select_related = ["ticket", "actor"]
    list_filter = ["kind", "customer_visible"]
    search_fields = ["ticket__reference", "summary", "reason"]
    date_hierarchy = "at"
    fields = ("ticket_link", "at", "kind", "actor", "summary", "reason", "data", "customer_visible")
    readonly_fields = fields

    @admin.display(description="ticket", ordering="ticket__reference")
    def ticket_link(self, obj: TicketEvent) -> SafeString:
        return admin_link(obj.ticket, obj.ticket.reference)


# The knowledge base and maintenance releases register their own admin pages.
from tickets.kb import admin as kb_admin  # noqa: E402, F401
from tickets.releases import admin as releases_admin  # noqa: E402, F401
