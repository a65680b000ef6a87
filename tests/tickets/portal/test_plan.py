"""/plan/ (entitlements, response times, severities, named contacts) and /account/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from plans.models import NamedContact, NamedContactChange, UserProfile
from tests.builders.portal import PortalWorld, build_portal_world
from tests.factories import (
    CalendarFactory,
    CategoryFactory,
    ContractFactory,
    NamedContactFactory,
    OrganizationFactory,
    PlanFactory,
    TargetFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PLAN = "/plan/"


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


# -- what the page shows ---------------------------------------------------------------------


def test_the_plan_page_shows_the_entitlements(world: PortalWorld) -> None:
    page = signed_in(world.bob.user).get(PLAN)
    assert page.status_code == 200
    text = page.text
    assert "Pro" in text
    assert "Up to 5" in text  # named contacts
    assert "Severity 1" in text  # post-incident reports
    assert "Severity 2, 3, 4" in text  # escalation on request
    assert "Technical account manager" in text


def test_the_response_times_table_shows_targets_with_the_calendar_name(world: PortalWorld) -> None:
    calendar = world.plan.support_hours.calendar
    calendar.name = "24x7"
    calendar.save()
    page = signed_in(world.alice.user).get(PLAN)
    assert "1 h" in page.text  # severity 1 acknowledge
    assert "8 h" in page.text  # severity 2 first response
    assert "24x7" in page.text


def test_a_severity_without_targets_says_no_guarantee(world: PortalWorld) -> None:
    page = signed_in(world.alice.user).get(PLAN)
    table = page.text.split('class="table table-sm small mb-0 response-times"')[1]
    # Severity 1 promises no resolution time, 2 neither acknowledge nor resolution; 3 and 4
    # have no target row at all.
    assert table.split("</table>")[0].count("no guarantee") == 1 + 2 + 3 + 3


def test_category_targets_are_listed_with_their_category(world: PortalWorld) -> None:
    category = CategoryFactory(plan=world.plan, name="API outage", guarantee="1-hour response")
    business = CalendarFactory(
        policy=world.plan.policy, slug="uk", name="Weekdays 9am-6pm UK", always_open=False
    )
    TargetFactory(
        plan=world.plan,
        severity=world.severities[1],
        category=category,
        calendar=business,
        acknowledge=dt.timedelta(minutes=30),
    )
    page = signed_in(world.alice.user).get(PLAN)
    assert "30 min" in page.text
    assert "Weekdays 9am-6pm UK" in page.text
    assert "1-hour response" in page.text


def test_the_severity_definitions_and_examples_are_shown(world: PortalWorld) -> None:
    page = signed_in(world.alice.user).get(PLAN)
    assert "Definition of level 3." in page.text
    assert "Example for level 4" in page.text


def test_pending_onboarding_shows_the_plan_that_applies_and_its_times(world: PortalWorld) -> None:
    base = PlanFactory(policy=world.plan.policy, name="Growth")
    TargetFactory(plan=base, severity=world.severities[1], acknowledge=dt.timedelta(hours=7))
    premium = PlanFactory(policy=world.plan.policy, name="Premium", base_plan=base)
    org = OrganizationFactory(name="Newco")
    ContractFactory(organization=org, plan=premium, onboarding_completed=False)
    contact = NamedContactFactory(organization=org)
    page = signed_in(contact.user).get(PLAN)
    assert "Technical onboarding is not completed yet" in page.text
    assert "Until onboarding is completed: Growth" in page.text
    assert "7 h" in page.text


def test_the_named_contacts_are_listed(world: PortalWorld) -> None:
    page = signed_in(world.bob.user).get(PLAN)
    assert "alice@example.com" in page.text
    assert "bob@example.com" in page.text
    assert "charlie@example.com" not in page.text


def test_the_plan_page_runs_a_fixed_number_of_queries(
    world: PortalWorld, django_assert_num_queries: object
) -> None:
    client = signed_in(world.alice.user)
    client.get(PLAN)
    with django_assert_num_queries(PLAN_QUERIES):
        client.get(PLAN)
    for n in range(3):
        NamedContactFactory(organization=world.acme)
        CategoryFactory(plan=world.plan, name=f"Kind {n}")
    with django_assert_num_queries(PLAN_QUERIES):
        client.get(PLAN)


# Session, user, zone (profile, organization), contact, contract, contacts, response times
# (severities, targets, support hours), policy, severity definitions, categories, the
# contract's conditions, the hours ledger's contract, the nav's support-manager check.
PLAN_QUERIES = 16


# -- named contacts --------------------------------------------------------------------------


def test_only_an_organization_admin_sees_the_add_form(world: PortalWorld) -> None:
    assert "Add a named contact" in signed_in(world.alice.user).get(PLAN).text
    assert "Add a named contact" not in signed_in(world.bob.user).get(PLAN).text


def test_an_admin_adds_a_new_person_who_is_invited_by_email(
    world: PortalWorld, mailoutbox: list, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(world.alice.user).post(
            reverse("tickets:contact_add"),
            {
                "email": "dora@acme.example",
                "first_name": "Dora",
                "last_name": "Lee",
                "role": "contact",
            },
        )
    assert response.status_code == 302
    dora = get_user_model().objects.get(email="dora@acme.example")
    assert not dora.has_usable_password()
    assert NamedContact.objects.get(user=dora).organization == world.acme
    assert NamedContactChange.objects.filter(contact_user=dora, changed_by=world.alice.user)
    assert [m.to for m in mailoutbox] == [["dora@acme.example"]]
    assert "Acme" in mailoutbox[0].subject
    assert "/accounts/reset/" in mailoutbox[0].body


def test_the_invitation_link_lets_the_new_contact_set_a_password(
    world: PortalWorld, mailoutbox: list, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(world.alice.user).post(
            reverse("tickets:contact_add"), {"email": "dora@acme.example", "role": "contact"}
        )
    link = next(line for line in mailoutbox[0].body.splitlines() if "/accounts/reset/" in line)
    client = Client()
    form_page = client.get(link.split("://", 1)[1].split("/", 1)[1].join(["/", ""]), follow=True)
    assert "Choose a new password" in form_page.text
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-Long-pass-123", "new_password2": "a-Long-pass-123"},
    )
    assert done.status_code == 302
    assert get_user_model().objects.get(email="dora@acme.example").has_usable_password()


def test_adding_beyond_the_plans_limit_is_refused_on_the_email_field(db: None) -> None:

    small = build_portal_world(named_contacts=2)
    response = signed_in(small.alice.user).post(
        reverse("tickets:contact_add"), {"email": "third@acme.example", "role": "contact"}
    )
    assert response.status_code == 400
    assert "allows 2 named contact(s)" in " ".join(response.context["add_form"].errors["email"])
    assert not NamedContact.objects.filter(user__email="third@acme.example").exists()


def test_adding_someone_who_is_already_a_contact_is_refused(world: PortalWorld) -> None:
    response = signed_in(world.alice.user).post(
        reverse("tickets:contact_add"), {"email": "charlie@example.com", "role": "contact"}
    )
    assert response.status_code == 400
    assert "already a named contact" in " ".join(response.context["add_form"].errors["email"])


def test_an_existing_user_with_a_password_is_added_without_an_invitation(
    world: PortalWorld, mailoutbox: list, django_capture_on_commit_callbacks: object
) -> None:
    UserFactory(username="erin", email="erin@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        signed_in(world.alice.user).post(
            reverse("tickets:contact_add"), {"email": "erin@acme.example", "role": "admin"}
        )
    assert NamedContact.objects.get(user__username="erin").role == "admin"
    assert mailoutbox == []


def test_a_colleague_who_is_not_admin_cannot_add_contacts(world: PortalWorld) -> None:
    response = signed_in(world.bob.user).post(
        reverse("tickets:contact_add"), {"email": "x@acme.example", "role": "contact"}
    )
    assert response.status_code == 404
    assert not get_user_model().objects.filter(email="x@acme.example").exists()


def test_an_admin_removes_a_colleague(world: PortalWorld) -> None:
    response = signed_in(world.alice.user).post(
        reverse("tickets:contact_remove", args=[world.bob.pk])
    )
    assert response.status_code == 302
    assert not NamedContact.objects.filter(pk=world.bob.pk).exists()
    assert NamedContactChange.objects.filter(contact_user=world.bob.user, action="removed")


def test_an_admin_cannot_remove_themselves(world: PortalWorld) -> None:
    signed_in(world.alice.user).post(reverse("tickets:contact_remove", args=[world.alice.pk]))
    assert NamedContact.objects.filter(pk=world.alice.pk).exists()


def test_an_admin_gets_404_removing_a_contact_of_another_organization(world: PortalWorld) -> None:
    response = signed_in(world.alice.user).post(
        reverse("tickets:contact_remove", args=[world.charlie.pk])
    )
    assert response.status_code == 404
    assert NamedContact.objects.filter(pk=world.charlie.pk).exists()


def test_a_colleague_who_is_not_admin_cannot_remove_contacts(world: PortalWorld) -> None:
    response = signed_in(world.bob.user).post(
        reverse("tickets:contact_remove", args=[world.alice.pk])
    )
    assert response.status_code == 404


def test_an_outsider_admin_cannot_remove_our_contacts(world: PortalWorld) -> None:
    world.charlie.role = "admin"
    world.charlie.save()
    response = signed_in(world.charlie.user).post(
        reverse("tickets:contact_remove", args=[world.bob.pk])
    )
    assert response.status_code == 404


# -- account ---------------------------------------------------------------------------------


def test_a_person_chooses_their_time_zone(world: PortalWorld) -> None:
    response = signed_in(world.bob.user).post("/account/", {"time_zone": "Asia/Kolkata"})
    assert response.status_code == 302
    assert UserProfile.objects.get(user=world.bob.user).time_zone == "Asia/Kolkata"


def test_the_account_page_names_the_current_zone(world: PortalWorld) -> None:
    page = signed_in(world.bob.user).get("/account/")
    assert 'value="Europe/London" selected' in page.text


def test_an_unknown_time_zone_is_refused_on_the_field(world: PortalWorld) -> None:
    response = signed_in(world.bob.user).post("/account/", {"time_zone": "Mars/Olympus"})
    assert response.status_code == 400
    assert response.context["form"].errors["time_zone"]
    assert not UserProfile.objects.filter(user=world.bob.user).exists()
