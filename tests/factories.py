"""One factory per model a test builds; each test builds only what it needs."""

import datetime as dt
from io import StringIO

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone
from factory.django import DjangoModelFactory

from plans.models import (
    Contract,
    NamedContact,
    Organization,
    Plan,
    Policy,
    Severity,
    TicketCategory,
    UserProfile,
)
from sla.models import BusinessCalendar, EscalationRule, OpenPeriod, SlaClock, SupportHours, Target
from sla.standing import AT_RISK_SHARE
from tickets.models import Message, Queue, Ticket, TimeEntry
from tickets.queue_order import queue_rank
from tickets.services.standing import tickets_refresh_sla


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = "Person"
    password = factory.django.Password("pw-for-tests")


class AgentFactory(UserFactory):
    username = factory.Sequence(lambda n: f"agent{n}")
    is_staff = True


class UserProfileFactory(DjangoModelFactory[UserProfile]):
    class Meta:
        model = UserProfile

    user = factory.SubFactory(UserFactory)
    time_zone = "Europe/London"


class PolicyFactory(DjangoModelFactory[Policy]):
    class Meta:
        model = Policy
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"policy-{n}")
    name = factory.LazyAttribute(lambda p: p.slug.title())
    not_covered = ["Custom designs for your site", "Product training"]


class SeverityFactory(DjangoModelFactory[Severity]):
    class Meta:
        model = Severity
        django_get_or_create = ("policy", "level")

    policy = factory.SubFactory(PolicyFactory)
    level = 1
    name = factory.LazyAttribute(lambda s: f"Level {s.level}")
    definition = factory.LazyAttribute(lambda s: f"Definition of level {s.level}.")
    examples = ["Site is down"]


class CalendarFactory(DjangoModelFactory[BusinessCalendar]):
    """24x7 in UTC unless told otherwise: tests of business hours add periods."""

    class Meta:
        model = BusinessCalendar
        django_get_or_create = ("policy", "slug")

    policy = factory.SubFactory(PolicyFactory)
    slug = factory.Sequence(lambda n: f"calendar-{n}")
    name = factory.LazyAttribute(lambda c: c.slug)
    timezone = "UTC"
    always_open = True


class OpenPeriodFactory(DjangoModelFactory[OpenPeriod]):
    class Meta:
        model = OpenPeriod

    calendar = factory.SubFactory(CalendarFactory, always_open=False)
    weekday = 0
    start_minute = 9 * 60
    end_minute = 17 * 60


class PlanFactory(DjangoModelFactory[Plan]):
    class Meta:
        model = Plan
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    policy = factory.SubFactory(PolicyFactory)
    slug = factory.Sequence(lambda n: f"plan-{n}")
    name = factory.LazyAttribute(lambda p: p.slug.title())
    channels = ["portal", "email"]
    named_contacts = None
    post_incident_report_levels = [1]
    customer_escalation_levels = [2, 3, 4]
    support_hours = factory.RelatedFactory(
        "tests.factories.SupportHoursFactory",
        factory_related_name="plan",
        calendar=factory.LazyAttribute(
            lambda o: CalendarFactory.create(policy=o.factory_parent.policy, slug="always")
        ),
    )


class SupportHoursFactory(DjangoModelFactory[SupportHours]):
    class Meta:
        model = SupportHours
        django_get_or_create = ("plan",)

    plan = factory.SubFactory(PlanFactory)
    calendar = factory.SubFactory(CalendarFactory)


class CategoryFactory(DjangoModelFactory[TicketCategory]):
    class Meta:
        model = TicketCategory

    plan = factory.SubFactory(PlanFactory)
    slug = factory.Sequence(lambda n: f"category-{n}")
    name = factory.LazyAttribute(lambda c: c.slug.replace("-", " ").title())
    channels = ["portal"]


class TargetFactory(DjangoModelFactory[Target]):
    class Meta:
        model = Target

    plan = factory.SubFactory(PlanFactory)
    severity = factory.LazyAttribute(
        lambda t: SeverityFactory.create(policy=t.plan.policy, level=1)
    )
    calendar = factory.LazyAttribute(lambda t: t.plan.support_hours.calendar)
    acknowledge = dt.timedelta(hours=1)
    first_response = dt.timedelta(hours=4)
    resolution = dt.timedelta(hours=24)


class EscalationRuleFactory(DjangoModelFactory[EscalationRule]):
    class Meta:
        model = EscalationRule

    plan = factory.SubFactory(PlanFactory)
    severity = factory.LazyAttribute(
        lambda r: SeverityFactory.create(policy=r.plan.policy, level=1)
    )
    metric = "resolution"
    after = dt.timedelta(hours=2)
    after_percent = None
    notify = ["support_managers"]


