"""Reads for the customer portal.

Every read is scoped to the viewer's organization: a ticket or attachment of another
organization is simply not found (the views turn that into a 404, never a 403, so an outsider
cannot even learn that a reference exists). Querysets carry their own `select_related` and
`prefetch_related`, so a list costs the same number of queries for 5 rows as for 500.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Count, Min, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from helpdesk.formatting import human_duration
from plans.models import NamedContact, Organization, Plan, Severity
from plans.selectors import named_contact
from sla.models import LIVE_STATES, BusinessCalendar, Metric, SlaClock, SupportHours, Target
from sla.selectors import standing_for
from sla.standing import ClockStanding, Standing, most_urgent
from tickets.models import (
    OPEN_STATUSES,
    Attachment,
    DeliveryStatus,
    Message,
    OutgoingNotification,
    Ticket,
    TicketEvent,
)

STATUS_FILTERS = {
    "open": "Open",
    "closed": "Resolved and closed",
    "all": "All",
}


def contact_for(*, user: User) -> NamedContact | None:
    """The viewer's named-contact row (with the organization), or None for anyone else."""
    return named_contact(user=user)


def organization_for(*, user: User) -> Organization:
    """The viewer's organization; 404 for people who are not named contacts."""
    contact = contact_for(user=user)
    if contact is None:
        raise Http404("Not a named contact of a customer organization.")
    return contact.organization


def _live_clocks() -> Prefetch:
    """Live clocks with a target and their calendars: the dashboard's "next due" column."""
    return Prefetch(
        "sla_clocks",
        queryset=SlaClock.objects.filter(state__in=LIVE_STATES, target__isnull=False)
        .select_related("calendar")
        .order_by("due_at", "id"),
        to_attr="live_clocks",
    )


LISTED_FIELDS = [
    "reference",
    "subject",
    "status",
    "created_at",
    "updated_at",
    "organization",
    "severity__level",
    "severity__name",
    "severity__definition",
    "requester__username",
    "requester__first_name",
    "requester__last_name",
]
"""What the dashboard's list shows of a ticket (its cards and rows, `tickets.templatetags.pieces`):
a list of 25 loads these only; the query count tests catch a piece that reads more."""


def portal_tickets(
    *,
    organization: Organization,
    status: str = "open",
    severity: int | None = None,
    search: str = "",
) -> QuerySet[Ticket]:
    """The organization's tickets, newest first, filtered as the dashboard asks, with what its
    list shows (`LISTED_FIELDS`) and their live clocks."""
    tickets = (
        Ticket.objects.filter(organization=organization)
        .select_related("severity", "requester")
        .only(*LISTED_FIELDS)
    )
    if status == "open":
        tickets = tickets.filter(status__in=OPEN_STATUSES)
    elif status == "closed":
        tickets = tickets.exclude(status__in=OPEN_STATUSES)
    if severity is not None:
        tickets = tickets.filter(severity__level=severity)
    search = search.strip()
    if search:
        tickets = tickets.filter(
            Q(reference__iexact=search)
            | Q(subject__icontains=search)
            | Q(reference__icontains=search)
        )
    return tickets.prefetch_related(_live_clocks()).order_by("-created_at", "-id")


def severities_for(*, organization: Organization) -> QuerySet[Severity]:
    """Severity levels used by the organization's plans (for the dashboard's filter)."""
    return (
        Severity.objects.filter(policy__plans__contracts__organization=organization)
        .only("level", "name")
        .distinct()
    )


def ticket_for_viewer(*, user: User, reference: str) -> Ticket:
    """A ticket of the viewer's organization, or 404."""
    organization = organization_for(user=user)
    ticket = (
        Ticket.objects.select_related(
            "severity", "category", "plan", "plan__policy", "requester", "release"
        )
        .filter(organization=organization, reference=reference)
        .first()
    )
    if ticket is None:
        raise Http404("No such ticket.")
    # The viewer's organization, read above: one join fewer for the database to plan.
    ticket.organization = organization
    return ticket


def ticket_conversation(*, ticket: Ticket) -> QuerySet[Message]:
    """Public messages only (customers never see internal notes), with their attachments."""
    return (
        Message.objects.filter(ticket=ticket, kind=Message.Kind.PUBLIC)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
        .order_by("created_at", "id")
    )


def ticket_loose_attachments(*, ticket: Ticket) -> QuerySet[Attachment]:
    """Attachments added outside a message (public, since internal ones belong to notes)."""
    return Attachment.objects.filter(ticket=ticket, message__isnull=True).select_related(
        "uploaded_by"
    )


def ticket_timeline(*, ticket: Ticket) -> QuerySet[TicketEvent]:
    """The events a customer may see, oldest first."""
    return (
        TicketEvent.objects.filter(ticket=ticket, customer_visible=True)
        .select_related("actor")
        .order_by("at", "id")
    )


