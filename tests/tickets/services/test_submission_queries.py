"""A submission costs a fixed number of queries, whatever the number of clocks with a target.

Each submission is measured with a requester read afresh, as a request has it: nothing a previous
submission read (the named contact, the plan's severities) is left on the objects.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from plans.models import ConditionLimit, PlanCondition
from tests.builders.portal import build_portal_world, open_ticket
from tickets import services
from tickets.entitlements import entitlement_for
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

# Entitlement: the contact with its organization (1), the contract with plan and policy (1).
# Checks: the plan's severities (1), categories (1) and conditions (1). The transaction (2:
# a savepoint and its release here). Writes: ticket and reference (2), message (1), event (1).
# SLA terms: targets with their calendar (1), escalation rules (1). Clocks and their events (2);
# the ticket's SLA summary is written with the ticket (0). The acknowledgement's outbox row (1).
QUERIES_PER_SUBMISSION = 16
# The portal adds the session (1) and the signed-in user (1); the contact read to choose the
# viewer's time zone is the one the entitlement uses.
QUERIES_PER_PORTAL_SUBMISSION = QUERIES_PER_SUBMISSION + 2


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


@pytest.mark.parametrize(
    ("severity", "extra"),
    [
        (1, 0),  # two clocks with a target
        (2, 0),  # one
        (3, 1),  # none: no target row, so the plan's support hours give the calendar
    ],
)
def test_it_opens_a_ticket_in_a_fixed_number_of_queries(
    severity: int, extra: int, django_assert_num_queries: Any
) -> None:
    world = build_portal_world()
    open_ticket(world.alice, severity=severity)  # warm: calendars and holidays are cached
    requester = fresh(world.alice.user)
    with django_assert_num_queries(QUERIES_PER_SUBMISSION + extra):
        services.ticket_create(
            requester=requester, subject="Checkout fails", body="It fails.", severity_level=severity
        )


def test_it_reads_the_contracts_records_only_for_a_plan_with_conditions(
    django_assert_num_queries: Any,
) -> None:
    world = build_portal_world()
    PlanCondition.objects.create(
        plan=world.plan,
        slug="sdk-included",
        name="SDK included",
        limit=ConditionLimit.NO_TECHNICAL_SUPPORT,
        presumed_met=True,
    )
    open_ticket(world.alice)
    requester = fresh(world.alice.user)
    with django_assert_num_queries(QUERIES_PER_SUBMISSION + 1):
        services.ticket_create(
            requester=requester, subject="Checkout fails", body="It fails.", severity_level=2
        )


def test_it_reuses_the_entitlement_the_portal_resolved_for_the_same_request(
    django_assert_num_queries: Any,
) -> None:
    world = build_portal_world()
    open_ticket(world.alice)
    requester = fresh(world.alice.user)
    entitlement = entitlement_for(user=requester)
    # The contact and the contract are not read again.
    with django_assert_num_queries(QUERIES_PER_SUBMISSION - 2):
        services.ticket_create(
            requester=requester,
            subject="Checkout fails",
            body="It fails.",
            severity_level=2,
            entitlement=entitlement,
        )


def test_a_portal_submission_runs_a_fixed_number_of_queries_from_session_to_redirect(
    django_assert_num_queries: Any,
) -> None:
    world = build_portal_world()
    client = Client()
    client.force_login(world.alice.user)
    data = {"subject": "Checkout fails", "severity": "2", "channel": "portal", "body": "It fails."}
    client.post("/tickets/new/", data)  # warm: calendars and holidays are cached
    with django_assert_num_queries(QUERIES_PER_PORTAL_SUBMISSION):
        response = client.post("/tickets/new/", data)
    assert response.status_code == 302
    assert Ticket.objects.filter(organization=world.acme).count() == 2


def test_it_refuses_an_entitlement_of_someone_else() -> None:
    world = build_portal_world()
    with pytest.raises(ValueError, match="not the requester's"):
        services.ticket_create(
            requester=world.bob.user,
            subject="Checkout fails",
            body="It fails.",
            severity_level=2,
            entitlement=entitlement_for(user=world.alice.user),
        )
