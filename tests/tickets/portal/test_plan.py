"""/plan/ (entitlements, response times, severities, named contacts) and /account/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from plans.models import ContactInvitation, NamedContact, NamedContactChange, UserProfile
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
    category = CategoryFactory.create(
        plan=world.plan, name="API outage", guarantee="1-hour response"
    )
    business = CalendarFactory.create(
        policy=world.plan.policy, slug="uk", name="Weekdays 9am-6pm UK", always_open=False
    )
    TargetFactory.create(
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
    base = PlanFactory.create(policy=world.plan.policy, name="Growth")
    TargetFactory.create(plan=base, severity=world.severities[1], acknowledge=dt.timedelta(hours=7))
    premium = PlanFactory.create(policy=world.plan.policy, name="Premium", base_plan=base)
    org = OrganizationFactory.create(name="Newco")
    ContractFactory.create(organization=org, plan=premium, onboarding_completed=False)
    contact = NamedContactFactory.create(organization=org)
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
        NamedContactFactory.create(organization=world.acme)
        CategoryFactory.create(plan=world.plan, name=f"Kind {n}")
    client.get(PLAN)  # the new categories moved the policy revision: the cache is filled again
    with django_assert_num_queries(PLAN_QUERIES):
        client.get(PLAN)


# Session, user, the viewer's zone and contact (one query), contract (with plan and policy),
# contacts, response times (severities, targets, support hours), severity definitions,
# categories, the hours ledger's contract, the nav's support-manager check, the open
# invitations (admins only). The plan's conditions come from the policy cache
# (`plans.policy_cache`) once a request has read them.
PLAN_QUERIES = 13


# -- named contacts --------------------------------------------------------------------------


def test_only_an_organization_admin_sees_the_invitation_form(world: PortalWorld) -> None:
    assert "Invite a named contact" in signed_in(world.alice.user).get(PLAN).text
    assert "Invite a named contact" not in signed_in(world.bob.user).get(PLAN).text


def invite(admin: object, email: str, outbox: list, capture: object, role: str = "contact") -> str:
    """Invite `email` as `admin`; the link of the mail sent, as a path."""
    before = len(outbox)
    with capture(execute=True):  # type: ignore[operator]
        response = signed_in(admin).post(
            reverse("tickets:contact_add"),
            {"email": email, "first_name": "Dora", "last_name": "Lee", "role": role},
        )
    assert response.status_code == 302, response
    assert len(outbox) == before + 1
    line = next(x for x in outbox[-1].body.splitlines() if "/invitations/" in x)
    return "/" + line.strip().split("://", 1)[1].split("/", 1)[1]


def test_an_admin_invites_a_person_who_is_not_a_contact_until_accepting(
    world: PortalWorld, mailoutbox: list, django_capture_on_commit_callbacks: object
) -> None:
    link = invite(
        world.alice.user, "dora@acme.example", mailoutbox, django_capture_on_commit_callbacks
    )
    assert [m.to for m in mailoutbox] == [["dora@acme.example"]]
    assert "Acme" in mailoutbox[0].subject
    assert not get_user_model().objects.filter(email="dora@acme.example").exists()
    invitation = ContactInvitation.objects.get()
    assert (invitation.organization, invitation.accepted_at) == (world.acme, None)
    assert "dora@acme.example" in signed_in(world.alice.user).get(PLAN).text
    client = Client()
    page = client.get(link)
    assert "Become a support contact of Acme" in page.text
    done = client.post(link, {"password1": "a-Long-pass-123", "password2": "a-Long-pass-123"})
    assert done.status_code == 302
    dora = get_user_model().objects.get(email="dora@acme.example")
    assert dora.check_password("a-Long-pass-123")
    assert NamedContact.objects.get(user=dora).organization == world.acme
    assert NamedContactChange.objects.filter(contact_user=dora, changed_by=world.alice.user)
    assert client.get("/").status_code == 200  # signed in
    assert client.get(link).status_code == 404  # used once


def test_an_existing_account_joins_only_by_accepting_signed_in(
    world: PortalWorld, mailoutbox: list, django_capture_on_commit_callbacks: object
) -> None:
    erin = UserFactory.create(username="erin", email="erin@acme.example")
    link = invite(
        world.alice.user, "erin@acme.example", mailoutbox, django_capture_on_commit_callbacks
    )
    assert not NamedContact.objects.filter(user=erin).exists()
    anonymous = Client().post(
        link, {"password1": "a-Long-pass-123", "password2": "a-Long-pass-123"}
    )
    assert anonymous.status_code == 400
    assert "sign in with it" in anonymous.text
    assert signed_in(erin).post(link).status_code == 302
    assert NamedContact.objects.get(user=erin).organization == world.acme


@pytest.mark.parametrize("kind", ["staff", "superuser", "contact elsewhere", "unknown"])
def test_the_admin_learns_nothing_about_accounts_of_other_tenants_or_staff(
    world: PortalWorld, mailoutbox: list, django_capture_on_commit_callbacks: object, kind: str
) -> None:
    email = {"contact elsewhere": "charlie@example.com"}.get(kind, f"{kind}@vendor.example")
    if kind in ("staff", "superuser"):
        UserFactory.create(
            username=kind, email=email, is_staff=True, is_superuser=kind == "superuser"
        )
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in(world.alice.user).post(
            reverse("tickets:contact_add"), {"email": email, "role": "admin"}, follow=True
        )
    shown = [str(m) for m in response.context["messages"]]
    assert shown == [
        f"Invitation sent to {email}. They become a named contact when they accept it."
    ]
    assert "Globex" not in response.text and "charlie" not in response.text.replace(email, "")
    assert not NamedContact.objects.filter(user__email=email, organization=world.acme).exists()


def test_staff_can_never_accept_an_invitation(
    world: PortalWorld, mailoutbox: list, django_capture_on_commit_callbacks: object
) -> None:
    staff = UserFactory.create(
        username="root", email="root@vendor.example", is_staff=True, is_superuser=True
    )
    link = invite(
        world.alice.user, "root@vendor.example", mailoutbox, django_capture_on_commit_callbacks
    )
    response = signed_in(staff).post(link)
    assert response.status_code == 400
    assert "Staff accounts cannot be customer contacts." in response.text
    assert not NamedContact.objects.filter(user=staff).exists()


def test_a_contact_of_another_organization_cannot_be_enlisted(
    world: PortalWorld, mailoutbox: list, django_capture_on_commit_callbacks: object
) -> None:
    link = invite(
        world.alice.user, "charlie@example.com", mailoutbox, django_capture_on_commit_callbacks
    )
    response = signed_in(world.charlie.user).post(link)
    assert response.status_code == 400
    assert NamedContact.objects.get(user=world.charlie.user).organization == world.globex


def test_an_expired_invitation_is_refused_and_can_be_sent_again(
    world: PortalWorld, mailoutbox: list, django_capture_on_commit_callbacks: object
) -> None:
    link = invite(
        world.alice.user, "dora@acme.example", mailoutbox, django_capture_on_commit_callbacks
    )
    invitation = ContactInvitation.objects.get()
    invitation.expires_at = timezone.now() - dt.timedelta(minutes=1)
    invitation.save()
    expired = Client().post(link, {"password1": "a-Long-pass-123", "password2": "a-Long-pass-123"})
    assert expired.status_code == 400
    assert "has expired" in expired.text
    assert "expired" in signed_in(world.alice.user).get(PLAN).text
    with django_capture_on_commit_callbacks(execute=True):
        resent = signed_in(world.alice.user).post(
            reverse("tickets:invitation_resend", args=[invitation.pk])
        )
    assert resent.status_code == 302
    assert Client().get(link).status_code == 404  # the old link stopped
    new_link = (
        "/"
        + next(x for x in mailoutbox[-1].body.splitlines() if "/invitations/" in x)
        .strip()
        .split("://", 1)[1]
        .split("/", 1)[1]
    )
    Client().post(new_link, {"password1": "a-Long-pass-123", "password2": "a-Long-pass-123"})
    assert NamedContact.objects.filter(user__email="dora@acme.example").exists()


def test_an_outsider_admin_cannot_resend_our_invitations(
    world: PortalWorld, mailoutbox: list, django_capture_on_commit_callbacks: object
) -> None:
    invite(world.alice.user, "dora@acme.example", mailoutbox, django_capture_on_commit_callbacks)
    world.charlie.role = "admin"
    world.charlie.save()
    invitation = ContactInvitation.objects.get()
    url = reverse("tickets:invitation_resend", args=[invitation.pk])
    assert signed_in(world.charlie.user).post(url).status_code == 404


def test_inviting_beyond_the_plans_limit_is_refused_on_the_email_field(db: None) -> None:
    small = build_portal_world(named_contacts=2)
    response = signed_in(small.alice.user).post(
        reverse("tickets:contact_add"), {"email": "third@acme.example", "role": "contact"}
    )
    assert response.status_code == 400
    assert "allows 2 named contact(s)" in " ".join(response.context["add_form"].errors["email"])
    assert not ContactInvitation.objects.exists()


def test_inviting_a_colleague_already_in_the_organization_is_refused(world: PortalWorld) -> None:
    response = signed_in(world.alice.user).post(
        reverse("tickets:contact_add"), {"email": world.bob.user.email, "role": "contact"}
    )
    assert response.status_code == 400
    assert "already a named contact of Acme" in " ".join(
        response.context["add_form"].errors["email"]
    )


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
