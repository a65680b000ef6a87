"""Who is entitled to what: policies, plans and their entitlements, organizations, contracts."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse

# Defined once in plans.choices; re-exported (`as`) under their old import path.
from plans.choices import Channel as Channel
from plans.choices import ContactRole as ContactRole
from plans.choices import TamOption as TamOption


class Resolution(models.TextChoices):
    """How a severity's issues get resolved: within targets, or shipped in a release (Prismic 3)."""

    TARGETS = "targets", "By the plan's targets"
    MAINTENANCE_RELEASE = "maintenance_release", "In a maintenance release"


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
    email_severity_tag = models.CharField(
        max_length=50,
        blank=True,
        help_text="How a customer names the severity in an email's subject, {level} standing "
        "for the number: [P{level}] reads [P1] as severity 1.",
    )
    email_default_severity = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Severity of an emailed request without a tag; empty: the least severe level.",
    )
    notes = models.TextField(blank=True)
    includes = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_text_list],
        help_text="What support includes, in the policy's words.",
    )
    prerequisites = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_text_list],
        help_text="What the customer must know or have before asking for support.",
    )
    contact = models.TextField(blank=True, help_text="How to reach support, in the policy's words.")
    unwarranted_warn_after = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Unwarranted escalations in one period after which the customer is warned.",
    )
    unwarranted_period_months = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Length of that period, in months from the contract start."
    )
    unwarranted_charge = models.DecimalField(
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Charged for each unwarranted escalation after the warning, in the period.",
    )
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
    priority = models.SmallIntegerField(
        default=0,
        help_text="How the policy ranks this plan's work: a higher number goes first.",
    )
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
    enablement_hours_capped = models.BooleanField(
        default=False,
        help_text="Enablement hours are a cap ('up to'): requests beyond them are refused.",
    )
    all_time_billed = models.BooleanField(
        default=False,
        help_text="No package: all billable time is billed as used, at the contract's rate.",
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
    overage_hourly_rate = models.DecimalField(
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Hourly rate: overage beyond a package, or every hour where all time is billed.",
    )
    discount_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Discount on every amount billed (e.g. 10 for a one-year contract).",
    )
    new_user = models.BooleanField(
        default=True,
        help_text="A new user of the product: conditions for new users only apply.",
    )
    customer_success_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="csm_contracts",
        help_text="Empty: the organization's customer success manager.",
    )
    technical_account_manager_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tam_contracts",
        verbose_name="technical account manager (person)",
        help_text="Empty: the organization's technical account manager.",
    )
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="account_manager_contracts",
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["organization", "-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="contract_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(discount_percent__isnull=True)
                | (Q(discount_percent__gte=0) & Q(discount_percent__lte=100)),
                name="contract_discount_is_a_percentage",
            ),
        ]
        indexes = [models.Index(fields=["organization", "starts_on"])]

    def __str__(self) -> str:
        return f"{self.organization} on {self.plan} from {self.starts_on}"

    def get_absolute_url(self) -> str:
        return reverse("admin:plans_contract_change", args=[self.pk])


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


