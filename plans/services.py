"""Writes for plans: named contacts (with the plan's limit), invitations and contracts."""

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from helpdesk import mail
from plans.models import (
    ContactInvitation,
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
    if user.is_staff or user.is_superuser:
        raise ValidationError({"user": "Staff accounts cannot be customer contacts."})
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


def user_time_zone_set(*, user: User, time_zone: str) -> UserProfile:
    """The zone a person's pages show times in."""
    profile = UserProfile.objects.filter(user=user).first() or UserProfile(user=user)
    profile.time_zone = time_zone
    profile.full_clean()
    profile.save()
    return profile


# -- invitations ------------------------------------------------------------------------------
# Adding a contact sends an invitation; only the person, by accepting it, becomes a contact.
# Nothing here tells the inviting admin whether the email has an account, is staff, or is a
# contact elsewhere: every such case is settled when the person accepts, and told to them.

INVITATION_DAYS = 7


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue(invitation: ContactInvitation, *, site_url: str) -> None:
    """A fresh token and expiry, saved, and the email sent after commit."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation.token_hash = _token_hash(token)
    invitation.sent_at = now
    invitation.expires_at = now + dt.timedelta(days=INVITATION_DAYS)
    invitation.full_clean()
    invitation.save()
    # Recorded in this transaction (the outbox sends it after the commit). Each issue is its own
    # cause: a re-sent invitation is a new mail with a new link. The row holds the link until the
    # mail is sent; the invitation itself stores only the token's hash.
    mail.notify(
        cause="invitation",
        cause_id=int(invitation.token_hash[:15], 16),
        name="contact_invitation",
        to=[invitation.email],
        data={
            "invitation_id": invitation.pk,
            "link": site_url.rstrip("/") + reverse("invitation", args=[token]),
        },
    )


@mail.register_context("contact_invitation")
def contact_invitation_context(data: Mapping[str, Any]) -> dict[str, Any]:
    invitation = ContactInvitation.objects.select_related("organization", "invited_by").get(
        pk=data["invitation_id"]
    )
    return {
        "invitation": invitation,
        "organization": invitation.organization,
        "by": invitation.invited_by,
        "link": data["link"],
        "days": INVITATION_DAYS,
    }


@transaction.atomic
def contact_invitation_send(
    *,
    organization: Organization,
    email: str,
    first_name: str = "",
    last_name: str = "",
    role: str = ContactRole.CONTACT,
    by: User,
    site_url: str,
) -> ContactInvitation:
    """Invite a person by email to become a named contact of `organization` (an open invitation
    to the same email is sent again). Raises ValidationError keyed `email` only about this
    organization's own contacts and plan limit."""
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    email = email.strip().lower()
    if organization.contacts.filter(user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a named contact of {organization}."})
    _check_room(organization)
    invitation = ContactInvitation.objects.filter(
        organization=organization, email=email, accepted_at__isnull=True
    ).first() or ContactInvitation(organization=organization, email=email)
    invitation.first_name, invitation.last_name, invitation.role = first_name, last_name, role
    invitation.invited_by = by
    _issue(invitation, site_url=site_url)
    return invitation


@transaction.atomic
def contact_invitation_resend(
    *, invitation: ContactInvitation, by: User, site_url: str
) -> ContactInvitation:
    """Send an open invitation again, expired or not, with a new link (the old one stops)."""
    invitation = ContactInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise ValidationError(f"{invitation.email} already accepted this invitation.")
    invitation.invited_by = by
    _issue(invitation, site_url=site_url)
    return invitation


def invitation_for_token(token: str) -> ContactInvitation | None:
    """The open invitation a link names, or None (unknown, used or replaced by a resend)."""
    return (
        ContactInvitation.objects.select_related("organization", "invited_by")
        .filter(token_hash=_token_hash(token), accepted_at__isnull=True)
        .first()
    )


@transaction.atomic
def contact_invitation_accept(
    *,
    invitation: ContactInvitation,
    user: User | None,
    password: str = "",
) -> NamedContact:
    """The invited person accepts: signed in as the invited email's account, or (no such
    account yet) with a new password that creates it. Staff accounts are refused."""
    invitation = ContactInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise ValidationError("This invitation was already accepted.")
    if invitation.expires_at <= timezone.now():
        raise ValidationError(
            "This invitation has expired. Ask your organization's admin to send it again."
        )
    users = get_user_model().objects
    if user is None:
        if (
            users.filter(email__iexact=invitation.email).exists()
            or users.filter(username__iexact=invitation.email).exists()
        ):
            raise ValidationError(
                "An account with this email exists: sign in with it, then open the link again."
            )
        user = users.create_user(
            username=invitation.email,
            email=invitation.email,
            first_name=invitation.first_name,
            last_name=invitation.last_name,
        )
        user.set_password(password)
        user.save(update_fields=["password"])
    elif (user.email or "").lower() != invitation.email:
        raise ValidationError(
            "This invitation is for another email address: sign in with that account."
        )
    if user.is_staff or user.is_superuser:
        raise ValidationError("Staff accounts cannot be customer contacts.")
    if NamedContact.objects.filter(user=user).exists():
        raise ValidationError(
            "Your account is already a named contact of an organization; an account can be a "
            "contact of one organization only."
        )
    contact = named_contact_add(
        organization=invitation.organization,
        user=user,
        role=invitation.role,
        changed_by=invitation.invited_by,
        reason="Accepted an invitation",
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return contact


def _check_room(organization: Organization) -> None:
    contract = contract_for_contacts(organization=organization)
    if contract is None:
        raise ValidationError(
            {"organization": f"{organization} has no contract in force or about to start."}
        )
    limit = contract.plan.named_contacts
    if limit is not None and organization.contacts.count() >= limit:
        raise ValidationError(
            {
                "email": f"The {contract.plan} plan allows {limit} named contact(s); "
                "remove one first."
            }
        )


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
