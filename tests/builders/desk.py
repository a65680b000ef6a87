"""The desk's world: a policy with severities 1 and 2 (24x7 targets), a customer on it with a
contact, an agent and two support tiers; tickets submitted through the services."""

import datetime as dt
from types import SimpleNamespace

from tests.factories import (
    AgentFactory,
    ContractFactory,
    NamedContactFactory,
    OrganizationFactory,
    PlanFactory,
    PolicyFactory,
    QueueFactory,
    SeverityFactory,
    TargetFactory,
)
from tickets import services
from tickets.models import Ticket


def build_desk_world(suffix: str = "a") -> SimpleNamespace:
    """A policy with severities 1 and 2 (24x7 targets), a customer on it, a contact, agents."""
    policy = PolicyFactory.create(
        slug=f"policy-{suffix}", not_covered=["Custom designs for your site", "Product training"]
    )
    plan = PlanFactory.create(policy=policy, slug=f"plan-{suffix}", customer_escalation_levels=[2])
    TargetFactory.create(plan=plan, severity=SeverityFactory.create(policy=policy, level=1))
    TargetFactory.create(
        plan=plan,
        severity=SeverityFactory.create(policy=policy, level=2, name="High"),
        acknowledge=dt.timedelta(hours=2),
        first_response=dt.timedelta(hours=8),
        resolution=dt.timedelta(days=3),
    )
    organization = OrganizationFactory.create(slug=f"org-{suffix}", name=f"Org {suffix}")
    contract = ContractFactory.create(organization=organization, plan=plan)
    contact = NamedContactFactory.create(organization=organization)
    return SimpleNamespace(
        policy=policy,
        plan=plan,
        organization=organization,
        contract=contract,
        contact=contact,
        customer=contact.user,
        agent=AgentFactory.create(),
        l1=QueueFactory.create(slug="l1", position=1),
        l2=QueueFactory.create(slug="l2", position=2),
    )


def submit_ticket(world: SimpleNamespace, subject: str = "Site down", level: int = 1) -> Ticket:
    return services.ticket_create(
        requester=world.customer, subject=subject, body="It is **down**.", severity_level=level
    )
