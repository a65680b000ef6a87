"""Tickets and their life: queues, messages, attachments, the event log, time and escalations."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from helpdesk.formatting import instant
from plans.models import Channel, Organization, Plan, Severity, TicketCategory
from sla.selectors import ticket_sla_phase

REFERENCE_PREFIX = "HD-"
QUEUE_PHASE = ticket_sla_phase(prefix="sla_")
"""The SLA phase of a ticket as its queue indexes hold it (queries use this same expression)."""


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
CLOSED_STATUSES = (Status.RESOLVED, Status.CLOSED)


class Ticket(models.Model):
    # Empty (NULL) only inside the submitting transaction, between the insert and setting
    # "HD-<pk>"; NULLs never collide under the unique constraint, an empty string would.
    reference = models.CharField(  # noqa: DJ001
        max_length=20, unique=True, null=True, editable=False
    )
    # Not indexed alone: `ticket_org_created` and `ticket_org_status` lead with it (each index is
    # written by every insert and by every update of an indexed column).
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="tickets", db_index=False
    )
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
        db_index=False,  # `ticket_by_assignee` leads with it
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
    # The summary of its live SLA clocks (`sla.standing.TicketSla`), kept by the clock services in
    # the same transaction as the clocks: the queue filters and sorts on these, never on clocks.
    sla_breach_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_risk_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_due_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_paused = models.BooleanField(default=False, editable=False)
    # Its place among equally urgent tickets in the agents' queue, from its plan's priority and
    # its severity's level (`tickets.queue_order.queue_rank`): set with the plan and severity,
    # refreshed when a policy changes either (`tickets.services.standing`).
    queue_rank = models.IntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # An out-of-scope reason only makes sense on a ticket closed for it.
            models.CheckConstraint(
                condition=Q(out_of_scope_reason="") | Q(status=Status.CLOSED),
                name="ticket_out_of_scope_only_when_closed",
            ),
            # The SLA summary's invariants (`sla.standing.ticket_sla`): an at-risk instant comes
            # from a running clock, which has a due instant, which is a breach instant. The
            # queue reads each standing as ranges of `sla_breach_at` by relying on them.
            models.CheckConstraint(
                condition=Q(sla_risk_at__isnull=True) | Q(sla_due_at__isnull=False),
                name="ticket_sla_risk_needs_due",
            ),
            models.CheckConstraint(
                condition=Q(sla_due_at__isnull=True) | Q(sla_breach_at__isnull=False),
                name="ticket_sla_due_needs_breach",
            ),
        ]
        indexes = [
            # The portal dashboard: an organization's tickets, newest first, by status.
            models.Index(fields=["organization", "-created_at"], name="ticket_org_created"),
            models.Index(fields=["organization", "status"], name="ticket_org_status"),
            # Open tickets per queue (the queues' page counts them).
            models.Index(
                fields=["queue", "status"],
                name="ticket_open_by_queue",
                condition=~Q(status__in=["resolved", "closed"]),
            ),
            models.Index(fields=["assignee", "status"], name="ticket_by_assignee"),
            # The queue sorted by its SLA column: open tickets by the instant they breach.
            models.Index(
                fields=["sla_breach_at"],
                name="ticket_open_breach_at",
                condition=~Q(status__in=["resolved", "closed"]),
            ),
            # The agents' queue (`tickets.queue_order`): open tickets by rank, then (per filter)
            # assignee or queue, then SLA phase and breach instant, in the queue's order, so
            # each standing of each rank is one range read in order and only as far as a page
            # needs; the included columns let the reads skip the table.
            *(
                models.Index(
                    F("queue_rank"),
                    *[F(column) for column in columns],
                    QUEUE_PHASE,
                    F("sla_breach_at"),
                    F("created_at"),
                    F("id"),
                    name=name,
                    include=["sla_risk_at", "sla_due_at", "sla_paused"],
                    condition=~Q(status__in=["resolved", "closed"]),
                )
                for name, columns in [
                    ("ticket_queue", []),
                    ("ticket_queue_assignee", ["assignee_id"]),
                    ("ticket_queue_tier", ["queue_id"]),
                ]
            ),
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

    # Not indexed alone: `message_ticket_created` leads with it.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PUBLIC)
    from_customer = models.BooleanField(default=False)
    # How the message reached us: the portal (or the desk), an email, or a phone call or chat an
    # agent logged on the customer's behalf.
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.PORTAL)
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
        ESCALATION_FELL_BACK = "escalation_fell_back", "Escalation fell back to support managers"
        UNWARRANTED_WARNING = "unwarranted_warning", "Warned about unwarranted escalations"
        TIME_LOGGED = "time_logged", "Time logged"
        CONTACT_LOGGED = "contact_logged", "Call or chat logged"
        RELEASE_PLANNED = "release_planned", "Planned for a release"

    # No index of its own: the (ticket, at) index leads with it.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="events", db_index=False
    )
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
        return f"{instant(self.at, dt.UTC)} {self.summary}"


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


class UnwarrantedEscalationWarning(models.Model):
    """The notice that further unwarranted escalations will be charged (OpenBack), sent once per
    contract and period: the row is the record, the mail goes out on its commit."""

    contract = models.ForeignKey(
        "plans.Contract", on_delete=models.CASCADE, related_name="unwarranted_warnings"
    )
    period_start = models.DateField()
    period_end = models.DateField()
    unwarranted = models.PositiveSmallIntegerField(help_text="Unwarranted escalations counted.")
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-period_start"]
        constraints = [
            # The warning goes out once per period, however many agents mark escalations at once.
            models.UniqueConstraint(
                fields=["contract", "period_start"], name="unwarranted_warning_once"
            ),
        ]

    def __str__(self) -> str:
        return f"Unwarranted escalation warning for {self.contract} from {self.period_start}"


# -- email in and out, logged calls ------------------------------------------------------------


class InboundStatus(models.TextChoices):
    RECEIVED = "received", "Received, not processed yet"
    TICKET = "ticket", "Opened a ticket"
    REPLY = "reply", "Added to a ticket"
    CONTACT_CHANGE = "contact_change", "Named-contact change request"
    REFUSED = "refused", "Refused (explained by reply)"
    STRANGER = "stranger", "From someone without access (replied)"
    IGNORED = "ignored", "Ignored (auto-reply, bounce, bulk or our own)"
    FAILED = "failed", "Failed (will be retried)"


class InboundMail(models.Model):
    """One received email, stored whole before anything is done with it.

    The unique Message-ID is what makes processing exactly-once: a second copy (another worker,
    another mailbox, a re-delivery) finds the row, and the row's status changes in the same
    transaction as the ticket it opens.
    """

    message_id = models.CharField(max_length=255, unique=True)
    mailbox = models.CharField(max_length=50, blank=True, help_text="Mailbox name; empty: piped.")
    sender = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=300, blank=True)
    raw = models.BinaryField(editable=False)
    size = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=20, choices=InboundStatus.choices, default=InboundStatus.RECEIVED
    )
    detail = models.CharField(max_length=300, blank=True, help_text="What was done, and why.")
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    ticket = models.ForeignKey(
        Ticket, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_mails"
    )
    ticket_message = models.ForeignKey(
        Message, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "inbound email"
        indexes = [
            # The retry pass reads only what is still to do.
            models.Index(
                fields=["next_attempt_at"],
                name="inbound_pending",
                condition=Q(status__in=["received", "failed"]),
            ),
            models.Index(fields=["sender", "-received_at"], name="inbound_sender"),
        ]

    def __str__(self) -> str:
        return f"{self.sender or '?'}: {self.subject or '(no subject)'}"

    def get_absolute_url(self) -> str:
        return reverse("admin:tickets_inboundmail_change", args=[self.pk])


class AutoReply(models.Model):
    """An automatic answer to an inbound email. At most one per sender per day: the unique
    constraint is the limit, so two workers cannot both answer, and two robots cannot loop."""

    class Kind(models.TextChoices):
        STRANGER = "stranger", "How to get access"
        REFUSED = "refused", "Refused"
        CONTACT_CHANGE = "contact_change", "Change request received"

    sender = models.CharField(max_length=254)
    day = models.DateField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.TextField()
    inbound = models.OneToOneField(InboundMail, on_delete=models.CASCADE, related_name="auto_reply")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "auto replies"
        constraints = [
            models.UniqueConstraint(fields=["sender", "day"], name="auto_reply_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.sender} on {self.day}"


class TicketMailThread(models.Model):
    """A Message-ID in a ticket's email thread, sent or received: replies that name one in
    In-Reply-To or References land on the ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="mail_thread")
    message_id = models.CharField(max_length=255, unique=True)
    outgoing = models.BooleanField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="mail_thread_ticket")]

    def __str__(self) -> str:
        return self.message_id


