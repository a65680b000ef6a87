"""SLA data: business calendars, targets and escalation rules (per-ticket clocks come later)."""

from datetime import UTC, timedelta

from django.db import models
from django.db.models import Q
from django.urls import reverse

from helpdesk.formatting import clock_time, instant, policy_duration
from plans.models import Plan, Policy, Severity, TicketCategory, validate_time_zone

# Defined once in sla.choices; re-exported (`as`) under their old import path.
from sla.choices import ClockState as ClockState
from sla.choices import Metric as Metric
from sla.choices import Weekday as Weekday


class BusinessCalendar(models.Model):
    """Support hours: a time zone, weekly open periods and closures, or always open."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="calendars")
    slug = models.SlugField()
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, validators=[validate_time_zone])
    always_open = models.BooleanField(default=False)
    follows_organization = models.BooleanField(
        default=False,
        help_text="Local business hours: the hours run in the customer organization's time zone "
        "(`timezone` is used where no organization is known).",
    )
    holiday_countries = models.JSONField(
        default=list,
        blank=True,
        help_text='Public holidays from the holidays package, e.g. ["GB-ENG", "US"].',
    )
    holidays_from_year = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    holidays_to_year = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["policy", "name"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "slug"], name="calendar_unique_slug"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("admin:sla_businesscalendar_change", args=[self.pk])


class OpenPeriod(models.Model):
    """A weekly open period in local wall-clock minutes; 1440 is 24:00."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="periods")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_minute = models.PositiveSmallIntegerField()
    end_minute = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["calendar", "weekday", "start_minute"]
        constraints = [
            # A period is a non-empty span inside one local day; overnight shifts are two rows.
            models.CheckConstraint(
                condition=Q(start_minute__gte=0)
                & Q(end_minute__lte=1440)
                & Q(start_minute__lt=models.F("end_minute")),
                name="period_within_one_day",
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0) & Q(weekday__lte=6), name="period_weekday_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.text()}"

    def text(self) -> str:
        return f"{clock_time(self.start_minute)}-{clock_time(self.end_minute)}"


class Closure(models.Model):
    """A local date on which the calendar is closed, or (inactive) a holiday the team works."""

    class Source(models.TextChoices):
        HOLIDAY = "holiday", "Public holiday"
        POLICY = "policy", "Policy file"
        MANUAL = "manual", "Added by a manager"

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="closures"
    )
    date = models.DateField()
    name = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    active = models.BooleanField(
        default=True, help_text="Untick to keep the calendar open on this public holiday."
    )

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="closure_unique_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class SupportHours(models.Model):
    """The calendar a plan's targets run on unless a target row names another."""

    plan = models.OneToOneField(Plan, on_delete=models.CASCADE, related_name="support_hours")
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name_plural = "support hours"

    def __str__(self) -> str:
        return f"{self.plan}: {self.calendar}"


