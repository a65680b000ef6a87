"""The queue's pages: read through the queue's indexes in the queue's order, counted a few pages
ahead only, the same queries whatever the number of tickets."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import F, Q
from django.db.models.expressions import OrderBy
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sla.selectors import ticket_standing_conditions, ticket_urgency_case
from sla.standing import Standing, TicketSla
from tests.builders.queue import build_varied_queue, set_summary
from tests.factories import QueueFactory, TicketFactory
from tickets.desk import queue_pages
from tickets.desk.admin import TicketAdmin
from tickets.models import CLOSED_STATUSES, Ticket

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:tickets_ticket_changelist"
PER_PAGE = 5
NOW = dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TicketAdmin, "list_per_page", PER_PAGE)


@pytest.fixture
def queue(admin_client: Client) -> SimpleNamespace:
    with time_machine.travel(NOW, tick=False):
        world = build_varied_queue(NOW)
    me = get_user_model().objects.get(username="admin")
    Ticket.objects.filter(pk__in=[t.pk for t in world.tickets[::3]]).update(assignee=me)
    return world


def case_order(view: Q) -> list[int]:
    """The queue's order as DESIGN states it, on the plan and severity rows themselves."""
    tickets = Ticket.objects.exclude(status__in=CLOSED_STATUSES).filter(view)
    return list(
        tickets.order_by(
            ticket_urgency_case(now=NOW, prefix="sla_"),
            OrderBy(F("plan__priority"), descending=True),
            "severity__level",
            OrderBy(F("sla_breach_at"), nulls_last=True),
            "created_at",
            "id",
        ).values_list("id", flat=True)
    )


def every_page(client: Client, **params: str) -> list[int]:
    found: list[int] = []
    page = 1
    with time_machine.travel(NOW, tick=False):
        while True:
            response = client.get(reverse(CHANGELIST), {**params, "p": str(page)})
            assert response.status_code == 200, params
            cl = response.context["cl"]
            found += [ticket.pk for ticket in cl.result_list]
            if page >= cl.paginator.num_pages:
                return found
            page += 1


def test_every_page_of_the_default_view_is_in_the_queues_order(
    admin_client: Client, queue: SimpleNamespace
) -> None:
    assert every_page(admin_client) == case_order(Q())


@pytest.mark.parametrize("standing", ["breached", "at_risk", "on_track", "paused"])
def test_every_page_of_a_standing_is_in_the_queues_order(
    admin_client: Client, queue: SimpleNamespace, standing: str
) -> None:
    condition = ticket_standing_conditions(now=NOW, prefix="sla_")[Standing(standing)]
    assert every_page(admin_client, sla=standing) == case_order(condition)


def test_every_page_of_mine_and_of_a_tier_is_in_the_queues_order(
    admin_client: Client, queue: SimpleNamespace
) -> None:
    me = get_user_model().objects.get(username="admin")
    assert every_page(admin_client, assigned="mine") == case_order(Q(assignee=me))
    tier = str(queue.tiers[1].pk)
    assert every_page(admin_client, queue__id__exact=tier) == case_order(Q(queue_id=tier))
    mine_in_tier = every_page(admin_client, assigned="mine", queue__id__exact=tier, sla="breached")
    breached = ticket_standing_conditions(now=NOW, prefix="sla_")[Standing.BREACHED]
    assert mine_in_tier == case_order(Q(assignee=me, queue_id=tier) & breached)


def test_other_views_page_in_the_same_order(admin_client: Client, queue: SimpleNamespace) -> None:
    level_one = every_page(admin_client, severity__level="1")
    assert level_one == case_order(Q(severity__level=1))
    everything = every_page(admin_client, open="all")
    assert len(everything) == len(queue.tickets) + 2


def test_a_search_and_an_explicit_sort_page_through_every_match(
    admin_client: Client, queue: SimpleNamespace
) -> None:
    matches = case_order(Q(subject__icontains="paused"))
    assert sorted(every_page(admin_client, q="paused")) == sorted(matches)
    with time_machine.travel(NOW, tick=False):
        response = admin_client.get(reverse(CHANGELIST))
    column = response.context["cl"].list_display.index("updated")
    assert sorted(every_page(admin_client, o=str(column))) == sorted(case_order(Q()))


def test_the_count_stops_a_few_pages_ahead_and_says_so(
    admin_client: Client, queue: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queue_pages, "COUNT_CAP", 8)
    monkeypatch.setattr(queue_pages, "PAGES_AHEAD", 1)
    with time_machine.travel(NOW, tick=False):
        first = admin_client.get(reverse(CHANGELIST))
        third = admin_client.get(reverse(CHANGELIST), {"p": "3"})
    assert (first.context["cl"].paginator.num_pages, third.context["cl"].paginator.num_pages) == (
        3,
        5,
    )
    assert "10+ tickets" in first.content.decode()
    assert "Select all 10+ tickets" in first.content.decode()
    assert "20+ tickets" in third.content.decode()


def test_a_count_below_the_limit_is_the_count(admin_client: Client, queue: SimpleNamespace) -> None:
    with time_machine.travel(NOW, tick=False):
        response = admin_client.get(reverse(CHANGELIST))
    assert f"{len(queue.tickets)} tickets" in response.content.decode()


def tickets_on_tiers(count: int, start: int) -> None:
    """Tickets on two tiers, every other one mine, every third one breached."""
    tiers = [QueueFactory.create(slug=f"pages-tier-{n}") for n in range(2)]
    me = get_user_model().objects.get(username="admin")
    for n in range(start, start + count):
        ticket = TicketFactory.create(
            queue=tiers[n % 2],
            assignee=me if n % 2 else None,
            created_at=NOW - dt.timedelta(minutes=n),
        )
        if n % 3 == 0:
            set_summary(ticket, TicketSla(breach_at=NOW - dt.timedelta(minutes=n)))


@pytest.mark.parametrize(
    "params",
    [{}, {"sla": "breached"}, {"assigned": "mine"}, {"queue__id__exact": "tier"}, {"p": "2"}],
    ids=["default", "breached", "mine", "one tier", "second page"],
)
def test_a_page_runs_the_same_queries_for_few_and_many_tickets(
    admin_client: Client, django_assert_num_queries, params: dict[str, str]
) -> None:
    tickets_on_tiers(12 if "p" in params else 3, 0)  # one page, or two for the second
    if "queue__id__exact" in params:
        params = {"queue__id__exact": str(QueueFactory.create(slug="pages-tier-0").pk)}
    url = reverse(CHANGELIST)
    admin_client.get(url)  # the session
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as few:
        assert admin_client.get(url, params).status_code == 200
    tickets_on_tiers(60, 12)
    with (
        time_machine.travel(NOW, tick=False),
        django_assert_num_queries(len(few.captured_queries)),
    ):
        assert admin_client.get(url, params).status_code == 200


def test_a_tickets_history_page_pages_its_log_entries(admin_client: Client) -> None:
    ticket = TicketFactory.create()
    url = reverse("admin:tickets_ticket_history", args=[ticket.pk])
    assert admin_client.get(url).status_code == 200
