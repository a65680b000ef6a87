"""Demo time entries that exercise the support-hours ledger end to end.

For every organization on an agency package (plan slug "agency-..." with monthly hours):
several past billing months, one pooled pair of months, one month in overage, and the current
month above 80% of its allowance. For every organization on a Prismic enterprise plan with
enablement hours: enablement sessions this contract year.

Idempotent: an organization that already has time entries is left alone, and pools are found
by their natural key. Tickets are opened through the ticket services at past instants
(`helpdesk.timing.acting_at`), so they have their SLA clocks, only when the organization has none
to log time on.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction

from helpdesk import timing
from plans.models import Contract, Organization, PooledMonths, Severity, TicketCategory
from plans.selectors import contract_active
from tickets import services
from tickets.entitlements import allowed_channels
from tickets.hours.ledger import billing_month, build_enablement_years, month_index
from tickets.models import Status, Ticket, TimeEntry

DEMO_RATE = Decimal("60.00")
MAX_ENTRY_MINUTES = 180
PAST_MONTHS_SHOWN = 6
AGENCY_TASKS = (
    "Monthly security updates and monitoring",
    "Checkout page layout fixes",
    "Search filters show no results",
)
ENABLEMENT_SESSIONS = (
    ("Enablement: SEO and performance workshop", 120, "Workshop with the solution engineer"),
    ("Enablement: migration planning session", 90, "Technical session on the content migration"),
)


def _agent(preferred: str) -> User | None:
    users = get_user_model().objects.filter(is_staff=True, is_active=True)
    return users.filter(username=preferred).first() or users.order_by("pk").first()


def _requester(organization: Organization) -> User | None:
    contact = organization.contacts.select_related("user").order_by("pk").first()
    return contact.user if contact else None


def _noon(day: dt.date, organization: Organization) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(12), tzinfo=zoneinfo.ZoneInfo(organization.time_zone))
    return local.astimezone(dt.UTC)


def _ticket(
    contract: Contract,
    *,
    subject: str,
    opened: dt.date,
    status: str,
    agent: User,
    category: TicketCategory | None = None,
) -> Ticket | None:
    """A ticket opened at noon on `opened` through the ticket services (so it has its clocks),
    resolved or taken in hand by `agent` an hour later."""
    organization = contract.organization
    requester = _requester(organization)
    severity = Severity.objects.filter(policy_id=contract.plan.policy_id).order_by("-level").first()
    if requester is None or severity is None:
        return None
    at = _noon(opened, organization)
    with timing.acting_at(at):
        ticket = services.ticket_create(
            requester=requester,
            subject=subject,
            body=subject,
            severity_level=severity.level,
            category=category,
            channel=allowed_channels(plan=contract.plan, category=category)[0],
        )
    with timing.acting_at(at + dt.timedelta(hours=1)):
        if status == Status.RESOLVED:
            services.ticket_resolve(ticket=ticket, by=agent, note="Done (demo data).")
        elif status == Status.IN_PROGRESS:
            services.ticket_set_status(ticket=ticket, status=status, by=agent)
    return ticket


def _spread(
    tickets: list[Ticket],
    agent: User,
    *,
    minutes: int,
    first: dt.date,
    last: dt.date,
    note: str,
) -> list[TimeEntry]:
    """`minutes` as entries of at most three hours on days from `first` to `last`."""
    days = max((last - first).days + 1, 1)
    chunks = []
    while minutes > 0:
        chunks.append(min(minutes, MAX_ENTRY_MINUTES))
        minutes -= chunks[-1]
    step = max(days // max(len(chunks), 1), 1)
    entries = []
    for number, chunk in enumerate(chunks):
        day = first + dt.timedelta(days=(number * step) % days)
        entries.append(
            TimeEntry(
                ticket=tickets[number % len(tickets)],
                agent=agent,
                date=day,
                minutes=chunk,
                billable=True,
                note=note,
                created_at=_noon(day, tickets[0].organization),
            )
        )
    TimeEntry.objects.bulk_create(entries)
    return entries


def _seed_package(contract: Contract, *, today: dt.date, agent: User) -> None:
    organization = contract.organization
    plan = contract.plan
    if not plan.monthly_support_hours:  # no package to draw on
        return
    if contract.overage_hourly_rate is None:
        contract.overage_hourly_rate = DEMO_RATE
        contract.save(update_fields=["overage_hourly_rate"])
    if organization.customer_success_manager_id is None and plan.account_manager:
        # The customer success manager user serves as the agency's account manager.
        manager = get_user_model().objects.filter(username="csm").first()
        if manager is not None:
            organization.customer_success_manager = manager
            organization.save(update_fields=["customer_success_manager"])
    anchor = contract.starts_on
    current = month_index(anchor, today)
    first_shown = max(current - PAST_MONTHS_SHOWN, 0)
    tickets = list(organization.tickets.order_by("pk")[:3])
    if not tickets:
        opened = billing_month(anchor, first_shown)[0]
        for number, subject in enumerate(AGENCY_TASKS):
            status = Status.IN_PROGRESS if number == 0 else Status.RESOLVED
            ticket = _ticket(contract, subject=subject, opened=opened, status=status, agent=agent)
            if ticket is not None:
                tickets.append(ticket)
    if not tickets:
        return
    allowance = int(plan.monthly_support_hours * 60)
    # Shares of the monthly allowance: a pool that absorbs a big month, then a month in
    # overage, then the current month past the 80% warning.
    share: dict[int, Decimal] = dict.fromkeys(range(first_shown, current), Decimal("0.7"))
    if current >= 1:
        share[current - 1] = Decimal("1.15")
    if current - 3 >= first_shown:
        PooledMonths.objects.get_or_create(
            contract=contract,
            first_month=billing_month(anchor, current - 3)[0],
            defaults={"months": 2, "note": "Demo: a large task planned over two months"},
        )
        share[current - 3] = Decimal("1.5")
        share[current - 2] = Decimal("0.3")
    share[current] = Decimal("0.85")
    for index, fraction in sorted(share.items()):
        start, end = billing_month(anchor, index)
        _spread(
            tickets,
            agent,
            minutes=int(allowance * fraction),
            first=start,
            last=min(end, today),
            note="Planned monthly work" if index < current else "This month's tasks",
        )


def _seed_enablement(contract: Contract, *, today: dt.date, agent: User) -> None:
    category = contract.plan.categories.filter(draws_enablement_hours=True).first()
    if category is None:
        return
    years = build_enablement_years(contract, [], today=today)
    year = next((year for year in years if year.current), None)
    if year is None:
        return
    for number, (subject, minutes, note) in enumerate(ENABLEMENT_SESSIONS):
        day = min(year.start + dt.timedelta(days=14 + 21 * number), today)
        ticket = contract.organization.tickets.filter(category=category, subject=subject).first()
        if ticket is None:
            ticket = _ticket(
                contract,
                subject=subject,
                opened=day,
                status=Status.RESOLVED,
                agent=agent,
                category=category,
            )
        if ticket is None:
            return
        TimeEntry.objects.create(
            ticket=ticket,
            agent=agent,
            date=day,
            minutes=minutes,
            note=note,
            created_at=_noon(day, contract.organization),
        )


@transaction.atomic
def seed_hours(*, today: dt.date) -> None:
    """Add demo time to agency-package and Prismic-enterprise organizations (idempotent)."""
    organizations = Organization.objects.filter(
        contracts__plan__slug__startswith="agency-"
    ) | Organization.objects.filter(contracts__plan__slug__startswith="prismic-enterprise")
    for organization in organizations.distinct().order_by("pk"):
        if TimeEntry.objects.filter(ticket__organization=organization).exists():
            continue
        contract = contract_active(organization=organization, on=today)
        if contract is None:
            continue
        plan = contract.plan
        if plan.slug.startswith("agency-") and plan.monthly_support_hours:
            agent = _agent("agent.alex")
            if agent is not None:
                _seed_package(contract, today=today, agent=agent)
        elif plan.enablement_hours_per_year:
            agent = _agent("csm")
            if agent is not None:
                _seed_enablement(contract, today=today, agent=agent)