def attachment_for_viewer(*, user: User, reference: str, pk: int) -> Attachment:
    """An attachment the viewer may download: their organization's ticket, not on a note."""
    organization = organization_for(user=user)
    attachment = (
        Attachment.objects.select_related("ticket")
        .filter(pk=pk, ticket__reference=reference, ticket__organization=organization)
        .exclude(message__kind=Message.Kind.INTERNAL)
        .first()
    )
    if attachment is None:
        raise Http404("No such attachment.")
    return attachment


# -- SLA clocks, as the customer sees them ----------------------------------------------------


@dataclass(frozen=True)
class ClockView:
    """One metric's clock as the customer sees it: its standing, due instant and time left."""

    metric: str
    label: str
    cycle: int
    met_at: dt.datetime | None
    standing: ClockStanding
    calendar_name: str
    wording: str = ""  # the policy's own words for this target ("2 - 4 business days")

    @property
    def target(self) -> dt.timedelta | None:
        return self.standing.target

    @property
    def due_at(self) -> dt.datetime | None:
        return self.standing.due_at

    @property
    def state(self) -> str:
        return str(self.standing.standing)

    @property
    def state_label(self) -> str:
        return CUSTOMER_LABELS.get(self.standing.standing, self.standing.label)

    @property
    def target_text(self) -> str | None:
        return None if self.target is None else human_duration(self.target)

    @property
    def business_left_text(self) -> str | None:
        """`2 h 10 min left`, `30 min over`: business time, on the clock's calendar."""
        left = self.standing.business_left
        if left is None:
            return None
        if left < dt.timedelta(0):
            return f"{human_duration(-left)} over"
        return f"{human_duration(left)} left"


CUSTOMER_LABELS = {Standing.PAUSED: "Paused (waiting on you)"}


def clock_view(
    clock: SlaClock, *, now: dt.datetime, wording: dict[str, str] | None = None
) -> ClockView:
    return ClockView(
        metric=clock.metric,
        label=Metric(clock.metric).label,
        cycle=clock.cycle,
        met_at=clock.met_at,
        standing=standing_for(clock, now=now),
        calendar_name=calendar_label(clock.calendar.name, clock.time_zone),
        wording=(wording or {}).get(clock.metric, "") if clock.target is not None else "",
    )


def ticket_clocks(*, ticket: Ticket, now: dt.datetime) -> list[ClockView]:
    """The latest cycle of each metric's clock (a reopen starts a new resolution cycle), each
    worded by the target row of its own terms: after a severity change the live clocks run on
    the new severity's targets, a clock met before it keeps the target (and words) it was met
    under. Two queries."""
    latest: dict[str, SlaClock] = {}
    for clock in (
        SlaClock.objects.filter(ticket=ticket)
        .select_related("calendar")
        .order_by("metric", "cycle")
    ):
        latest[clock.metric] = clock
    wording = target_wording(
        terms={(c.plan_id, c.severity_id, c.category_id) for c in latest.values()}
    )
    ordered = [latest[metric.value] for metric in Metric if metric.value in latest]
    return [
        clock_view(
            clock,
            now=now,
            wording=wording.get((clock.plan_id, clock.severity_id, clock.category_id)),
        )
        for clock in ordered
    ]


def calendar_label(name: str, time_zone: str) -> str:
    """A calendar's name, with the customer's zone when its hours follow the customer."""
    return f"{name} ({time_zone})" if time_zone else name


Terms = tuple[int, int, int | None]  # plan, severity, category


def target_wording(*, terms: set[Terms]) -> dict[Terms, dict[str, str]]:
    """The policy's words for the target row each (plan, severity, category) uses: its
    category's row, else the plan's row for the severity. One query (none for no terms)."""
    if not terms:
        return {}
    rows = Target.objects.filter(
        plan_id__in={plan for plan, _, _ in terms},
        severity_id__in={severity for _, severity, _ in terms},
    ).values("plan_id", "severity_id", "category_id", "wording")
    found: dict[Terms, dict[str, str]] = {
        (row["plan_id"], row["severity_id"], row["category_id"]): row["wording"] or {}
        for row in rows
    }
    return {
        (plan, severity, category): found.get(
            (plan, severity, category), found.get((plan, severity, None), {})
        )
        for plan, severity, category in terms
    }


def next_due(ticket: Ticket, *, now: dt.datetime) -> ClockView | None:
    """The most urgent live clock with a target, from the dashboard's prefetch (no query)."""
    views = [clock_view(clock, now=now) for clock in getattr(ticket, "live_clocks", [])]
    urgent = most_urgent([view.standing for view in views])
    return next((view for view in views if view.standing is urgent), None)


