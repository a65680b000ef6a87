"""Tickets and their life: queues, messages, attachments, the event log, time and escalations."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from plans.models import Channel, Organization, Plan, Severity, TicketCategory

REFERENCE_PREFIX = "HD-"


class Queue(models.Model):
    """A support tier (L1, L2, L3 ...) and the agents who work it."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0, help_text="Tier order: L1 first.")
    agents = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="queues")

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("admin:tickets_queue_change", args=[self.pk])


class Status(models.TextChoices):
    NEW = "new", "New"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    IN_PROGRESS = "in_progress", "In progress"
    WAITING = "waiting", "Waiting on customer"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.WAITING)


class Ticket(models.Model):
    # Empty (NULL) only inside the submitting transaction, between the insert and setting
    # "HD-<pk>"; NULLs never collide under the unique constraint, an empty string would.
    reference = models.CharField(  # noqa: DJ001
        max_length=20, unique=True, null=True, editable=False
    )
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="tickets")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="requested_tickets"
    )
    # The plan whose support applies (the base tier while onboarding is incomplete), fixed at
    # submission so the promise made to the customer does not move under them.
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="tickets")
    category = models.ForeignKey(
        TicketCategory, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    severity = models.ForeignKey(Severity, on_delete=models.PROTECT, related_name="tickets")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.PORTAL)
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    queue = models.ForeignKey(
        Queue, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    out_of_scope_reason = models.CharField(max_length=300, blank=True)
    release = models.ForeignKey(
        "tickets.Release",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        help_text="The maintenance release the fix is planned for.",
    )
    severity_clarification = models.TextField(
        blank=True, help_text="Support's open question about the chosen severity."
    )
    post_incident_report_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # An out-of-scope reason only makes sense on a ticket closed for it.
            models.CheckConstraint(
                condition=Q(out_of_scope_reason="") | Q(status=Status.CLOSED),
                name="ticket_out_of_scope_only_when_closed",
            ),
        ]
        indexes = [
            # The portal dashboard: an organization's tickets, newest first, by status.
            models.Index(fields=["organization", "-created_at"], name="ticket_org_created"),
            models.Index(fields=["organization", "status"], name="ticket_org_status"),
            # The agents' queue: open tickets per queue and per assignee.
            models.Index(
                fields=["queue", "status"],
                name="ticket_open_by_queue",
                condition=~Q(status__in=["resolved", "closed"]),
            ),
            models.Index(fields=["assignee", "status"], name="ticket_by_assignee"),
        ]

    def __str__(self) -> str:
        return f"{self.reference or 'HD-?'}: {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("tickets:detail", args=[self.reference])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Message(models.Model):
    class Kind(models.TextChoices):
        PUBLIC = "public", "Public reply"
        INTERNAL = "internal", "Internal note"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PUBLIC)
    from_customer = models.BooleanField(default=False)
    body = models.TextField(help_text="Markdown.")
    body_html = models.TextField(editable=False, help_text="Rendered and sanitized.")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # Customers never write internal notes.
            models.CheckConstraint(
                condition=Q(from_customer=False) | Q(kind="public"),
                name="message_customer_public_only",
            ),
        ]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_created")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.ticket_id} by {self.author_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.ticket_id}/{Path(filename).name}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("tickets:attachment", args=[self.ticket.reference, self.pk])


class TicketEvent(models.Model):
    """Append-only log of every change to a ticket: who, when, what, why."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        ASSIGNED = "assigned", "Assigned"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        REPLIED = "replied", "Public reply"
        NOTE = "note", "Internal note"
        CUSTOMER_REPLIED = "customer_replied", "Customer replied"
        STATUS = "status", "Status changed"
        WAITING = "waiting", "Waiting on customer"
        RESOLVED = "resolved", "Resolved"
        REOPENED = "reopened", "Reopened"
        CLOSED = "closed", "Closed"
        OUT_OF_SCOPE = "out_of_scope", "Closed as out of scope"
        SEVERITY = "severity", "Severity changed"
        CLARIFICATION = "clarification", "Severity clarification requested"
        QUEUE = "queue", "Moved to a queue"
        ATTACHMENT = "attachment", "Attachment added"
        PIR_REQUESTED = "pir_requested", "Post-incident report requested"
        ESCALATION_REQUESTED = "escalation_requested", "Customer requested escalation"
        ESCALATION_UNWARRANTED = "escalation_unwarranted", "Escalation marked unwarranted"
        SLA_ESCALATED = "sla_escalated", "Escalated by SLA rule"
        TIME_LOGGED = "time_logged", "Time logged"
        RELEASE_PLANNED = "release_planned", "Planned for a release"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    at = models.DateTimeField()
    summary = models.CharField(max_length=300)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    customer_visible = models.BooleanField(default=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ticket", "at"], name="event_ticket_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.summary}"


class CustomerEscalation(models.Model):
    """A customer's request to escalate (Vmoso priorities 2-4); agents may mark it unwarranted."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="customer_escalations"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField()
    requested_at = models.DateTimeField()
    unwarranted = models.BooleanField(default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "unwarranted"], name="escalation_org_unwarranted")
        ]

    def __str__(self) -> str:
        return f"Escalation of {self.ticket} by {self.requested_by}"


class TimeEntry(models.Model):
    """Time an agent spent on a ticket; billable time draws on the support-hour allowance."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="time_entries")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    date = models.DateField(help_text="Day worked, in the organization's time zone.")
    minutes = models.PositiveIntegerField()
    billable = models.BooleanField(default=True)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name_plural = "time entries"
        constraints = [
            # A day has 1440 minutes; zero-minute entries say nothing.
            models.CheckConstraint(
                condition=Q(minutes__gte=1) & Q(minutes__lte=1440), name="time_entry_minutes_range"
            ),
        ]
        indexes = [models.Index(fields=["ticket", "date"], name="time_entry_ticket_date")]

    def __str__(self) -> str:
        return f"{self.minutes} min on {self.ticket} ({self.date})"


class HoursWarning(models.Model):
    """A support-hours warning sent for one contract period at one threshold (sent once)."""

    contract = models.ForeignKey(
        "plans.Contract", on_delete=models.CASCADE, related_name="hours_warnings"
    )
    period_start = models.DateField()
    threshold = models.PositiveSmallIntegerField(help_text="Percent of the allowance: 80 or 100.")
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-period_start", "threshold"]
        constraints = [
            # Each warning goes out once per period, however many workers check.
            models.UniqueConstraint(
                fields=["contract", "period_start", "threshold"], name="hours_warning_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.threshold}% warning for {self.contract} from {self.period_start}"


# Models that live in their own packages but belong to this app (label `tickets`).
from tickets.kb.models import (  # noqa: E402
    Article,
    ArticleCategory,
    ArticleRevision,
    ArticleTag,
    ArticleView,
    HelpSearch,
)
from tickets.releases.models import Release  # noqa: E402

__all__ = [
    "OPEN_STATUSES",
    "REFERENCE_PREFIX",
    "Article",
    "ArticleCategory",
    "ArticleRevision",
    "ArticleTag",
    "ArticleView",
    "Attachment",
    "CustomerEscalation",
    "HelpSearch",
    "HoursWarning",
    "Message",
    "Queue",
    "Release",
    "Status",
    "Ticket",
    "TicketEvent",
    "TimeEntry",
]
