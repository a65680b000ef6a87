"""The plans admin: every page opens, lists run no query per row, contacts go through services."""

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.db import models
from django.test import Client

from plans.models import (
    ContactRole,
    Contract,
    NamedContact,
    NamedContactChange,
    Organization,
    Plan,
    Policy,
    Severity,
    TicketCategory,
)
from tests.admin_checks import (
    admin_url,
    check_changelist_queries_do_not_grow,
    check_pages_open,
    form_data,
    model_name,
    registered,
)
from tests.builders.admin_dataset import build_admin_dataset
from tickets.queue_order import queue_rank

pytestmark = pytest.mark.django_db


@pytest.fixture
def data() -> SimpleNamespace:
    return build_admin_dataset()


PAGES = ["changelist", "add", "change"]


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("model", registered("plans"), ids=model_name)
def test_every_plans_admin_page_opens_for_a_superuser(
    staff: Client, superuser: Any, data: SimpleNamespace, model: type[models.Model], page: str
) -> None:
    check_pages_open(staff, superuser, model, page)


@pytest.mark.parametrize("model", registered("plans"), ids=model_name)
def test_plans_changelists_run_no_query_per_row(
    staff: Client, data: SimpleNamespace, model: type[models.Model]
) -> None:
    check_changelist_queries_do_not_grow(staff, model)


def test_policy_page_lists_its_plans_with_links_and_what_is_not_covered_one_per_line(
    staff: Client, data: SimpleNamespace
) -> None:
    response = staff.get(admin_url(Policy, "change", data.policy.pk))
    page = response.content.decode()
    assert admin_url(Plan, "change", data.pro.pk) in page
    assert admin_url(Plan, "change", data.basic.pk) in page
    assert "Custom code\nThird-party plugins</textarea>" in page
    assert "Critical" in page  # the severities inline


def test_saving_the_policy_page_keeps_not_covered_as_a_list(
    staff: Client, data: SimpleNamespace
) -> None:
    url = admin_url(Policy, "change", data.policy.pk)
    post = form_data(staff.get(url))
    post["not_covered"] = "Custom code\r\n\r\nHosting  \r\n"
    response = staff.post(url, post)
    assert response.status_code == 302, response.context["adminform"].form.errors
    data.policy.refresh_from_db()
    assert data.policy.not_covered == ["Custom code", "Hosting"]


def test_plan_page_groups_the_entitlements_in_fieldsets(
    staff: Client, data: SimpleNamespace
) -> None:
    response = staff.get(admin_url(Plan, "change", data.pro.pk))
    names = [fieldset.name for fieldset in response.context["adminform"]]
    assert names == [
        None,
        "Channels",
        "People",
        "Escalation & reports",
        "Hour packages",
        "Onboarding",
        "Customers",
        "Response targets & escalations",
    ]
    page = response.content.decode()
    assert 'value="1, 2"' in page  # customer escalation levels as text
    assert "API outage" in page  # the categories inline


def test_saving_the_plan_page_unchanged_keeps_every_entitlement(
    staff: Client, data: SimpleNamespace
) -> None:
    url = admin_url(Plan, "change", data.pro.pk)
    before = Plan.objects.filter(pk=data.pro.pk).values().get()
    response = staff.post(url, form_data(staff.get(url)))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Plan.objects.filter(pk=data.pro.pk).values().get() == before
    assert list(TicketCategory.objects.values_list("channels", "severity_levels")) == [
        (["phone", "portal"], [1])
    ]


def test_plan_page_writes_channels_and_levels_as_lists(
    staff: Client, data: SimpleNamespace
) -> None:
    url = admin_url(Plan, "change", data.pro.pk)
    post = form_data(staff.get(url))
    post.update(channels=["phone", "portal"], customer_escalation_levels="2, 1, 2")
    response = staff.post(url, post)
    assert response.status_code == 302, response.context["adminform"].form.errors
    data.pro.refresh_from_db()
    assert data.pro.channels == ["portal", "phone"]
    assert data.pro.customer_escalation_levels == [1, 2]


def test_plan_page_refuses_levels_the_policy_does_not_define(
    staff: Client, data: SimpleNamespace
) -> None:
    url = admin_url(Plan, "change", data.pro.pk)
    post = form_data(staff.get(url))
    post["post_incident_report_levels"] = "1, 5"
    response = staff.post(url, post)
    assert response.status_code == 200
    assert "has no severity 5" in " ".join(
        response.context["adminform"].form.errors["post_incident_report_levels"]
    )


def test_contract_list_says_which_plan_applies_until_onboarding(
    staff: Client, data: SimpleNamespace
) -> None:
    page = staff.get(admin_url(Contract, "changelist")).content.decode()
    assert "Basic (until onboarding)" in page


def test_organization_page_shows_contacts_read_only_with_the_allowance(
    staff: Client, data: SimpleNamespace
) -> None:
    response = staff.get(admin_url(Organization, "change", data.organization.pk))
    page = response.content.decode()
    assert "1 of 3 named contact(s) allowed by the Pro plan." in page
    assert admin_url(NamedContact, "change", data.contact.pk) in page
    assert "Seeded" in page  # the change log inline
    contact_inline = next(
        inline
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is NamedContact
    )
    assert not contact_inline.has_add_permission
    assert not contact_inline.has_change_permission
    assert not contact_inline.has_delete_permission


