"""The plans admin: every page opens, lists run no query per row, contacts go through services."""

import datetime as dt
import uuid
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.db import connection, models
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from plans.models import (
    ContactInvitation,
    ContactRole,
    Contract,
    NamedContact,
    NamedContactChange,
    Organization,
    Plan,
    Policy,
    PolicyChange,
    PooledMonths,
    Severity,
    TicketCategory,
    UserProfile,
)
from sla.models import (
    BusinessCalendar,
    Closure,
    EscalationFiring,
    EscalationRule,
    Metric,
    OpenPeriod,
    SlaClock,
    SupportHours,
    Target,
)
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def build_dataset(suffix: str = "a") -> SimpleNamespace:
    """A small but complete policy, a customer on it, and a named contact with its log row."""
    from django.contrib.auth import get_user_model

    policy = Policy.objects.create(
        slug=f"acme-{suffix}",
        name=f"Acme {suffix}",
        source="examples/policies/acme.yaml",
        not_covered=["Custom code", "Third-party plugins"],
    )
    critical = Severity.objects.create(
        policy=policy, level=1, name="Critical", definition="Down for everyone", examples=["Outage"]
    )
    major = Severity.objects.create(policy=policy, level=2, name="Major", definition="Degraded")
    uk = BusinessCalendar.objects.create(
        policy=policy, slug="uk", name="UK office hours", timezone="Europe/London"
    )
    OpenPeriod.objects.bulk_create(
        OpenPeriod(calendar=uk, weekday=day, start_minute=9 * 60, end_minute=18 * 60)
        for day in range(5)
    )
    Closure.objects.create(
        calendar=uk, date=dt.date(2026, 12, 24), name="Christmas Eve", source=Closure.Source.POLICY
    )
    us = BusinessCalendar.objects.create(
        policy=policy, slug="us", name="US weekend desk", timezone="America/New_York"
    )
    OpenPeriod.objects.create(calendar=us, weekday=5, start_minute=10 * 60, end_minute=24 * 60)
    Closure.objects.create(calendar=us, date=dt.date(2026, 7, 4), name="Independence Day")
    basic = Plan.objects.create(
        policy=policy,
        slug=f"acme-basic-{suffix}",
        name="Basic",
        position=1,
        channels=["portal", "email"],
        named_contacts=1,
    )
    pro = Plan.objects.create(
        policy=policy,
        slug=f"acme-pro-{suffix}",
        name="Pro",
        position=2,
        channels=["portal", "email", "phone"],
        priority_routing=True,
        technical_account_manager="optional",
        named_contacts=3,
        post_incident_report_levels=[1],
        customer_escalation_levels=[1, 2],
        monthly_support_hours=Decimal("20.00"),
        poolable_months=2,
        overage_billed=True,
        base_plan=basic,
    )
    outage = TicketCategory.objects.create(
        plan=pro,
        slug="outage",
        name="API outage",
        channels=["phone", "portal"],
        guarantee="On-call team notified 24/7",
        severity_levels=[1],
    )
    SupportHours.objects.create(plan=basic, calendar=uk)
    SupportHours.objects.create(plan=pro, calendar=uk)
    Target.objects.create(
        plan=basic, severity=major, calendar=uk, first_response=dt.timedelta(hours=9)
    )
    Target.objects.create(
        plan=pro,
        severity=critical,
        calendar=us,
        acknowledge=dt.timedelta(hours=1, minutes=30),
        first_response=dt.timedelta(hours=3),
    )
    Target.objects.create(plan=pro, severity=major, calendar=uk, resolution=dt.timedelta(days=2))
    Target.objects.create(
        plan=pro,
        severity=critical,
        category=outage,
        calendar=uk,
        acknowledge=dt.timedelta(minutes=30),
    )
    EscalationRule.objects.create(
        plan=pro,
        severity=critical,
        metric=Metric.RESOLUTION,
        after=dt.timedelta(hours=2),
        notify=["queue"],
    )
    EscalationRule.objects.create(
        plan=pro,
        severity=critical,
        metric=Metric.FIRST_RESPONSE,
        after_percent=75,
        notify=["support_managers", "group:directors"],
        move_to="l2",
        position=1,
    )
    organization = Organization.objects.create(
        name=f"Globex {suffix}", slug=f"globex-{suffix}", time_zone="Europe/London"
    )
    contract = Contract.objects.create(
        organization=organization, plan=pro, starts_on=dt.date(2020, 1, 1)
    )
    contact_user = get_user_model().objects.create_user(
        username=f"hank-{suffix}", email=f"hank-{suffix}@globex.example"
    )
    contact = NamedContact.objects.create(
        organization=organization, user=contact_user, role=ContactRole.ADMIN
    )
    change = NamedContactChange.objects.create(
        organization=organization,
        contact_user=contact_user,
        action=NamedContactChange.Action.ADDED,
        role=ContactRole.ADMIN,
        reason="Seeded",
    )
    profile = UserProfile.objects.create(user=contact_user, time_zone="Europe/London")
    pool = PooledMonths.objects.create(contract=contract, first_month=dt.date(2026, 1, 1))
    # A ticket with a clock and a firing, so the SLA clock and firing pages have a row.
    now = timezone.now()
    ticket = Ticket.objects.create(
        reference=f"HD-T{suffix}",
        organization=organization,
        requester=contact_user,
        plan=pro,
        severity=critical,
        subject="Outage",
        created_at=now,
        updated_at=now,
    )
    clock = SlaClock.objects.create(
        ticket=ticket,
        metric=Metric.FIRST_RESPONSE,
        plan=pro,
        severity=critical,
        calendar=us,
        target=dt.timedelta(hours=3),
        started_at=now,
        due_at=now + dt.timedelta(hours=3),
    )
    firing = EscalationFiring.objects.create(
        clock=clock,
        rule_text="first response 75%",
        due_at=now,
        fired_at=now,
        sweep=uuid.uuid4(),
    )
    policy_change = PolicyChange.objects.create(
        policy=policy, policy_slug=policy.slug, at=now, by="ops", summary="+ plan pro"
    )
    invitation = ContactInvitation.objects.create(
        organization=organization,
        email=f"ivy-{suffix}@globex.example",
        token_hash=uuid.uuid4().hex,
        sent_at=now,
        expires_at=now + dt.timedelta(days=7),
    )
    return SimpleNamespace(**locals())


