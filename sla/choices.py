"""The fixed vocabularies of sla, defined once: models, admin, services and the policy schema
import them from here (`sla.models` re-exports them under their old names)."""

from django.db import models


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


# How a policy file names the days (`hours: {mon: [...], ...}`), in Weekday order.
WEEKDAY_KEYS: tuple[str, ...] = tuple(day.label[:3].lower() for day in Weekday)


class Metric(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", "Acknowledge"
    FIRST_RESPONSE = "first_response", "First response"
    RESOLUTION = "resolution", "Resolution"


class ClockState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    BREACHED = "breached", "Breached"
    MET = "met", "Met"
    CANCELLED = "cancelled", "Cancelled"


class NotifyRole(models.TextChoices):
    """Whom an escalation rule tells, besides `group:<name>` and `email:<address>`."""

    ASSIGNEE = "assignee", "The ticket's assignee"
    QUEUE = "queue", "The queue's agents"
    CUSTOMER_SUCCESS_MANAGER = "customer_success_manager", "The customer success manager"
    SUPPORT_MANAGERS = "support_managers", "The support managers"
