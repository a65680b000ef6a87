"""The read-only admin base: logs and service-made rows are viewed, never edited by hand."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin.templatetags.admin_list import results
from django.contrib.admin.views.main import ChangeList
from django.db import models
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import empty

from helpdesk.adminkit import ChangeListRows, NoAddDeleteMixin, ReadOnlyAdmin, ReadOnlyInline
from plans.models import NamedContactChange
from sla.models import EscalationFiring, SlaClock
from tests.admin_checks import admin_url
from tests.factories import (
    AgentFactory,
    QueueFactory,
    SlaClockFactory,
    TicketFactory,
    TimeEntryFactory,
    UserFactory,
)
from tickets.models import CustomerEscalation, Ticket, TicketEvent, TimeEntry

pytestmark = pytest.mark.django_db

READ_ONLY = [NamedContactChange, TicketEvent, TimeEntry, SlaClock, EscalationFiring]


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_logs_and_service_rows_use_the_read_only_admin(model: type[models.Model]) -> None:
    model_admin = admin.site._registry[model]
    assert isinstance(model_admin, ReadOnlyAdmin)
    request = RequestFactory().get("/")
    request.user = UserFactory.create(is_staff=True, is_superuser=True)
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


@pytest.mark.parametrize("model", [Ticket, CustomerEscalation], ids=lambda m: m.__name__)
def test_tickets_and_escalations_are_worked_on_but_never_added_or_deleted_by_hand(
    model: type[models.Model],
) -> None:
    model_admin = admin.site._registry[model]
    assert isinstance(model_admin, NoAddDeleteMixin)
    request = RequestFactory().get("/")
    request.user = UserFactory.create(is_staff=True, is_superuser=True)
    assert model_admin.has_change_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_a_read_only_change_page_offers_no_save_or_delete(admin_client: Client) -> None:
    clock = SlaClockFactory.create()
    response = admin_client.get(admin_url(SlaClock, "change", clock.pk))
    assert response.status_code == 200
    assert 'name="_save"' not in response.text
    assert admin_client.get(admin_url(SlaClock, "add")).status_code == 403
    assert admin_client.post(admin_url(SlaClock, "delete", clock.pk)).status_code == 403
    assert SlaClock.objects.filter(pk=clock.pk).exists()


def test_a_read_only_inline_shows_rows_and_offers_no_blank_ones() -> None:
    class Inline(ReadOnlyInline):
        model = SlaClock

    inline = Inline(Ticket, admin.site)
    request = RequestFactory().get("/")
    request.user = UserFactory.create(is_staff=True, is_superuser=True)
    assert inline.extra == 0
    assert not inline.can_delete
    assert not inline.has_add_permission(request, None)
    assert not inline.has_change_permission(request, None)
    assert not inline.has_delete_permission(request, None)


# --------------------------------------------------------------------------------------------
# Changelist rows written once per page


def varied_tickets() -> None:
    """Tickets with and without an assignee, a queue and live clocks; markup in a subject."""
    now = timezone.now()
    agent, queue = AgentFactory.create(username="ann"), QueueFactory.create(slug="l2")
    TicketFactory.create(subject="<b>bold</b> & co", assignee=agent, queue=queue)
    TicketFactory.create(subject="   ")
    SlaClockFactory.create(
        ticket=TicketFactory.create(assignee=agent), state="breached", breached_at=now
    )
    SlaClockFactory.create(ticket=TicketFactory.create(queue=queue), state="paused", paused_at=now)
    SlaClockFactory.create(ticket=TicketFactory.create())


def django_rows(changelist: ChangeList) -> list[list[str]]:
    return [list(row) for row in results(changelist)]


@pytest.mark.parametrize(
    "query",
    ["", "?sla=breached", "?open=all&o=3.-2", "?q=bold"],
    ids=["queue", "filtered", "sorted", "searched"],
)
def test_the_rows_of_the_queue_are_the_ones_django_writes(admin_client: Client, query: str) -> None:
    varied_tickets()
    response = admin_client.get(reverse("admin:tickets_ticket_changelist") + query)
    changelist = response.context["cl"]
    assert changelist.result_list
    assert ChangeListRows(changelist).rows() == django_rows(changelist)


def test_the_rows_of_another_changelist_are_the_ones_django_writes(admin_client: Client) -> None:
    TimeEntryFactory.create(note="<i>call</i>", billable=False)
    TimeEntryFactory.create(note="")
    url = reverse("admin:tickets_timeentry_changelist")
    response = admin_client.get(url + "?billable__exact=0")
    changelist = response.context["cl"]
    rows = ChangeListRows(changelist).rows()
    assert rows is not None
    assert rows == django_rows(changelist)


def test_the_queue_page_shows_the_rows_it_writes(admin_client: Client) -> None:
    varied_tickets()
    response = admin_client.get(reverse("admin:tickets_ticket_changelist"))
    changelist = response.context["cl"]
    html = response.content.decode()
    for row in django_rows(changelist):
        assert "<tr>" + "".join(row) + "</tr>" in html


def test_a_popup_changelist_is_left_to_django(admin_client: Client) -> None:
    TicketFactory.create()
    response = admin_client.get(reverse("admin:tickets_ticket_changelist") + "?_popup=1")
    assert ChangeListRows(response.context["cl"]).rows() is None


# --------------------------------------------------------------------------------------------
# The site's list of apps, built where a page shows it


def test_the_queue_builds_no_list_of_apps(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:tickets_ticket_changelist"))
    assert response.context["available_apps"]._wrapped is empty


def test_a_page_with_the_side_navigation_lists_the_apps(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:tickets_timeentry_changelist"))
    html = response.content.decode()
    assert 'id="nav-sidebar"' in html
    assert f'href="{reverse("admin:tickets_ticket_changelist")}"' in html


def test_the_index_lists_the_apps(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:index"))
    assert f'href="{reverse("admin:tickets_ticket_changelist")}"' in response.content.decode()


def test_an_app_index_lists_its_models(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:app_list", args=["tickets"]))
    assert f'href="{reverse("admin:tickets_ticket_changelist")}"' in response.content.decode()


def test_an_app_index_a_user_may_not_see_is_not_found(client: Client) -> None:
    client.force_login(UserFactory.create(is_staff=True))
    assert client.get(reverse("admin:app_list", args=["tickets"])).status_code == 404
