"""Who is entitled to what: policies, plans and their entitlements, organizations, contracts."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse


class Channel(models.TextChoices):
    PORTAL = "portal", "Support portal"
    EMAIL = "email", "Email"
    CHAT = "chat", "Live chat"
    PHONE = "phone", "Phone"
    FORUM = "forum", "Support forum"
    CALL = "call", "Scheduled call"


class Resolution(models.TextChoices):
    """How a severity's issues get resolved: within targets, or shipped in a release (Prismic 3)."""

    TARGETS = "targets", "By the plan's targets"
    MAINTENANCE_RELEASE = "maintenance_release", "In a maintenance release"


class TamOption(models.TextChoices):
    NONE = "none", "Not available"
    OPTIONAL = "optional", "Optional (extra)"
    INCLUDED = "included", "Included"


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not an IANA time zone (for example Europe/London).")


def validate_channels(value: object) -> None:
    valid = set(Channel.values)
    if not isinstance(value, list) or any(item not in valid for item in value):
        raise ValidationError(f"Channels must be a list drawn from {', '.join(sorted(valid))}.")


def validate_levels(value: object) -> None:
    if not isinstance(value, list) or any(not isinstance(i, int) or i < 1 for i in value):
        raise ValidationError("Expected a list of severity levels (whole numbers from 1).")


def validate_text_list(value: object) -> None:
    if not isinstance(value, list) or any(not isinstance(i, str) for i in value):
        raise ValidationError("Expected a list of texts.")


class Policy(models.Model):
    """A published support policy: the owner of its severities, calendars and plans.

    Several vendors' policies live in one database, and each numbers its severities its own way,
    so severities and calendars are scoped to the policy that defines them.
    """

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    source = models.CharField(max_length=300, blank=True, help_text="File it was loaded from.")
    not_covered = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_text_list],
        help_text="What support does not include; agents close such tickets with one of these.",
    )
    severity_clarification = models.BooleanField(
        default=True, help_text="Support may ask the customer to clarify the chosen severity."
    )
    unwarranted_escalation_charges = models.BooleanField(
        default=False,
        help_text="The customer may be charged for unwarranted, repeated escalations.",
    )
    notes = models.TextField(blank=True)
    loaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "policies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("admin:plans_policy_change", args=[self.pk])


