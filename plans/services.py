"""Writes for plans: named contacts (with the plan's limit) and contracts."""

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from plans.models import (
    ContactRole,
    Contract,
    NamedContact,
    NamedContactChange,
    Organization,
    PooledMonths,
    UserProfile,
)
from plans.selectors import contract_for_contacts


@transaction.atomic
def named_contact_add(
    *,
    organization: Organization,
    user: User,
    role: str = ContactRole.CONTACT,
    changed_by: User | None,
    reason: str = "",
) -> NamedContact:
    """Make `user` a named support contact of `organization`, within the plan's limit."""
    # Lock the organization so two admins adding the last free place cannot both succeed.
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if NamedContact.objects.filter(user=user).exists():
        raise ValidationError({"user": f"{user} is already a named contact."})
    contract = contract_for_contacts(organization=organization)
    if contract is None:
        raise ValidationError(
            {"organization": f"{organization} has no contract in force or about to start."}
        )
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
    *, contact: NamedContact, changed_by: User | None, reason: str = ""
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
    *, contact: NamedContact, role: str, changed_by: User | None
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
    by: User,
    site_url: str,
    reason: str = "Added in the portal",
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
        organization=organization, user=user, role=role, changed_by=by, reason=reason
    )
    if not user.has_usable_password():
        invitation = _invitation(user=user, organization=organization, by=by, site_url=site_url)
        transaction.on_commit(lambda: send_mail(**invitation))
    return contact


def user_time_zone_set(*, user: User, time_zone: str) -> UserProfile:
    """The zone a person's pages show times in."""
    profile = UserProfile.objects.filter(user=user).first() or UserProfile(user=user)
    profile.time_zone = time_zone
    profile.full_clean()
    profile.save()
    return profile


def _invitation(
    *, user: User, organization: Organization, by: User, site_url: str
) -> dict[str, Any]:
    link = site_url.rstrip("/") + reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {
        "user": user,
        "organization": organization,
        "by": by,
        "link": link,
        "site_url": site_url,
    }
    subject = " ".join(render_to_string("registration/invitation_subject.txt", context).split())
    return {
        "subject": subject,
        "message": render_to_string("registration/invitation_email.html", context),
        "from_email": None,
        "recipient_list": [user.email],
    }


@transaction.atomic
def pooled_months_agree(
    *,
    contract: Contract,
    first_month: dt.date,
    months: int,
    agreed_by: User | None,
    note: str = "",
) -> PooledMonths:
    """Pool `months` billing months' hours from `first_month`, within the plan's limit."""
    pool = PooledMonths(
        contract=contract, first_month=first_month, months=months, agreed_by=agreed_by, note=note
    )
    pool.full_clean()
    pool.save()
    return pool
