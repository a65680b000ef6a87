"""Writes for plans: named contacts (with the plan's limit) and contracts."""

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from helpdesk import mail
from plans.accounts import reset_link
from plans.models import ContactRole, NamedContact, NamedContactChange, Organization, UserProfile
from plans.selectors import contract_active


@transaction.atomic
def named_contact_add(
    *,
    organization: Organization,
    user: AbstractBaseUser,
    role: str = ContactRole.CONTACT,
    changed_by: AbstractBaseUser | None,
    reason: str = "",
) -> NamedContact:
    """Make `user` a named support contact of `organization`, within the plan's limit."""
    # Lock the organization so two admins adding the last free place cannot both succeed.
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if NamedContact.objects.filter(user=user).exists():
        raise ValidationError({"user": f"{user} is already a named contact."})
    contract = contract_active(organization=organization)
    if contract is None:
        raise ValidationError({"organization": f"{organization} has no active contract."})
    # The contract's own plan sets the limit, even before onboarding: who may talk to support
    # is part of what was bought, only response levels wait for onboarding.
    limit = contract.plan.named_contacts
    if limit is not None and organization.contacts.count() >= limit:
        raise ValidationError(
            {"user": f"The {contract.plan} plan allows {limit} named contact(s); remove one first."}
        )
    contact = NamedContact(organization=organization, user=user, role=role)
    contact.full_clean()
    contact.save()
    NamedContactChange.objects.create(
        organization=organization,
        contact_user=user,
        action=NamedContactChange.Action.ADDED,
        role=role,
        changed_by=changed_by,
        reason=reason,
    )
    return contact


@transaction.atomic
def named_contact_remove(
    *, contact: NamedContact, changed_by: AbstractBaseUser | None, reason: str = ""
) -> None:
    NamedContactChange.objects.create(
        organization=contact.organization,
        contact_user=contact.user,
        action=NamedContactChange.Action.REMOVED,
        role=contact.role,
        changed_by=changed_by,
        reason=reason,
    )
    contact.delete()


@transaction.atomic
def named_contact_set_role(
    *, contact: NamedContact, role: str, changed_by: AbstractBaseUser | None
) -> NamedContact:
    if contact.role == role:
        return contact
    contact.role = role
    contact.full_clean()
    contact.save(update_fields=["role"])
    NamedContactChange.objects.create(
        organization=contact.organization,
        contact_user=contact.user,
        action=NamedContactChange.Action.ROLE_CHANGED,
        role=role,
        changed_by=changed_by,
    )
    return contact


@transaction.atomic
def named_contact_invite(
    *,
    organization: Organization,
    email: str,
    first_name: str = "",
    last_name: str = "",
    role: str = ContactRole.CONTACT,
    by: AbstractBaseUser,
    site_url: str,
) -> NamedContact:
    """An organization admin adds a person by email: the account is created if needed (with no
    password), added within the plan's limit, and a new person is emailed a link to choose a
    password. Raises ValidationError keyed `email`, `user` or `organization`."""
    email = email.strip().lower()
    users = get_user_model().objects
    user = users.filter(email__iexact=email).order_by("pk").first()
    if user is None:
        if users.filter(username=email).exists():
            raise ValidationError({"email": f"{email} cannot be used as a user name."})
        user = users.create_user(
            username=email, email=email, first_name=first_name, last_name=last_name
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
    contact = named_contact_add(
        organization=organization, user=user, role=role, changed_by=by, reason="Added in the portal"
    )
    if not user.has_usable_password():
        # Recorded in this transaction; the link is made when the mail is rendered.
        mail.notify(
            cause="invitation",
            cause_id=contact.pk,
            name="invitation",
            to=[user.email],
            data={
                "user_id": user.pk,
                "organization_id": organization.pk,
                "by_id": by.pk,
                "site_url": site_url,
            },
        )
    return contact


def user_time_zone_set(*, user: AbstractBaseUser, time_zone: str) -> UserProfile:
    """The zone a person's pages show times in."""
    profile = UserProfile.objects.filter(user=user).first() or UserProfile(user=user)
    profile.time_zone = time_zone
    profile.full_clean()
    profile.save()
    return profile


@mail.register_context("invitation")
def invitation_context(data: Mapping[str, Any]) -> dict[str, Any]:
    """A link to choose a password, made at send time so it is fresh when it arrives."""
    users = get_user_model().objects
    user = users.get(pk=data["user_id"])
    return {
        "user": user,
        "organization": Organization.objects.get(pk=data["organization_id"]),
        "by": users.get(pk=data["by_id"]),
        "link": reset_link(user, data["site_url"]),
        "site_url": data["site_url"],
    }