class ContactChangeRequest(models.Model):
    """A customer asks to replace one named contact with another (OpenBack: "submitted to
    support specifying the former and new contacts"); an agent approves or rejects it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for support"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    class Via(models.TextChoices):
        PORTAL = "portal", "Portal"
        EMAIL = "email", "Email"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="contact_change_requests"
    )
    former_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    new_email = models.EmailField()
    new_name = models.CharField(max_length=150, blank=True)
    reason = models.TextField(blank=True)
    via = models.CharField(max_length=10, choices=Via.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(
                fields=["requested_at"],
                name="contact_change_pending",
                condition=Q(status="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization}: {self.former_user} -> {self.new_email}"

    def get_absolute_url(self) -> str:
        return reverse("admin:plans_contactchangerequest_change", args=[self.pk])


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

    def clean(self) -> None:
        """Refuse pooling more months than the plan allows (the seed: "the hours of two months
        can be grouped together"), naming the limit."""
        if self.contract_id is None or self.months is None:
            return
        plan = self.contract.plan
        limit = plan.poolable_months
        if limit < 2:
            raise ValidationError(
                {"months": f"The {plan} plan does not allow pooling months' hours."}
            )
        if self.months > limit:
            raise ValidationError(
                {
                    "months": f"The {plan} plan allows pooling at most {limit} months' hours "
                    f"(upon agreement with the support manager); {self.months} were asked."
                }
            )


class ConditionLimit(models.TextChoices):
    BASE_PLAN = "base_plan", "Only the base plan's support applies"
    NO_TECHNICAL_SUPPORT = "no_technical_support", "No technical support"


class PlanCondition(models.Model):
    """A condition the policy puts on a plan's support (OpenBack: onboarding completed, SDK
    included); while a contract does not meet it, support is limited as `limit` says."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="conditions")
    slug = models.SlugField()
    name = models.CharField(max_length=200, help_text="The condition, e.g. 'SDK included'.")
    description = models.TextField(blank=True, help_text="The policy's own words.")
    limit = models.CharField(max_length=30, choices=ConditionLimit.choices)
    new_users_only = models.BooleanField(
        default=False, help_text="Applies only to contracts of new users of the product."
    )
    presumed_met = models.BooleanField(
        default=False, help_text="Met unless a contract records otherwise."
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["plan", "position", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "slug"], name="condition_unique_slug_per_plan"),
        ]

    def __str__(self) -> str:
        return f"{self.plan}: {self.name}"


class ContractCondition(models.Model):
    """Whether a contract meets one of its plan's conditions (recorded by support)."""

    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="condition_records"
    )
    condition = models.ForeignKey(PlanCondition, on_delete=models.CASCADE, related_name="+")
    met = models.BooleanField(default=False)
    recorded_at = models.DateTimeField(auto_now=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["contract", "condition__position"]
        constraints = [
            # One answer per contract and condition.
            models.UniqueConstraint(
                fields=["contract", "condition"], name="contract_condition_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract}: {self.condition.name} {'met' if self.met else 'not met'}"

    def clean(self) -> None:
        if (
            self.contract_id
            and self.condition_id
            and self.condition.plan_id != self.contract.plan_id
        ):
            raise ValidationError(
                {"condition": f"Not a condition of the {self.contract.plan} plan."}
            )


class ContactInvitation(models.Model):
    """An organization admin's invitation to become a named contact; the person accepts it.

    Nobody becomes a contact without accepting: the link (a random token, stored only as its
    hash) signs the person in to an account of that email or creates one. Expired invitations
    can be sent again, which makes a new token.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=10, choices=ContactRole.choices, default=ContactRole.CONTACT)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["organization", "email"]
        constraints = [
            # One open invitation per person and organization: re-sending reuses it.
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=Q(accepted_at__isnull=True),
                name="invitation_one_open_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} invited to {self.organization}"


class PolicyChange(models.Model):
    """Who changed the published policy, when and what: each `load_policy` run that changed
    something, with its list of changes (edits in the admin are in the admin's own log)."""

    policy = models.ForeignKey(
        Policy, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    policy_slug = models.SlugField(help_text="Kept when the policy itself is removed.")
    at = models.DateTimeField()
    by = models.CharField(max_length=150, help_text="Who ran it (account or system user).")
    source = models.CharField(max_length=300, blank=True)
    summary = models.TextField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["policy_slug", "-at"])]

    def __str__(self) -> str:
        return f"{self.policy_slug} changed at {self.at:%Y-%m-%d %H:%M} by {self.by}"


class PolicyRevision(models.Model):
    """One row (id 1) whose `revision` the database moves on every write to a table the plans'
    cached policy reads depend on (severities, categories, conditions, targets, escalation rules,
    support hours, calendars, plans, policies): triggers created by the migrations do it, so an
    edit by any process, the admin, `load_policy` or raw SQL alike, is seen by every process's
    cache (`plans.policy_cache`). Never written by the application."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    revision = models.BigIntegerField(default=1)

    class Meta:
        constraints = [
            # One revision for the whole database: the triggers update the row with id 1.
            models.CheckConstraint(condition=Q(id=1), name="policy_revision_single_row"),
        ]

    def __str__(self) -> str:
        return f"Policy revision {self.revision}"
