"""A submission costs a fixed number of queries, whatever the number of clocks with a target.

Each submission is measured with a requester read afresh, as a request has it: nothing a previous
submission read (the named contact, the contract) is left on the objects. What the process keeps
between requests is kept here too: a first submission fills the calendars' and the policy's
caches (`plans.policy_cache`), and the measured one is the second request that reads them.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from plans import policy_cache
from plans.models import ConditionLimit, PlanCondition, PolicyRevision
from tests.builders.portal import build_portal_world, open_ticket
from tickets import services
from tickets.entitlements import entitlement_for
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

# Entitlement: the contact with its organization (1), the contract with the policy revision (1;
# its plan, policy and base plan come from the policy cache). Checks: the plan's severities,
# categories and conditions come from the policy cache (0). The transaction (2: a savepoint and
# its release here). Writes: the ticket with its reference and SLA summary (2: its key first on
# PostgreSQL, else the reference after the insert), message (1), event (1). SLA terms: targets,
# calendar and escalation rules come from the policy cache (0). Clocks and their events (2). The
# acknowledgement's outbox row (1).
QUERIES_PER_SUBMISSION = 11
# With the policy cache empty (the first request of a process, or the first after a policy edit):
# the plan with its policy and base plan (1), the severities, categories and conditions (3), the
# targets with their calendar and the rules (2).
QUERIES_PER_COLD_SUBMISSION = QUERIES_PER_SUBMISSION + 6
# The portal adds the session (1) and the signed-in user (1); the contact read to choose the
# viewer's time zone is the one the entitlement uses.
QUERIES_PER_PORTAL_SUBMISSION = QUERIES_PER_SUBMISSION + 2


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


@pytest.mark.parametrize(
    "severity",
    [
        1,  # two clocks with a target
        2,  # one
        3,  # none: no target row, so the plan's support hours give the calendar (cached too)
    ],
)
def test_it_opens_a_ticket_in_a_fixed_number_of_queries(
    severity: int, django_assert_num_queries: Any
) -> None:
    world = build_portal_world()
    open_ticket(world.alice, severity=severity)  # warm: calendars, holidays and the policy
    requester = fresh(world.alice.user)
    with django_assert_num_queries(QUERIES_PER_SUBMISSION):
        services.ticket_create(
            requester=requester, subject="Checkout fails", body="It fails.", severity_level=severity
        )


@pytest.mark.parametrize(
    ("severity", "extra"),
    [
        (1, 0),
        (3, 1),  # no target row: the plan's support hours are read for the calendar
    ],
)
def test_a_submission_with_the_policy_cache_empty_reads_the_policy_and_opens_the_ticket(
    severity: int, extra: int, django_assert_num_queries: Any
) -> None:
    world = build_portal_world()
    open_ticket(world.alice, severity=severity)  # warm the calendars and holidays only
    policy_cache.clear()
    requester = fresh(world.alice.user)
    with django_assert_num_queries(QUERIES_PER_COLD_SUBMISSION + extra):
        ticket = services.ticket_create(
            requester=requester, subject="Checkout fails", body="It fails.", severity_level=severity
        )
    assert ticket.severity.level == severity
    assert ticket.sla_clocks.count() == 3


def test_a_submission_leaves_the_policy_revision_as_it_was() -> None:
    """Nothing a ticket's submission writes invalidates the policy cache."""
    world = build_portal_world()
    open_ticket(world.alice)  # the first one generates the calendar's holidays
    before = PolicyRevision.objects.get().revision
    open_ticket(world.alice)
    assert PolicyRevision.objects.get().revision == before


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
    client.post("/tickets/new/", data)  # warm: calendars, holidays and the policy are cached
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