# -- the plan page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetRow:
    severity: Severity
    category_name: str
    acknowledge: dt.timedelta | None
    first_response: dt.timedelta | None
    resolution: dt.timedelta | None
    calendar_name: str
    note: str
    wording: dict[str, str] | None = None

    @property
    def has_guarantee(self) -> bool:
        return any(v is not None for v in (self.acknowledge, self.first_response, self.resolution))

    @property
    def cells(self) -> list[str | None]:
        """Acknowledge, first response and resolution as text; None: no guarantee."""
        return [
            None if v is None else human_duration(v)
            for v in (self.acknowledge, self.first_response, self.resolution)
        ]

    @property
    def worded_cells(self) -> list[tuple[str | None, str]]:
        """Each cell with the policy's own words for it ("" where the policy gives none)."""
        words = self.wording or {}
        metrics = ("acknowledge", "first_response", "resolution")
        return [
            (cell, words.get(metric, "") if cell else "")
            for cell, metric in zip(self.cells, metrics, strict=True)
        ]


def response_times(*, plan: Plan, time_zone: str = "") -> list[TargetRow]:
    """The plan's targets per severity (and category); severities without a row: no guarantee.

    `time_zone`: the customer's, named beside calendars of local business hours.
    Three queries: the severities, the target rows, the plan's support hours.
    """
    severities = list(Severity.objects.filter(policy_id=plan.policy_id).order_by("level"))
    targets = list(
        Target.objects.filter(plan=plan)
        .select_related("severity", "category", "calendar")
        .order_by("severity__level", "category__position", "category__name")
    )
    hours = SupportHours.objects.filter(plan=plan).select_related("calendar").first()

    def label(calendar: BusinessCalendar) -> str:
        return calendar_label(
            calendar.name, time_zone if calendar.follows_organization and time_zone else ""
        )

    default_calendar = label(hours.calendar) if hours else ""
    by_level: dict[int, list[Target]] = {}
    for target in targets:
        by_level.setdefault(target.severity.level, []).append(target)
    rows = []
    for severity in severities:
        found = by_level.get(severity.level)
        if not found:
            rows.append(TargetRow(severity, "", None, None, None, default_calendar, ""))
            continue
        for target in found:
            rows.append(
                TargetRow(
                    severity=severity,
                    category_name=target.category.name if target.category is not None else "",
                    acknowledge=target.acknowledge,
                    first_response=target.first_response,
                    resolution=target.resolution,
                    calendar_name=label(target.calendar),
                    note=target.note,
                    wording=target.wording or {},
                )
            )
    return rows


def plan_categories(*, plan: Plan) -> list:
    return list(plan.categories.order_by("position", "name"))


def organization_contacts(*, organization: Organization) -> QuerySet[NamedContact]:
    return (
        NamedContact.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    )


def contact_of_organization(*, organization: Organization, pk: int) -> NamedContact:
    contact = organization_contacts(organization=organization).filter(pk=pk).first()
    if contact is None:
        raise Http404("No such contact.")
    return contact


@dataclass(frozen=True)
class NotificationBacklog:
    """Mails not sent yet: for the admin, and for /readyz (a growing backlog means no worker).
    Ticket updates held for their grouping window are not late: they are `held`, apart."""

    pending: int
    sending: int
    failed: int
    oldest_pending_age: dt.timedelta | None
    held: int = 0

    @property
    def unsent(self) -> int:
        return self.pending + self.sending

    @property
    def oldest_pending_minutes(self) -> int | None:
        age = self.oldest_pending_age
        return None if age is None else int(age.total_seconds()) // 60


def notification_backlog(*, now: dt.datetime | None = None) -> NotificationBacklog:
    """Counts of pending (due), held (in a grouping window), sending and failed notifications
    and how long the oldest unsent one has been due, in one query over the partial index of
    unsent rows."""
    now = now or timezone.now()
    held = Q(status=DeliveryStatus.PENDING, send_after__gt=now)
    unsent = Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.SENDING]) & ~held
    counts = OutgoingNotification.objects.exclude(status=DeliveryStatus.SENT).aggregate(
        pending=Count("pk", filter=Q(status=DeliveryStatus.PENDING) & ~held),
        held=Count("pk", filter=held),
        sending=Count("pk", filter=Q(status=DeliveryStatus.SENDING)),
        failed=Count("pk", filter=Q(status=DeliveryStatus.FAILED)),
        oldest=Min("send_after", filter=unsent),
    )
    oldest = counts["oldest"]
    return NotificationBacklog(
        pending=counts["pending"],
        sending=counts["sending"],
        failed=counts["failed"],
        held=counts["held"],
        oldest_pending_age=max(now - oldest, dt.timedelta(0)) if oldest else None,
    )
