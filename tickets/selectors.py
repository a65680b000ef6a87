"""Reads for the customer portal.

Every read is scoped to the viewer's organization: a ticket or attachment of another
organization is simply not found (the views turn that into a 404, never a 403, so an outsider
cannot even learn that a reference exists). Querysets carry their own `select_related` and
`prefetch_related`, so a list costs the same number of queries for 5 rows as for 500.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from plans.models import NamedContact, Organization, Plan, Severity
from sla.models import LIVE_STATES, ClockState, Metric, SlaClock, SupportHours, Target
from tickets.models import OPEN_STATUSES, Attachment, Message, Ticket, TicketEvent

STATUS_FILTERS = {
    "open": "Open",
    "closed": "Resolved and closed",
    "all": "All",
}


def contact_for(*, user: AbstractBaseUser) -> NamedContact | None:
    """The viewer's named-contact row (with the organization), or None for anyone else."""
    if not user.is_authenticated:
        return None
    cached = getattr(user, "_portal_contact", False)
    if cached is not False:
        return cached  # type: ignore[return-value]
    contact = NamedContact.objects.select_related("organization").filter(user_id=user.pk).first()
    user._portal_contact = contact  # type: ignore[attr-defined]
    return contact


def organization_for(*, user: AbstractBaseUser) -> Organization:
    """The viewer's organization; 404 for people who are not named contacts."""
    contact = contact_for(user=user)
    if contact is None:
        raise Http404("Not a named contact of a customer organization.")
    return contact.organization


def _live_clocks() -> Prefetch:
    """Live clocks with a due instant, soonest first: the dashboard's "next due" column."""
    return Prefetch(
        "sla_clocks",
        queryset=SlaClock.objects.filter(state__in=LIVE_STATES, due_at__isnull=False).order_by(
            "due_at"
        ),
        to_attr="live_clocks",
    )


def portal_tickets(
    *,
    organization: Organization,
    status: str = "open",
    severity: int | None = None,
    search: str = "",
) -> QuerySet[Ticket]:
    """The organization's tickets, newest first, filtered as the dashboard asks."""
    tickets = Ticket.objects.filter(organization=organization).select_related(
        "severity", "requester", "category"
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
    return Severity.objects.filter(policy__plans__contracts__organization=organization).distinct()


def ticket_for_viewer(*, user: AbstractBaseUser, reference: str) -> Ticket:
    """A ticket of the viewer's organization, or 404."""
    organization = organization_for(user=user)
    ticket = (
        Ticket.objects.select_related(
            "severity", "category", "plan", "plan__policy", "requester", "organization", "release"
        )
        .filter(organization=organization, reference=reference)
        .first()
    )
    if ticket is None:
        raise Http404("No such ticket.")
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


def attachment_for_viewer(*, user: AbstractBaseUser, reference: str, pk: int) -> Attachment:
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


def duration_text(value: dt.timedelta | None) -> str | None:
    """`4 h`, `30 min`, `1 h 30 min`; None when there is no target (no guarantee)."""
    if value is None:
        return None
    minutes = int(value.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} h")
    if minutes or not hours:
        parts.append(f"{minutes} min")
    return " ".join(parts)


@dataclass(frozen=True)
class ClockView:
    """One metric's clock on the ticket page: label, due instant and a state in plain words."""

    metric: str
    label: str
    cycle: int
    target: dt.timedelta | None
    due_at: dt.datetime | None
    met_at: dt.datetime | None
    state: str  # on_track, at_risk, breached, paused, met_on_time, met_late, no_guarantee
    state_label: str
    calendar_name: str

    @property
    def target_text(self) -> str | None:
        return duration_text(self.target)


STATE_LABELS = {
    "on_track": "On track",
    "at_risk": "At risk",
    "breached": "Breached",
    "paused": "Paused (waiting on you)",
    "met_on_time": "Met on time",
    "met_late": "Met late",
    "no_guarantee": "No guarantee",
    "cancelled": "Stopped",
}


def clock_state(clock: SlaClock, *, now: dt.datetime) -> str:
    """The customer-facing state of one clock at `now`."""
    if clock.target is None:
        return "no_guarantee"
    if clock.state == ClockState.MET:
        late = clock.breached_at is not None or (
            clock.due_at is not None and clock.met_at is not None and clock.met_at > clock.due_at
        )
        return "met_late" if late else "met_on_time"
    if clock.state == ClockState.CANCELLED:
        return "cancelled"
    if (
        clock.state == ClockState.BREACHED
        or clock.breached_at is not None
        or (clock.due_at is not None and clock.due_at <= now)
    ):
        return "breached"
    if clock.state == ClockState.PAUSED:
        return "paused"
    if clock.at_risk_at is not None and clock.at_risk_at <= now:
        return "at_risk"
    return "on_track"


def ticket_clocks(*, ticket: Ticket, now: dt.datetime) -> list[ClockView]:
    """The latest cycle of each metric's clock (a reopen starts a new resolution cycle)."""
    latest: dict[str, SlaClock] = {}
    for clock in (
        SlaClock.objects.filter(ticket=ticket)
        .select_related("calendar")
        .order_by("metric", "cycle")
    ):
        latest[clock.metric] = clock
    views = []
    for metric in Metric:
        clock = latest.get(metric.value)
        if clock is None:
            continue
        state = clock_state(clock, now=now)
        views.append(
            ClockView(
                metric=metric.value,
                label=metric.label,
                cycle=clock.cycle,
                target=clock.target,
                due_at=clock.due_at,
                met_at=clock.met_at,
                state=state,
                state_label=STATE_LABELS[state],
                calendar_name=clock.calendar.name,
            )
        )
    return views


def next_due(ticket: Ticket, *, now: dt.datetime) -> ClockView | None:
    """The soonest live clock with a target, from the dashboard's prefetch (no query)."""
    clocks = getattr(ticket, "live_clocks", None)
    if not clocks:
        return None
    clock = clocks[0]
    state = clock_state(clock, now=now)
    return ClockView(
        metric=clock.metric,
        label=Metric(clock.metric).label,
        cycle=clock.cycle,
        target=clock.target,
        due_at=clock.due_at,
        met_at=clock.met_at,
        state=state,
        state_label=STATE_LABELS[state],
        calendar_name="",
    )


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

    @property
    def has_guarantee(self) -> bool:
        return any(v is not None for v in (self.acknowledge, self.first_response, self.resolution))

    @property
    def cells(self) -> list[str | None]:
        """Acknowledge, first response and resolution as text; None: no guarantee."""
        return [duration_text(v) for v in (self.acknowledge, self.first_response, self.resolution)]


def response_times(*, plan: Plan) -> list[TargetRow]:
    """The plan's targets per severity (and category); severities without a row: no guarantee.

    Three queries: the severities, the target rows, the plan's support hours.
    """
    severities = list(Severity.objects.filter(policy_id=plan.policy_id).order_by("level"))
    targets = list(
        Target.objects.filter(plan=plan)
        .select_related("severity", "category", "calendar")
        .order_by("severity__level", "category__position", "category__name")
    )
    hours = SupportHours.objects.filter(plan=plan).select_related("calendar").first()
    default_calendar = hours.calendar.name if hours else ""
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
                    category_name=target.category.name if target.category_id else "",
                    acknowledge=target.acknowledge,
                    first_response=target.first_response,
                    resolution=target.resolution,
                    calendar_name=target.calendar.name,
                    note=target.note,
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
