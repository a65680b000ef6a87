"""The SLA clocks' admin list: each clock's standing, the same words as everywhere else."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import PlanFactory, SlaClockFactory, TicketFactory

pytestmark = pytest.mark.django_db


def test_a_clock_without_a_target_says_no_target_not_running(admin_client: Client) -> None:
    plan = PlanFactory.create(slug="clock-plan")
    SlaClockFactory.create(ticket=TicketFactory.create(plan=plan), metric="resolution", target=None)
    SlaClockFactory.create(ticket=TicketFactory.create(plan=plan), metric="first_response")
    html = admin_client.get(reverse("admin:sla_slaclock_changelist")).content.decode()
    cell = '<td class="field-standing_badge"><span class="sla-badge sla-{}">{}</span></td>'
    assert cell.format("no_target", "No target") in html
    assert cell.format("on_track", "On track") in html
    assert 'class="field-state"' not in html  # the raw "Running" is no column of the list


def test_the_clock_list_runs_the_same_number_of_queries_for_2_and_20_clocks(
    admin_client: Client, django_assert_max_num_queries: object
) -> None:
    plan = PlanFactory.create(slug="clock-plan")
    url = reverse("admin:sla_slaclock_changelist")
    for _ in range(2):
        SlaClockFactory.create(ticket=TicketFactory.create(plan=plan))
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    for _ in range(18):
        SlaClockFactory.create(ticket=TicketFactory.create(plan=plan))
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(url)