class Severity(models.Model):
    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="severities")
    level = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=100)
    definition = models.TextField()
    examples = models.JSONField(default=list, blank=True, validators=[validate_text_list])
    resolution = models.CharField(
        max_length=20,
        choices=Resolution.choices,
        default=Resolution.TARGETS,
        help_text="Issues of this severity are resolved in a scheduled maintenance release "
        "(customers see that instead of a due time).",
    )

    class Meta:
        ordering = ["policy", "level"]
        verbose_name_plural = "severities"
        constraints = [
            # A ticket names its severity by level; two level-1s in one policy would be ambiguous.
            models.UniqueConstraint(fields=["policy", "level"], name="severity_unique_level"),
            models.CheckConstraint(condition=Q(level__gte=1), name="severity_level_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.level} - {self.name}"

    @property
    def resolved_in_release(self) -> bool:
        return self.resolution == Resolution.MAINTENANCE_RELEASE


class Plan(models.Model):
    """A support plan and its entitlement matrix."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="plans")
    slug = models.SlugField(
        unique=True, help_text="Unique across policies: scripts name plans by it."
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    channels = models.JSONField(default=list, blank=True, validators=[validate_channels])
    self_help = models.BooleanField(default=True, help_text="Documentation and FAQs.")
    priority_routing = models.BooleanField(default=False)
    assisted_onboarding = models.BooleanField(default=False)
    customer_success_manager = models.BooleanField(default=False)
    account_manager = models.BooleanField(default=False)
    technical_account_manager = models.CharField(
        max_length=10, choices=TamOption.choices, default=TamOption.NONE
    )
    named_contacts = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Most named support contacts; empty means no limit."
    )
    development_escalation_priority = models.BooleanField(default=False)
    post_incident_report_levels = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_levels],
        help_text="Severity levels for which the customer may request a post-incident report.",
    )
    customer_escalation_levels = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_levels],
        help_text="Severity levels for which the customer may request an escalation.",
    )
    monthly_support_hours = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True
    )
    hours_rollover = models.BooleanField(default=False)
    poolable_months = models.PositiveSmallIntegerField(
        default=1, help_text="How many months' hours may be pooled together by agreement."
    )
    overage_billed = models.BooleanField(default=False)
    enablement_hours_per_year = models.DecimalField(
        max_digits=7, decimal_places=2, null=True, blank=True
    )
    base_plan = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The tier that applies until technical onboarding is completed.",
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["policy", "position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(poolable_months__gte=1), name="plan_poolable_months_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("admin:plans_plan_change", args=[self.pk])


class TicketCategory(models.Model):
    """A kind of request a plan accepts, with its own channels and guarantee (Prismic)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="categories")
    slug = models.SlugField()
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    channels = models.JSONField(default=list, blank=True, validators=[validate_channels])
    guarantee = models.CharField(max_length=300, blank=True)
    sla_applies = models.BooleanField(
        default=True, help_text="Whether the plan's response targets apply to this category."
    )
    severity_levels = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_levels],
        help_text="Severity levels this category accepts; empty means all.",
    )
    priority_flag = models.BooleanField(default=False)
    draws_enablement_hours = models.BooleanField(default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["plan", "position", "name"]
        verbose_name_plural = "ticket categories"
        constraints = [
            models.UniqueConstraint(fields=["plan", "slug"], name="category_unique_slug_per_plan"),
        ]

    def __str__(self) -> str:
        return f"{self.plan}: {self.name}"


class Organization(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    customer_success_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="csm_organizations",
    )
    technical_account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tam_organizations",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("admin:plans_organization_change", args=[self.pk])


class Contract(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contracts"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="contracts")
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True, help_text="Last day covered; empty: open.")
    onboarding_completed = models.BooleanField(default=False)
    technical_account_manager = models.BooleanField(
        default=False, help_text="The optional technical account manager was bought."
    )
    overage_hourly_rate = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["organization", "-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="contract_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["organization", "starts_on"])]

    def __str__(self) -> str:
        return f"{self.organization} on {self.plan} from {self.starts_on}"

    def get_absolute_url(self) -> str:
        return reverse("admin:plans_contract_change", args=[self.pk])


class ContactRole(models.TextChoices):
    ADMIN = "admin", "Organization admin"
    CONTACT = "contact", "Named contact"


class NamedContact(models.Model):
    """A person of a customer organization who may open tickets."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contacts"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="named_contact"
    )
    role = models.CharField(max_length=10, choices=ContactRole.choices, default=ContactRole.CONTACT)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} ({self.organization})"

    def get_absolute_url(self) -> str:
        return reverse("admin:plans_namedcontact_change", args=[self.pk])


class NamedContactChange(models.Model):
    """Append-only record of who changed an organization's named contacts, and when."""

    class Action(models.TextChoices):
        ADDED = "added", "Added"
        REMOVED = "removed", "Removed"
        ROLE_CHANGED = "role_changed", "Role changed"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contact_changes"
    )
    contact_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    role = models.CharField(max_length=10, choices=ContactRole.choices, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.contact_user} {self.get_action_display().lower()} ({self.organization})"


class UserProfile(models.Model):
    """A person's preferences: times are shown in this zone, with the zone named."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])

    def __str__(self) -> str:
        return f"{self.user} ({self.time_zone})"


class PooledMonths(models.Model):
    """Two (or more) billing months of a contract whose hours are pooled by agreement."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="pooled_months")
    first_month = models.DateField(help_text="Start date of the first billing month pooled.")
    months = models.PositiveSmallIntegerField(default=2)
    agreed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["contract", "first_month"]
        verbose_name_plural = "pooled months"
        constraints = [
            models.UniqueConstraint(fields=["contract", "first_month"], name="pool_unique_start"),
            models.CheckConstraint(condition=Q(months__gte=2), name="pool_at_least_two_months"),
        ]

    def __str__(self) -> str:
        return f"{self.contract}: {self.months} months from {self.first_month}"
