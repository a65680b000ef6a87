"""The portal's world: two customer organizations on one plan, three people.

alice (organization admin) and bob (colleague) belong to Acme; charlie belongs to Globex (the
outsider). Rows are built with the factories and tickets through the services, as a customer
would create them. The `world` fixture (tests/tickets/portal/conftest.py) builds it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile

from plans.models import NamedContact, Organization, Plan, Severity
from tests.factories import (
    ContractFactory,
    NamedContactFactory,
    OrganizationFactory,
    PlanFactory,
    PolicyFactory,
    SeverityFactory,
    TargetFactory,
    UserFactory,
)
from tickets import services
from tickets.models import Ticket


@dataclass
class PortalWorld:
    plan: Plan
    severities: dict[int, Severity]
    acme: Organization
    globex: Organization
    alice: NamedContact
    bob: NamedContact
    charlie: NamedContact


def build_portal_world(*, named_contacts: int | None = 5) -> PortalWorld:
    policy = PolicyFactory.create(slug="portal-policy", name="Portal Policy")
    severities = {
        level: SeverityFactory.create(
            policy=policy,
            level=level,
            name=["Critical", "High", "Normal", "Low"][level - 1],
            definition=f"Definition of level {level}.",
            examples=[f"Example for level {level}"],
        )
        for level in (1, 2, 3, 4)
    }
    plan = PlanFactory.create(
        policy=policy,
        slug="portal-pro",
        name="Pro",
        channels=["portal", "email"],
        post_incident_report_levels=[1],
        customer_escalation_levels=[2, 3, 4],
        named_contacts=named_contacts,
    )
    TargetFactory.create(
        plan=plan,
        severity=severities[1],
        acknowledge=dt.timedelta(hours=1),
        first_response=dt.timedelta(hours=4),
        resolution=None,
    )
    TargetFactory.create(
        plan=plan,
        severity=severities[2],
        acknowledge=None,
        first_response=dt.timedelta(hours=8),
        resolution=None,
    )
    acme = OrganizationFactory.create(slug="acme", name="Acme", time_zone="Europe/London")
    globex = OrganizationFactory.create(slug="globex", name="Globex", time_zone="America/New_York")
    ContractFactory.create(organization=acme, plan=plan)
    ContractFactory.create(organization=globex, plan=plan)
    alice = NamedContactFactory.create(
        organization=acme,
        role="admin",
        user=UserFactory.create(username="alice", first_name="Alice"),
    )
    bob = NamedContactFactory.create(organization=acme, user=UserFactory.create(username="bob"))
    charlie = NamedContactFactory.create(
        organization=globex, user=UserFactory.create(username="charlie")
    )
    return PortalWorld(plan, severities, acme, globex, alice, bob, charlie)


def upload(name: str = "log.txt", content: bytes = b"trace line\n") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/plain")


def open_ticket(
    contact: NamedContact,
    *,
    severity: int = 2,
    subject: str = "Checkout fails",
    attachments: tuple = (),
) -> Ticket:
    return services.ticket_create(
        requester=contact.user,
        subject=subject,
        body="It **fails**.",
        severity_level=severity,
        channel="portal",
        attachments=attachments,
    )
