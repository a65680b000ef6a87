"""Demo data for the run command: staff, groups, one customer organization per plan.

Idempotent: every object is found by a natural key first, so running it twice changes nothing.
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission, User
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from plans.models import ContactRole, Contract, NamedContact, Organization, Plan
from plans.services import named_contact_add

DEMO_PASSWORD = "demo-pass-2026"
SUPPORT_MANAGERS = "support managers"
AGENTS = "agents"
STAFF_GROUPS = (SUPPORT_MANAGERS, AGENTS, "directors", "on-call")
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
            "email": f"{username}@example.com" if "@" not in username else username,
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
    groups = {name: Group.objects.get_or_create(name=name)[0] for name in STAFF_GROUPS}
    agent_perms = Permission.objects.filter(
        content_type__app_label__in=["tickets", "plans", "sla"]
    ).exclude(codename__startswith="delete_")
    groups[AGENTS].permissions.set(agent_perms)
    groups[SUPPORT_MANAGERS].permissions.set(
        Permission.objects.filter(content_type__app_label__in=["tickets", "plans", "sla"])
    )

    _user("admin", first="Ada", last="Admin", superuser=True)
    logins.append(Login("admin", "superuser (everything)"))
    manager = _user("manager", first="Morgan", last="Manager", staff=True)
    manager.groups.add(groups[SUPPORT_MANAGERS], groups[AGENTS])
    logins.append(Login("manager", "support manager (admin, SLA reports)"))
    director = _user("director", first="Dana", last="Director", staff=True)
    director.groups.add(groups["directors"])
    for index, name in enumerate(("alex", "sam", "jo", "kim", "lee", "pat")):
        agent = _user(f"agent.{name}", first=name.title(), last=f"Agent{index + 1}", staff=True)
        agent.groups.add(groups[AGENTS])
        if index == 0:
            agent.groups.add(groups["on-call"])
    logins.append(Login("agent.alex", "agent (admin queue)"))
    csm = _user("csm", first="Casey", last="Success", staff=True)
    csm.groups.add(groups[AGENTS])

    plans = Plan.objects.select_related("policy").order_by("policy__slug", "position")
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
        if index == 0:
            logins.append(Login(f"alice@{org.slug}", f"customer admin, {org.name}"))
            if limit >= 2:
                logins.append(Login(f"bob@{org.slug}", f"customer colleague, {org.name}"))
    return logins
