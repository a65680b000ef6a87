"""A submission costs a fixed number of queries, whatever the number of clocks with a target."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders.portal import build_portal_world, open_ticket
from tickets import services
from tickets.entitlements import entitlement_for

pytestmark = pytest.mark.django_db

# Entitlement (2), submission checks (5), ticket insert and reference (2), message, event,
# SLA terms (4), clocks and their events (2), escalation rules (1), the ticket's SLA summary (2).
QUERIES_PER_SUBMISSION = 20


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
    with django_assert_num_queries(QUERIES_PER_SUBMISSION + extra):
        open_ticket(world.alice, severity=severity)


def test_it_reuses_the_entitlement_the_portal_resolved_for_the_same_request(
    django_assert_num_queries: Any,
) -> None:
    world = build_portal_world()
    open_ticket(world.alice)
    entitlement = entitlement_for(user=world.alice.user)
    with django_assert_num_queries(QUERIES_PER_SUBMISSION - 2):
        services.ticket_create(
            requester=world.alice.user,
            subject="Checkout fails",
            body="It fails.",
            severity_level=2,
            entitlement=entitlement,
        )


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