@pytest.fixture
def data() -> SimpleNamespace:
    return build_dataset()


@pytest.fixture
def superuser(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("boss", "boss@example.com", "pw")


@pytest.fixture
def staff(client: Client, superuser: Any) -> Client:
    client.force_login(superuser)
    return client


def registered(app_label: str) -> list[type[models.Model]]:
    return [model for model in admin.site._registry if model._meta.app_label == app_label]


def model_name(model: type[models.Model]) -> str:
    return model.__name__


def admin_url(model: type[models.Model], page: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


def check_pages_open(client: Client, user: Any, model: type[models.Model], page: str) -> None:
    """Shared with tests/sla: the changelist, add and change page of `model` open."""
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = user
    expected = 200
    if page == "add":
        url = admin_url(model, "add")
        expected = 200 if model_admin.has_add_permission(request) else 403
    elif page == "change":
        obj = model._default_manager.first()
        assert obj is not None, f"the data set has no {model.__name__}"
        url = admin_url(model, "change", obj.pk)
    else:
        url = admin_url(model, "changelist")
    response = client.get(url)
    assert response.status_code == expected, url


def check_changelist_queries_do_not_grow(client: Client, model: type[models.Model]) -> None:
    """Shared with tests/sla: twice the rows, the same number of queries."""
    url = admin_url(model, "changelist")
    client.get(url)  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as before:
        assert client.get(url).status_code == 200
    build_dataset("b")
    with CaptureQueriesContext(connection) as after:
        assert client.get(url).status_code == 200
    assert len(after) == len(before), [q["sql"] for q in after.captured_queries]


def form_data(response: Any) -> dict[str, Any]:
    """The POST a browser sends when saving an admin change page without touching anything."""
    data: dict[str, Any] = {}

    def add(form: forms.BaseForm) -> None:
        for name, field in form.fields.items():
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(field, forms.BooleanField):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(item) for item in value]
            elif value is not None:
                data[key] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        initial = formset.initial_form_count()
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        data[management.add_prefix("TOTAL_FORMS")] = initial
        for form in formset.forms[:initial]:
            add(form)
    return data


# --------------------------------------------------------------------------------------------


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
    assert "has no active contract" in response.content.decode()
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
    other = build_dataset("b")
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
