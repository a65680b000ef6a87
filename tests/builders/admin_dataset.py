"""A small but complete policy for the admin pages: two calendars, two plans (one based on the
other), a category, targets, rules, a customer with a contract, a contact, a ticket with a clock
and a firing. Shared by the plans and sla admin tests."""

import datetime as dt
import uuid
from decimal import Decimal
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.utils import timezone

from plans.models import (
    ContactChangeRequest,
    ContactInvitation,
    ContactRole,
    Contract,
    NamedContact,
    NamedContactChange,
    Organization,
    Plan,
    Policy,
    PolicyChange,
    PooledMonths,
    Severity,
    TicketCategory,
    UserProfile,
)
from sla.models import (
    BusinessCalendar,
    Closure,
    EscalationFiring,
    EscalationRule,
    Metric,
    OpenPeriod,
    SlaClock,
    SupportHours,
    Target,
)
from tickets.models import Ticket
from tickets.queue_order import queue_rank


def build_admin_dataset(suffix: str = "a") -> SimpleNamespace:
    """A small but complete policy, a customer on it, and a named contact with its log row."""
    policy = Policy.objects.create(
        slug=f"acme-{suffix}",
        name=f"Acme {suffix}",
        source="examples/policies/acme.yaml",
        not_covered=["Custom code", "Third-party plugins"],
    )
    critical = Severity.objects.create(
        policy=policy, level=1, name="Critical", definition="Down for everyone", examples=["Outage"]
    )
    major = Severity.objects.create(policy=policy, level=2, name="Major", definition="Degraded")
    uk = BusinessCalendar.objects.create(
        policy=policy, slug="uk", name="UK office hours", timezone="Europe/London"
    )
    OpenPeriod.objects.bulk_create(
        OpenPeriod(calendar=uk, weekday=day, start_minute=9 * 60, end_minute=18 * 60)
        for day in range(5)
    )
    Closure.objects.create(
        calendar=uk, date=dt.date(2026, 12, 24), name="Christmas Eve", source=Closure.Source.POLICY
    )
    us = BusinessCalendar.objects.create(
        policy=policy, slug="us", name="US weekend desk", timezone="America/New_York"
    )
    OpenPeriod.objects.create(calendar=us, weekday=5, start_minute=10 * 60, end_minute=24 * 60)
    Closure.objects.create(calendar=us, date=dt.date(2026, 7, 4), name="Independence Day")
    basic = Plan.objects.create(
        policy=policy,
        slug=f"acme-basic-{suffix}",
        name="Basic",
        position=1,
        channels=["portal", "email"],
        named_contacts=1,
    )
    pro = Plan.objects.create(
        policy=policy,
        slug=f"acme-pro-{suffix}",
        name="Pro",
        position=2,
        channels=["portal", "email", "phone"],
        priority_routing=True,
        technical_account_manager="optional",
        named_contacts=3,
        post_incident_report_levels=[1],
        customer_escalation_levels=[1, 2],
        monthly_support_hours=Decimal("20.00"),
        poolable_months=2,
        overage_billed=True,
        base_plan=basic,
    )
    outage = TicketCategory.objects.create(
        plan=pro,
        slug="outage",
        name="API outage",
        channels=["phone", "portal"],
        guarantee="On-call team notified 24/7",
        severity_levels=[1],
    )
    SupportHours.objects.create(plan=basic, calendar=uk)
    SupportHours.objects.create(plan=pro, calendar=uk)
    Target.objects.create(
        plan=basic, severity=major, calendar=uk, first_response=dt.timedelta(hours=9)
    )
    Target.objects.create(
        plan=pro,
        severity=critical,
        calendar=us,
        acknowledge=dt.timedelta(hours=1, minutes=30),
        first_response=dt.timedelta(hours=3),
    )
    Target.objects.create(plan=pro, severity=major, calendar=uk, resolution=dt.timedelta(days=2))
    Target.objects.create(
        plan=pro,
        severity=critical,
        category=outage,
        calendar=uk,
        acknowledge=dt.timedelta(minutes=30),
    )
    EscalationRule.objects.create(
        plan=pro,
        severity=critical,
        metric=Metric.RESOLUTION,
        after=dt.timedelta(hours=2),
        notify=["queue"],
    )
    EscalationRule.objects.create(
        plan=pro,
        severity=critical,
        metric=Metric.FIRST_RESPONSE,
        after_percent=75,
        notify=["support_managers", "group:directors"],
        move_to="l2",
        position=1,
    )
    organization = Organization.objects.create(
        name=f"Globex {suffix}", slug=f"globex-{suffix}", time_zone="Europe/London"
    )
    contract = Contract.objects.create(
        organization=organization, plan=pro, starts_on=dt.date(2020, 1, 1)
    )
    contact_user = get_user_model().objects.create_user(
        username=f"hank-{suffix}", email=f"hank-{suffix}@globex.example"
    )
    contact = NamedContact.objects.create(
        organization=organization, user=contact_user, role=ContactRole.ADMIN
    )
    change = NamedContactChange.objects.create(
        organization=organization,
        contact_user=contact_user,
        action=NamedContactChange.Action.ADDED,
        role=ContactRole.ADMIN,
        reason="Seeded",
    )
    profile = UserProfile.objects.create(user=contact_user, time_zone="Europe/London")
    change_request = ContactChangeRequest.objects.create(
        organization=organization,
        former_user=contact_user,
        new_email=f"ivy-{suffix}@globex.example",
        via=ContactChangeRequest.Via.PORTAL,
        requested_by=contact_user,
        requested_at=timezone.now(),
    )
    pool = PooledMonths.objects.create(contract=contract, first_month=dt.date(2026, 1, 1))
    # A ticket with a clock and a firing, so the SLA clock and firing pages have a row.
    now = timezone.now()
    ticket = Ticket.objects.create(
        reference=f"HD-T{suffix}",
        organization=organization,
        requester=contact_user,
        plan=pro,
        severity=critical,
        queue_rank=queue_rank(pro.priority, critical.level),
        subject="Outage",
        created_at=now,
        updated_at=now,
    )
    clock = SlaClock.objects.create(
        ticket=ticket,
        metric=Metric.FIRST_RESPONSE,
        plan=pro,
        severity=critical,
        calendar=us,
        target=dt.timedelta(hours=3),
        started_at=now,
        due_at=now + dt.timedelta(hours=3),
    )
    firing = EscalationFiring.objects.create(
        clock=clock,
        rule_text="first response 75%",
        due_at=now,
        fired_at=now,
        sweep=uuid.uuid4(),
    )
    policy_change = PolicyChange.objects.create(
        policy=policy, policy_slug=policy.slug, at=now, by="ops", summary="+ plan pro"
    )
    invitation = ContactInvitation.objects.create(
        organization=organization,
        email=f"ivy-{suffix}@globex.example",
        token_hash=uuid.uuid4().hex,
        sent_at=now,
        expires_at=now + dt.timedelta(days=7),
    )
    return SimpleNamespace(**locals())
