"""Demo data for the run command: staff, groups, one customer organization per plan.

Idempotent: every object is found by a natural key first, so running it twice changes nothing.
"""

import datetime as dt
from contextlib import AbstractContextManager
from dataclasses import dataclass

from django.apps import apps as django_apps
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from helpdesk import timing
from plans.models import ContactRole, Contract, NamedContact, Organization, Plan, Severity
from plans.roles import (
    AGENTS,
    DIRECTORS,
    ON_CALL,
    POLICY_ADMINISTRATORS,
    SUPPORT_MANAGERS,
)
from plans.selectors import contract_active, effective_plan
from plans.services import named_contact_add
from tickets import services
from tickets.entitlements import allowed_channels
from tickets.kb.demo import seed_articles, seed_release
from tickets.models import Queue, Ticket
from tickets.roles import sync_role_groups

DEMO_PASSWORD = "demo-pass-2026"
# The demo customer the README names (and seed_demo prints first): OpenBack Pro has response
# targets for every severity. Without that plan loaded, the first plan's customer is shown.
FEATURED_PLAN = "openback-pro"
STAFF_GROUPS = (SUPPORT_MANAGERS, AGENTS, POLICY_ADMINISTRATORS, DIRECTORS, ON_CALL)
COMPANIES = (
    "Northwind Apps",
    "Blue Harbour Media",
    "Kestrel Retail",
    "Orchard Health",
    "Lumen Games",
    "Copperfield Bank",
    "Tidewater Travel",
    "Granite Logistics",
    "Aurora Learning",
    "Pinecrest Foods",
    "Helix Labs",
    "Meridian Press",
    "Sable Energy",
    "Quill & Co",
)
ZONES = (
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Europe/Berlin",
)


@dataclass
class Login:
    username: str
    role: str


def _user(
    username: str, *, first: str, last: str, staff: bool = False, superuser: bool = False
) -> User:
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": first,
            "last_name": last,
            # Contacts sign in as "alice@<organization>"; their mail goes to a real domain.
            "email": f"{username}.example" if "@" in username else f"{username}@example.com",
            "is_staff": staff or superuser,
            "is_superuser": superuser,
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    return user


@transaction.atomic
def seed_demo(today: dt.date | None = None) -> list[Login]:
    today = today or timezone.now().date()
    logins: list[Login] = []
    # The roles' groups and permissions come from one definition (plans.roles), as in the
    # migration that created them; the demo only makes sure they are intact.
    sync_role_groups(django_apps)
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in STAFF_GROUPS}

    _user("admin", first="Ada", last="Admin", superuser=True)
    manager = _user("manager", first="Morgan", last="Manager", staff=True)
    manager.groups.add(groups[SUPPORT_MANAGERS], groups[AGENTS])
    policy = _user("policy", first="Pat", last="Policy", staff=True)
    policy.groups.add(groups[POLICY_ADMINISTRATORS], groups[AGENTS])
    director = _user("director", first="Dana", last="Director", staff=True)
    director.groups.add(groups[DIRECTORS])
    for index, name in enumerate(("alex", "sam", "jo", "kim", "lee", "pat")):
        agent = _user(f"agent.{name}", first=name.title(), last=f"Agent{index + 1}", staff=True)
        agent.groups.add(groups[AGENTS])
        if index == 0:
            agent.groups.add(groups[ON_CALL])
    csm = _user("csm", first="Casey", last="Success", staff=True)
    csm.groups.add(groups[AGENTS])

    plans = Plan.objects.select_related("policy").order_by("policy__slug", "position")
    featured: Organization | None = None
    for index, plan in enumerate(plans):
        company = COMPANIES[index % len(COMPANIES)]
        org, _ = Organization.objects.get_or_create(
            slug=slugify(f"{company}-{plan.slug}"),
            defaults={
                "name": f"{company} ({plan.policy.name.split()[0]} {plan.name})",
                "time_zone": ZONES[index % len(ZONES)],
                "customer_success_manager": csm if plan.customer_success_manager else None,
            },
        )
        if not org.contracts.exists():
            Contract.objects.create(
                organization=org,
                plan=plan,
                starts_on=today.replace(day=1) - dt.timedelta(days=90),
                onboarding_completed=True,
            )
        limit = plan.named_contacts if plan.named_contacts is not None else 3
        for number, (first, role) in enumerate(
            (("alice", ContactRole.ADMIN), ("bob", ContactRole.CONTACT))
        ):
            if number >= limit:
                break
            username = f"{first}@{org.slug}"
            if NamedContact.objects.filter(user__username=username).exists():
                continue
            user = _user(username, first=first.title(), last=company.split()[0])
            named_contact_add(
                organization=org, user=user, role=role, changed_by=None, reason="demo data"
            )
        if featured is None or plan.slug == FEATURED_PLAN:
            featured = org
    # The customer the README names first, then the staff who answer them.
    if featured is not None:
        logins.append(Login(f"alice@{featured.slug}", f"customer admin, {featured.name}"))
    logins += [
        Login("agent.alex", "agent (admin queue)"),
        Login("manager", "support manager (admin, SLA reports)"),
        Login("admin", "superuser (everything)"),
        Login("policy", "policy administrator (plans, targets, calendars)"),
    ]
    colleague = f"bob@{featured.slug}" if featured is not None else ""
    if featured is not None and featured.contacts.filter(user__username=colleague).exists():
        logins.append(Login(colleague, f"customer colleague, {featured.name}"))
    agents = list(User.objects.filter(username__startswith="agent.").order_by("username"))
    _queues(agents)
    for org in Organization.objects.filter(
        slug__in=[slugify(f"{COMPANIES[i % len(COMPANIES)]}-{p.slug}") for i, p in enumerate(plans)]
    ):
        _tickets(org, agents)
    seed_articles(author=agents[0])
    seed_release(agent=agents[0])
    return logins


