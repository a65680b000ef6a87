"""Writes for plans: named contacts within the plan's limit, each change logged; invitations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from plans.models import ContactRole, NamedContact, NamedContactChange, Organization, UserProfile
from plans.services import (
    named_contact_add,
    named_contact_remove,
    named_contact_set_role,
    user_time_zone_set,
)
from tests.factories import (
    ContractFactory,
    NamedContactFactory,
    OrganizationFactory,
    PlanFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme() -> Organization:
    organization = OrganizationFactory.create(slug="acme", name="Acme")
    ContractFactory.create(
        organization=organization, plan=PlanFactory.create(slug="duo", named_contacts=2)
    )
    return organization


def log(organization: Organization) -> list[tuple[str, str, str]]:
    return [
        (change.action, change.contact_user.username, change.role)
        for change in NamedContactChange.objects.filter(organization=organization).order_by("pk")
    ]


def test_adding_a_contact_logs_who_added_them_and_why(acme: Organization) -> None:
    admin = UserFactory.create(username="ada")
    contact = named_contact_add(
        organization=acme,
        user=UserFactory.create(username="bo"),
        changed_by=admin,
        reason="New hire",
    )
    assert contact.role == ContactRole.CONTACT
    change = NamedContactChange.objects.get(organization=acme)
    assert (change.action, change.changed_by, change.reason) == ("added", admin, "New hire")


def test_the_plans_limit_of_named_contacts_is_kept(acme: Organization) -> None:
    for name in ("one", "two"):
        named_contact_add(
            organization=acme, user=UserFactory.create(username=name), changed_by=None
        )
    with pytest.raises(ValidationError) as caught:
        named_contact_add(
            organization=acme, user=UserFactory.create(username="three"), changed_by=None
        )
    assert caught.value.message_dict == {
        "user": ["The Duo plan allows 2 named contact(s); remove one first."]
    }
    assert acme.contacts.count() == 2


def test_the_contracts_own_plan_sets_the_limit_even_before_onboarding(
    acme: Organization,
) -> None:
    contract = acme.contracts.get()
    contract.plan.base_plan = PlanFactory.create(slug="solo", named_contacts=1)
    contract.plan.save()
    contract.onboarding_completed = False
    contract.save()
    for name in ("one", "two"):
        named_contact_add(
            organization=acme, user=UserFactory.create(username=name), changed_by=None
        )
    assert acme.contacts.count() == 2


def test_a_person_is_a_contact_of_one_organization_only(acme: Organization) -> None:
    taken = NamedContactFactory.create(organization=OrganizationFactory.create(slug="globex")).user
    with pytest.raises(ValidationError, match="already a named contact"):
        named_contact_add(organization=acme, user=taken, changed_by=None)


def test_an_organization_without_a_contract_in_force_adds_nobody() -> None:
    lapsed = OrganizationFactory.create(slug="lapsed", name="Lapsed")
    ContractFactory.create(organization=lapsed, ends_on=dt.date(2021, 1, 1))
    with pytest.raises(ValidationError) as caught:
        named_contact_add(organization=lapsed, user=UserFactory.create(), changed_by=None)
    assert caught.value.message_dict == {
        "organization": ["Lapsed has no contract in force or about to start."]
    }


def test_removing_a_contact_logs_the_removal_with_their_role(acme: Organization) -> None:
    contact = named_contact_add(
        organization=acme, user=UserFactory.create(username="bo"), role="admin", changed_by=None
    )
    named_contact_remove(contact=contact, changed_by=None, reason="Left the company")
    assert not NamedContact.objects.filter(pk=contact.pk).exists()
    assert log(acme) == [("added", "bo", "admin"), ("removed", "bo", "admin")]
    assert NamedContactChange.objects.order_by("pk").last().reason == "Left the company"


def test_a_role_change_is_logged_once_and_a_same_role_change_not_at_all(
    acme: Organization,
) -> None:
    contact = named_contact_add(
        organization=acme, user=UserFactory.create(username="bo"), changed_by=None
    )
    named_contact_set_role(contact=contact, role=ContactRole.ADMIN, changed_by=None)
    named_contact_set_role(contact=contact, role=ContactRole.ADMIN, changed_by=None)
    contact.refresh_from_db()
    assert contact.role == ContactRole.ADMIN
    assert log(acme) == [("added", "bo", "contact"), ("role_changed", "bo", "admin")]


def test_a_persons_time_zone_is_set_and_changed(acme: Organization) -> None:
    user = UserFactory.create()
    user_time_zone_set(user=user, time_zone="Asia/Kolkata")
    user_time_zone_set(user=user, time_zone="America/New_York")
    assert UserProfile.objects.get(user=user).time_zone == "America/New_York"
    with pytest.raises(ValidationError):
        user_time_zone_set(user=user, time_zone="Mars/Olympus")
    assert UserProfile.objects.get(user=user).time_zone == "America/New_York"