class Target(models.Model):
    """Response targets for plan x severity (optionally x category); empty = no guarantee."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="targets")
    severity = models.ForeignKey(Severity, on_delete=models.CASCADE, related_name="targets")
    category = models.ForeignKey(
        TicketCategory, null=True, blank=True, on_delete=models.CASCADE, related_name="targets"
    )
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="targets")
    acknowledge = models.DurationField(null=True, blank=True)
    first_response = models.DurationField(null=True, blank=True)
    resolution = models.DurationField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    assigned_until_resolved = models.BooleanField(
        default=False,
        help_text="A resource is assigned and remains assigned until resolution (Prismic 1-2).",
    )
    wording = models.JSONField(
        default=dict,
        blank=True,
        help_text="The policy's own words per metric, "
        'e.g. {"first_response": "2 - 4 business days"}.',
    )

    class Meta:
        ordering = ["plan", "severity__level", "category"]
        constraints = [
            # One row answers "what is promised" for each plan, severity and category.
            models.UniqueConstraint(
                fields=["plan", "severity"],
                condition=Q(category__isnull=True),
                name="target_unique_plan_severity",
            ),
            models.UniqueConstraint(
                fields=["plan", "severity", "category"],
                condition=Q(category__isnull=False),
                name="target_unique_plan_severity_category",
            ),
        ]

    def __str__(self) -> str:
        suffix = f" / {self.category.name}" if self.category is not None else ""
        return f"{self.plan} severity {self.severity.level}{suffix}"

    def get_absolute_url(self) -> str:
        return reverse("admin:sla_target_change", args=[self.pk])

    def duration_for(self, metric: str) -> timedelta | None:
        return getattr(self, metric)

    def wording_for(self, metric: str) -> str:
        return str((self.wording or {}).get(metric, ""))


class EscalationRule(models.Model):
    """Notify people (and optionally move the ticket) while a metric is unmet."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="escalation_rules")
    severity = models.ForeignKey(
        Severity, on_delete=models.CASCADE, related_name="escalation_rules"
    )
    category = models.ForeignKey(
        TicketCategory,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="escalation_rules",
        help_text="Only tickets of this category; empty: every category.",
    )
    metric = models.CharField(max_length=20, choices=Metric.choices)
    after = models.DurationField(
        null=True, blank=True, help_text="Business time after the clock started."
    )
    after_percent = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Share of the metric's target used."
    )
    notify = models.JSONField(default=list, blank=True)
    move_to = models.SlugField(blank=True, help_text="Queue slug to move the ticket to.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["plan", "severity__level", "metric", "position"]
        constraints = [
            # A rule fires at an offset or at a percentage, never both or neither.
            models.CheckConstraint(
                condition=(Q(after__isnull=False) & Q(after_percent__isnull=True))
                | (Q(after__isnull=True) & Q(after_percent__isnull=False)),
                name="rule_offset_or_percent",
            ),
            models.CheckConstraint(
                condition=Q(after_percent__isnull=True) | Q(after_percent__gte=1),
                name="rule_percent_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} sev {self.severity.level} {self.metric} after {self.when_text()}"

    def get_absolute_url(self) -> str:
        return reverse("admin:sla_escalationrule_change", args=[self.pk])

    def when_text(self) -> str:
        if self.after_percent is not None:
            return f"{self.after_percent}%"
        return policy_duration(self.after)


LIVE_STATES = (ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED)


class SlaClock(models.Model):
    """One metric's clock on one ticket (one cycle: a reopen starts a new resolution cycle).

    `breached_at` is set once the due instant passes with the metric unmet and stays set, so a
    clock met late reads `state=met` with `breached_at` before `met_at`. `next_action_at` is the
    next instant the sweep must look at this clock (a rule to fire or the breach); it is empty
    when nothing is pending, so the sweep's index holds only clocks with work ahead.
    """

    # No index of its own: the unique (ticket, metric, cycle) index leads with it.
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="sla_clocks", db_index=False
    )
    metric = models.CharField(max_length=20, choices=Metric.choices)
    cycle = models.PositiveSmallIntegerField(default=1)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="+")
    severity = models.ForeignKey(Severity, on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(
        TicketCategory, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="clocks")
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        help_text="The customer's zone the calendar runs in (local business hours); empty: the "
        "calendar's own.",
    )
    target = models.DurationField(null=True, blank=True, help_text="Empty: no guarantee.")
    started_at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    original_due_at = models.DateTimeField(null=True, blank=True)
    at_risk_at = models.DateTimeField(
        null=True, blank=True, help_text="When 75% of the target's business time is used."
    )
    paused_business = models.DurationField(default=timedelta(0))
    paused_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    business_elapsed = models.DurationField(
        null=True, blank=True, help_text="Business time from start to met, pauses excluded."
    )
    state = models.CharField(max_length=10, choices=ClockState.choices, default=ClockState.RUNNING)
    next_action_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "SLA clock"
        ordering = ["ticket", "metric", "cycle"]
        constraints = [
            # One clock per ticket, metric and cycle: events find their clock without ambiguity.
            models.UniqueConstraint(
                fields=["ticket", "metric", "cycle"], name="clock_unique_ticket_metric_cycle"
            ),
            models.CheckConstraint(
                condition=Q(due_at__isnull=True) | Q(target__isnull=False),
                name="clock_due_needs_target",
            ),
            models.CheckConstraint(
                condition=~Q(state="met") | Q(met_at__isnull=False), name="clock_met_has_met_at"
            ),
        ]
        indexes = [
            # The escalation sweep: only clocks with something pending are in this index.
            models.Index(
                fields=["next_action_at"],
                name="clock_next_action",
                condition=Q(next_action_at__isnull=False),
            ),
            # The queue's SLA badge and filters: live clocks by ticket and due.
            models.Index(
                fields=["ticket", "due_at"],
                name="clock_live_due",
                condition=Q(state__in=["running", "paused", "breached"]),
            ),
            # The report's live lists (at risk, breached now): live clocks most urgent first.
            models.Index(
                fields=["due_at", "id"],
                include=["state", "breached_at", "at_risk_at", "paused_at", "target"],
                name="clock_live_by_due",
                condition=Q(state__in=["running", "paused", "breached"], due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} clock #{self.cycle} on ticket {self.ticket_id}"

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES


class SlaClockEvent(models.Model):
    """Append-only log of a clock: started, paused, resumed, retargeted, met, breached."""

    class Kind(models.TextChoices):
        STARTED = "started", "Started"
        PAUSED = "paused", "Paused"
        RESUMED = "resumed", "Resumed"
        RETARGETED = "retargeted", "Retargeted"
        MET = "met", "Met"
        BREACHED = "breached", "Breached"
        CANCELLED = "cancelled", "Cancelled"

    # No index of its own: the (clock, at) index leads with it.
    clock = models.ForeignKey(
        SlaClock, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField()
    due_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "SLA clock event"
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["clock", "at"], name="clock_event_clock_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {instant(self.at, UTC)}"


class EscalationFiring(models.Model):
    """An escalation rule fired on a clock: recorded once, whatever the number of workers."""

    # No index of its own: the unique (clock, rule) index leads with it.
    clock = models.ForeignKey(
        SlaClock, on_delete=models.CASCADE, related_name="firings", db_index=False
    )
    rule = models.ForeignKey(
        EscalationRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="firings"
    )
    rule_text = models.CharField(max_length=200)
    due_at = models.DateTimeField(help_text="When the rule was to fire.")
    fired_at = models.DateTimeField()
    late = models.BooleanField(default=False, help_text="Fired after a worker outage.")
    notified = models.JSONField(default=list, blank=True)
    fell_back = models.BooleanField(
        default=False, help_text="A role named nobody, so the support managers were told instead."
    )
    fallback_reason = models.CharField(max_length=300, blank=True)
    moved_to = models.CharField(max_length=50, blank=True)
    sweep = models.UUIDField(
        editable=False, help_text="The sweep that recorded it: a sweep acts on its own inserts."
    )

    class Meta:
        ordering = ["fired_at", "id"]
        constraints = [
            # Exactly once per clock (ticket x metric x cycle) and rule: a second worker's insert
            # fails here and that worker sends nothing.
            models.UniqueConstraint(fields=["clock", "rule"], name="firing_once_per_clock_rule"),
        ]
        indexes = [
            models.Index(fields=["fired_at"], name="firing_fired_at"),
            models.Index(fields=["sweep"], name="firing_sweep"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_text} fired at {instant(self.fired_at, UTC)}"


class SweepRun(models.Model):
    """The last finished run of a scheduled job (one row per job, overwritten each run): what
    `/readyz` reads to tell that the SLA sweep is running, in one indexed lookup."""

    name = models.CharField(max_length=50, unique=True)
    finished_at = models.DateTimeField()
    duration = models.DurationField()
    clocks = models.PositiveIntegerField(default=0)
    fired = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "sweep run"

    def __str__(self) -> str:
        return f"{self.name} finished at {self.finished_at:%Y-%m-%d %H:%M:%S}"