def _queues(agents: list[User]) -> None:
    """Support tiers L1-L3, two agents each."""
    for position, slug in enumerate(("l1", "l2", "l3"), start=1):
        queue, _ = Queue.objects.get_or_create(
            slug=slug, defaults={"name": f"L{position} support", "position": position}
        )
        if not queue.agents.exists():
            queue.agents.set(agents[(position - 1) * 2 : position * 2])


# (hours ago opened, severity index from the most severe, what happens, conversation)
SCENARIOS = (
    (0.1, 0, "new", "Production site is down for all users"),
    (2, 1, "acknowledged", "Checkout is very slow since this morning"),
    (26, 2, "in_progress", "Search results miss some products"),
    (30, 2, "waiting", "Images fail to upload on one page"),
    (75, 3, "resolved", "How do I change the logo in the header?"),
    (200, 3, "closed", "Question about exporting data"),
    (50, 3, "out_of_scope", "Can you redesign our landing page?"),
    (52, 0, "untouched", "Data loss after the last import"),
)


def _tickets(org: Organization, agents: list[User]) -> None:
    """Tickets in every state with conversations, made through the services at past instants
    so their SLA clocks, breaches and escalations are what they would really be."""
    if Ticket.objects.filter(organization=org).exists():
        return
    contact = org.contacts.select_related("user").order_by("role").first()
    contract = contract_active(organization=org)
    if contact is None or contract is None:
        return
    plan = effective_plan(contract=contract)
    levels = list(
        Severity.objects.filter(policy_id=plan.policy_id)
        .values_list("level", flat=True)
        .order_by("level")
    )
    categories = list(plan.categories.all())
    now = timing.now()
    for number, (hours_ago, rank, outcome, subject) in enumerate(SCENARIOS):
        level = levels[min(rank, len(levels) - 1)]
        category = next(
            (c for c in categories if not c.severity_levels or level in c.severity_levels), None
        )
        if categories and category is None:
            continue
        agent = agents[number % len(agents)]
        opened = now - dt.timedelta(hours=hours_ago)

        def step(
            minutes: float, opened: dt.datetime = opened
        ) -> AbstractContextManager[dt.datetime]:
            # Replay at a past instant: the services act at it (helpdesk.timing), no patching.
            return timing.acting_at(opened + dt.timedelta(minutes=minutes))

        with step(0):
            ticket = services.ticket_create(
                requester=contact.user,
                subject=subject,
                severity_level=level,
                category=category,
                channel=allowed_channels(plan=plan, category=category)[0],
                body=f"{subject}.\n\nSteps to reproduce:\n\n1. Sign in\n2. Open the page\n\n"
                "It started after yesterday's release.",
            )
        if outcome in ("new", "untouched"):
            continue
        with step(20):
            services.ticket_acknowledge(ticket=ticket, by=agent)
        if outcome == "acknowledged":
            continue
        if outcome == "out_of_scope":
            with step(40):
                reason = (plan.policy.not_covered or ["Outside what support covers"])[0]
                services.ticket_close_out_of_scope(ticket=ticket, by=agent, reason=reason)
            continue
        with step(45):
            services.ticket_reply(
                ticket=ticket,
                author=agent,
                body="Thanks for the report. Could you send the **exact URL** and a screenshot?",
            )
        with step(50):
            services.ticket_reply(
                ticket=ticket,
                author=agent,
                internal=True,
                body="Looks like the cache issue from last week.",
            )
        with step(90):
            services.ticket_reply(
                ticket=ticket,
                author=contact.user,
                body="It is https://example.com/shop, screenshot attached.",
            )
        if outcome == "waiting":
            with step(120):
                services.ticket_set_status(
                    ticket=ticket, status="waiting", by=agent, reason="Waiting for the server logs"
                )
            continue
        if outcome == "in_progress":
            continue
        with step(180):
            services.ticket_resolve(ticket=ticket, by=agent, note="Cleared the cache.")
        if outcome == "closed":
            with step(240):
                services.ticket_close(ticket=ticket, by=contact.user)