class LoggedContact(models.Model):
    """A phone call or chat an agent recorded on behalf of a named contact."""

    channel = models.CharField(max_length=10, choices=Channel.choices)
    contact = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    occurred_at = models.DateTimeField(help_text="When the call or chat took place.")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="logged_contacts")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="logged_contact")
    opened_ticket = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = "logged call or chat"
        verbose_name_plural = "logged calls and chats"
        constraints = [
            # Only the channels an agent hears directly are logged this way.
            models.CheckConstraint(
                condition=Q(channel__in=["phone", "chat", "call"]), name="logged_contact_channel"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_channel_display()} with {self.contact} at {self.occurred_at:%Y-%m-%d %H:%M}"
        )


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class OutgoingNotification(models.Model):
    """One email to one recipient because of one cause (an escalation firing, a ticket event,
    a support-hours warning, an invitation), written in the same transaction as its cause and
    sent by `tickets.notifications`: claimed (`sending`, with a send id that becomes the
    Message-ID), handed to the mail backend, then marked `sent`.

    A ticket update for a customer may be held until `send_after` (the end of its grouping
    window); the rows that share a `group` go out as one mail and are marked sent together."""

    class Cause(models.TextChoices):
        FIRING = "firing", "SLA escalation firing"
        EVENT = "event", "Ticket event"
        HOURS_WARNING = "hours_warning", "Support-hours warning"
        INVITATION = "invitation", "Contact invitation"
        PASSWORD_RESET = "password_reset", "Password reset (the request's second)"
        UNWARRANTED_WARNING = "unwarranted", "Unwarranted-escalation warning"
        AUTO_REPLY = "auto_reply", "Automatic answer to an inbound mail"
        RELEASE = "release", "Maintenance release published"

    cause = models.CharField(max_length=20, choices=Cause.choices)
    cause_id = models.BigIntegerField(help_text="The id of the firing, event, warning or contact.")
    recipient = models.EmailField()
    template = models.CharField(
        max_length=60, help_text="emails/<template>_subject.txt, .txt, .html"
    )
    data = models.JSONField(default=dict, blank=True, help_text="Ids and values for the template.")
    # No index of its own: the (ticket, created_at) index leads with it.
    ticket = models.ForeignKey(
        Ticket,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
        db_index=False,
    )
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    send_id = models.UUIDField(
        null=True, blank=True, editable=False, help_text="Set at the first claim; the Message-ID."
    )
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(help_text="When a worker may (re)try it.")
    send_after = models.DateTimeField(
        help_text="When it was first to be sent: its creation, or the end of its grouping window."
    )
    group = models.UUIDField(
        null=True,
        blank=True,
        editable=False,
        help_text="Rows of one ticket and recipient sent together as one mail.",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One mail per cause and recipient: recording a cause twice cannot send twice.
            models.UniqueConstraint(
                fields=["cause", "cause_id", "recipient"], name="notification_once_per_recipient"
            ),
        ]
        indexes = [
            # The re-drive and the backlog read only unsent rows.
            models.Index(
                fields=["status", "next_attempt_at"],
                condition=~Q(status="sent"),
                name="notification_unsent",
            ),
            models.Index(fields=["ticket", "created_at"], name="notification_ticket"),
            # A claim takes the unsent rows of one group.
            models.Index(
                fields=["group"],
                condition=Q(group__isnull=False) & ~Q(status="sent"),
                name="notification_group_unsent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} to {self.recipient} ({self.get_status_display().lower()})"

    def get_absolute_url(self) -> str:
        return reverse("admin:tickets_outgoingnotification_change", args=[self.pk])


class OutcomeGroup(models.Model):
    """What the SLA report groups outcomes by: the clock's metric, plan and severity, and the
    queue and assignee of its ticket when the outcome was recorded."""

    metric = models.CharField(max_length=20)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+", db_index=False)
    severity = models.ForeignKey(
        Severity, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    queue = models.ForeignKey(
        Queue, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        abstract = True


class SlaOutcome(OutcomeGroup):
    """A clock's outcome as the SLA report counts it (`tickets.outcomes`).

    One row per clock with a target whose outcome is recorded (`counted`): `at` is its outcome
    instant (`breached_at`, else `met_at`), `breached` says which. Plan, severity and metric are
    the clock's; the queue and the assignee are the ticket's when the outcome was recorded, so
    a breach stays with the tier and the agent who held the ticket when it happened and a
    closed period's figures do not change when tickets move later. A first-response clock met
    without a target has a row too, not counted, for the response times. Kept by
    `outcomes_refresh` in the same transaction as every change to clocks.
    """

    clock = models.OneToOneField(
        "sla.SlaClock", primary_key=True, on_delete=models.CASCADE, related_name="outcome_row"
    )
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    breached = models.BooleanField()
    counted = models.BooleanField(
        default=True, help_text="Has a target: counts for achievement (else a response only)."
    )
    # First-response clocks met (with or without a target): when, and the business time taken.
    responded_at = models.DateTimeField(null=True)
    response = models.DurationField(null=True)
    response_bucket = models.IntegerField(null=True, help_text="`response` in whole 5 minutes.")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        indexes = [
            # The report's edges and sub-week pieces: one range of instants, read without the
            # table.
            models.Index(
                fields=["at"],
                name="outcome_at",
                include=["breached", "metric", "plan", "severity", "queue", "assignee"],
            ),
            # One organization's report (the weekly roll-up has no organization).
            models.Index(fields=["organization", "at"], name="outcome_org_at"),
            # First responses: a period's edges by instant, and values in order from a bucket.
            models.Index(
                fields=["responded_at"],
                name="outcome_responded_at",
                include=[
                    "response_bucket",
                    "plan",
                    "severity",
                    "queue",
                    "assignee",
                    "organization",
                ],
                condition=Q(response__isnull=False),
            ),
            models.Index(
                fields=["response_bucket", "response"],
                name="outcome_response",
                include=["responded_at"],
                condition=Q(response__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"clock {self.clock_id}: {'breached' if self.breached else 'met'} at {self.at}"


class SlaResponseWeek(models.Model):
    """First responses per UTC week (of the response) and 5-minute bucket of business time
    taken, as signed deltas like `SlaOutcomeWeek`: the report finds a percentile's bucket here
    and reads only that bucket's values."""

    week = models.DateField(help_text="The Monday of the UTC week.")
    bucket = models.IntegerField()
    responses = models.IntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["week"], name="response_week", include=["bucket", "responses"])
        ]

    def __str__(self) -> str:
        return f"{self.week} bucket {self.bucket}: {self.responses}"


class SlaOutcomeWeek(OutcomeGroup):
    """Counts of `SlaOutcome` rows per UTC week (Monday) and (metric, plan, severity, queue,
    assignee). Written as signed deltas, never updated, so concurrent transactions never wait
    on a shared row; `outcomes_compact` folds a key's deltas into one row. The sum of a key's
    rows is its count at every instant."""

    week = models.DateField(help_text="The Monday of the UTC week.")
    met_on_time = models.IntegerField()
    breached = models.IntegerField()

    class Meta:
        indexes = [
            models.Index(
                fields=["week"],
                name="outcome_week",
                include=[
                    "metric",
                    "plan",
                    "severity",
                    "queue",
                    "assignee",
                    "met_on_time",
                    "breached",
                ],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.week} {self.metric}: {self.met_on_time} met, {self.breached} breached"


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

__all__ = ["Article", "ArticleCategory", "ArticleRevision", "ArticleTag", "ArticleView"]
__all__ += ["HelpSearch", "Release"]
