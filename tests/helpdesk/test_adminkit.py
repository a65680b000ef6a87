"""The read-only admin base: logs and service-made rows are viewed, never edited by hand."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import models
from django.test import Client, RequestFactory

from helpdesk.adminkit import NoAddDeleteMixin, ReadOnlyAdmin, ReadOnlyInline
from plans.models import NamedContactChange
from sla.models import EscalationFiring, SlaClock
from tests.admin_checks import admin_url
from tests.factories import SlaClockFactory, UserFactory
from tickets.models import CustomerEscalation, Ticket, TicketEvent, TimeEntry

pytestmark = pytest.mark.django_db

READ_ONLY = [NamedContactChange, TicketEvent, TimeEntry, SlaClock, EscalationFiring]


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda m: m.__name__)
def test_logs_and_service_rows_use_the_read_only_admin(model: type[models.Model]) -> None:
    model_admin = admin.site._registry[model]
    assert isinstance(model_admin, ReadOnlyAdmin)
    request = RequestFactory().get("/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
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
    request.user = UserFactory(is_staff=True, is_superuser=True)
    assert model_admin.has_change_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_a_read_only_change_page_offers_no_save_or_delete(admin_client: Client) -> None:
    clock = SlaClockFactory()
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
    request.user = UserFactory(is_staff=True, is_superuser=True)
    assert inline.extra == 0
    assert not inline.can_delete
    assert not inline.has_add_permission(request, None)
    assert not inline.has_change_permission(request, None)
    assert not inline.has_delete_permission(request, None)