class OrganizationFactory(DjangoModelFactory[Organization]):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Customer {n}")
    slug = factory.Sequence(lambda n: f"customer-{n}")
    time_zone = "Europe/London"


class ContractFactory(DjangoModelFactory[Contract]):
    class Meta:
        model = Contract

    organization = factory.SubFactory(OrganizationFactory)
    plan = factory.SubFactory(PlanFactory)
    starts_on = dt.date(2020, 1, 1)
    ends_on = None
    onboarding_completed = True


class NamedContactFactory(DjangoModelFactory[NamedContact]):
    class Meta:
        model = NamedContact

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = "contact"


class QueueFactory(DjangoModelFactory[Queue]):
    class Meta:
        model = Queue
        django_get_or_create = ("slug",)

    slug = "l1"
    name = factory.LazyAttribute(lambda q: q.slug.upper())
    position = 1


class TicketFactory(DjangoModelFactory[Ticket]):
    """A ticket row as it stands, without services: for reads, lists and reports."""

    class Meta:
        model = Ticket

    organization = factory.SubFactory(OrganizationFactory)
    requester = factory.SubFactory(UserFactory)
    plan = factory.SubFactory(PlanFactory)
    severity = factory.LazyAttribute(
        lambda t: SeverityFactory.create(policy=t.plan.policy, level=3)
    )
    queue_rank = factory.LazyAttribute(lambda t: queue_rank(t.plan.priority, t.severity.level))
    subject = factory.Sequence(lambda n: f"Problem number {n}")
    reference = factory.Sequence(lambda n: f"HD-{n + 900000:06d}")
    created_at = factory.LazyFunction(timezone.now)
    updated_at = factory.LazyAttribute(lambda t: t.created_at)


class MessageFactory(DjangoModelFactory[Message]):
    class Meta:
        model = Message

    ticket = factory.SubFactory(TicketFactory)
    author = factory.LazyAttribute(lambda m: m.ticket.requester)
    from_customer = True
    body = "It is broken."
    body_html = "<p>It is broken.</p>"
    created_at = factory.LazyFunction(timezone.now)


class SlaClockFactory(DjangoModelFactory[SlaClock]):
    class Meta:
        model = SlaClock
        skip_postgeneration_save = True

    ticket = factory.SubFactory(TicketFactory)
    metric = "first_response"
    plan = factory.LazyAttribute(lambda c: c.ticket.plan)
    severity = factory.LazyAttribute(lambda c: c.ticket.severity)
    calendar = factory.LazyAttribute(lambda c: c.ticket.plan.support_hours.calendar)
    target = dt.timedelta(hours=4)
    started_at = factory.LazyAttribute(lambda c: c.ticket.created_at)
    due_at = factory.LazyAttribute(lambda c: c.started_at + c.target if c.target else None)
    original_due_at = factory.LazyAttribute(lambda c: c.due_at)
    # Wall-clock stand-in for the business instant the clock service computes.
    at_risk_at = factory.LazyAttribute(
        lambda c: c.started_at + c.target * AT_RISK_SHARE if c.target else None
    )
    state = "running"

    @factory.post_generation
    def ticket_summary(self, create: bool, extracted: object, **kwargs: object) -> None:
        """Built clocks bypass the clock services: refresh the ticket's stored SLA summary."""
        if create:
            tickets_refresh_sla({self.ticket_id})


class TimeEntryFactory(DjangoModelFactory[TimeEntry]):
    class Meta:
        model = TimeEntry

    ticket = factory.SubFactory(TicketFactory)
    agent = factory.SubFactory(AgentFactory)
    date = dt.date(2026, 11, 2)
    minutes = 60
    created_at = factory.LazyFunction(timezone.now)


def load_example_policy(name: str) -> None:
    """Load `examples/policies/<name>.yaml` quietly."""
    call_command("load_policy", f"examples/policies/{name}.yaml", stdout=StringIO())


def customer_on(
    plan_slug: str,
    *,
    org_slug: str = "acme",
    onboarded: bool = True,
    time_zone: str = "Europe/London",
    contact: str = "alice",
) -> NamedContact:
    """An organization with an active contract on an (already loaded) plan, a customer success
    manager and one named contact; returns the contact."""
    plan = Plan.objects.get(slug=plan_slug)
    csm = UserFactory.create(username=f"{org_slug}-csm")
    organization = OrganizationFactory.create(
        slug=org_slug, name=org_slug.title(), time_zone=time_zone, customer_success_manager=csm
    )
    ContractFactory.create(organization=organization, plan=plan, onboarding_completed=onboarded)
    return NamedContactFactory.create(
        organization=organization, user=UserFactory.create(username=contact)
    )