def test_a_named_contact_over_the_plan_limit_is_a_form_error_and_nothing_is_saved(
    staff: Client, data: SimpleNamespace, django_user_model: Any
) -> None:
    Plan.objects.filter(pk=data.pro.pk).update(named_contacts=1)
    newcomer = django_user_model.objects.create_user("newcomer")
    changes = NamedContactChange.objects.count()

    response = staff.post(
        admin_url(NamedContact, "add"),
        {"organization": data.organization.pk, "user": newcomer.pk, "role": "contact"},
    )

    assert response.status_code == 200
    message = "The Pro plan allows 1 named contact(s); remove one first."
    assert message in response.content.decode()
    assert response.context["adminform"].form.errors["user"] == [message]
    assert not NamedContact.objects.filter(user=newcomer).exists()
    assert NamedContactChange.objects.count() == changes
    assert not LogEntry.objects.exists()


def test_a_named_contact_without_a_contract_in_force_is_a_form_error(
    staff: Client, data: SimpleNamespace, django_user_model: Any
) -> None:
    Contract.objects.update(ends_on=dt.date(2020, 12, 31))
    newcomer = django_user_model.objects.create_user("newcomer")
    response = staff.post(
        admin_url(NamedContact, "add"),
        {"organization": data.organization.pk, "user": newcomer.pk, "role": "contact"},
    )
    assert response.status_code == 200
    assert "has no contract in force or about to start" in response.content.decode()
    assert not NamedContact.objects.filter(user=newcomer).exists()


def test_adding_a_named_contact_logs_who_added_them_and_why(
    staff: Client, superuser: Any, data: SimpleNamespace, django_user_model: Any
) -> None:
    newcomer = django_user_model.objects.create_user("newcomer")
    response = staff.post(
        admin_url(NamedContact, "add"),
        {
            "organization": data.organization.pk,
            "user": newcomer.pk,
            "role": "contact",
            "reason": "Joined the platform team",
        },
    )
    assert response.status_code == 302
    contact = NamedContact.objects.get(user=newcomer)
    assert contact.organization == data.organization
    change = NamedContactChange.objects.get(contact_user=newcomer)
    assert (change.action, change.role, change.changed_by, change.reason) == (
        NamedContactChange.Action.ADDED,
        ContactRole.CONTACT,
        superuser,
        "Joined the platform team",
    )
    assert LogEntry.objects.get().object_id == str(contact.pk)


def test_add_named_contact_link_fills_in_the_organization(
    staff: Client, data: SimpleNamespace
) -> None:
    response = staff.get(admin_url(NamedContact, "add") + f"?organization={data.organization.pk}")
    assert response.context["adminform"].form.initial["organization"] == str(data.organization.pk)
    assert "Globex a" in response.content.decode()


def test_changing_a_contact_role_goes_through_the_service_and_is_logged(
    staff: Client, superuser: Any, data: SimpleNamespace
) -> None:
    url = admin_url(NamedContact, "change", data.contact.pk)
    response = staff.post(url, {"role": "contact"})
    assert response.status_code == 302
    data.contact.refresh_from_db()
    assert data.contact.role == ContactRole.CONTACT
    change = NamedContactChange.objects.filter(action="role_changed").get()
    assert (change.role, change.changed_by) == (ContactRole.CONTACT, superuser)


def test_deleting_a_named_contact_is_logged_as_a_removal(
    staff: Client, data: SimpleNamespace
) -> None:
    response = staff.post(admin_url(NamedContact, "delete", data.contact.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not NamedContact.objects.exists()
    assert NamedContactChange.objects.filter(action="removed", contact_user=data.contact_user)


def test_deleting_named_contacts_in_bulk_logs_each_removal(
    staff: Client, data: SimpleNamespace
) -> None:
    other = build_admin_dataset("b")
    response = staff.post(
        admin_url(NamedContact, "changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [data.contact.pk, other.contact.pk],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not NamedContact.objects.exists()
    assert NamedContactChange.objects.filter(action="removed").count() == 2


def test_the_named_contact_change_log_is_view_only(staff: Client, data: SimpleNamespace) -> None:
    url = admin_url(NamedContactChange, "change", data.change.pk)
    response = staff.get(url)
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert staff.post(url, {"reason": "rewritten"}).status_code == 403
    assert staff.post(admin_url(NamedContactChange, "delete", data.change.pk)).status_code == 403
    data.change.refresh_from_db()
    assert data.change.reason == "Seeded"


def test_raising_a_plans_priority_on_its_page_reranks_its_tickets_in_the_queue(
    staff: Client, data: SimpleNamespace
) -> None:
    url = admin_url(Plan, "change", data.pro.pk)
    post = form_data(staff.get(url))
    post["priority"] = "3"
    response = staff.post(url, post)
    assert response.status_code == 302, response.context["adminform"].form.errors
    data.ticket.refresh_from_db()
    assert data.ticket.queue_rank == queue_rank(3, data.critical.level)


def test_changing_a_severitys_level_reranks_its_tickets_in_the_queue(
    staff: Client, data: SimpleNamespace
) -> None:
    url = admin_url(Severity, "change", data.critical.pk)
    post = form_data(staff.get(url))
    post["level"] = "9"
    response = staff.post(url, post)
    assert response.status_code == 302, response.context["adminform"].form.errors
    data.ticket.refresh_from_db()
    assert data.ticket.queue_rank == queue_rank(data.pro.priority, 9)


def test_changing_a_level_on_the_policy_page_reranks_its_tickets_in_the_queue(
    staff: Client, data: SimpleNamespace
) -> None:
    url = admin_url(Policy, "change", data.policy.pk)
    post = form_data(staff.get(url))
    key = next(k for k, v in post.items() if k.endswith("-id") and v == str(data.critical.pk))
    post[key.removesuffix("-id") + "-level"] = "8"
    response = staff.post(url, post)
    assert response.status_code == 302, response.context["adminform"].form.errors
    data.ticket.refresh_from_db()
    assert data.ticket.queue_rank == queue_rank(data.pro.priority, 8)
