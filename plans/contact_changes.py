"""Named-contact change requests (OpenBack: "Changes to the Named Support Contacts are submitted
to support specifying the former and new contacts"): a named contact asks, by the portal or by
mail; an agent approves (the former contact is removed and the new one added in one transaction,
so the plan's limit holds and the change log shows both) or rejects."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from plans.models import ContactChangeRequest, NamedContact, Organization
from plans.services import contact_invitation_send, named_contact_remove

Status = ContactChangeRequest.Status


@transaction.atomic
def contact_change_request(
    *,
    organization: Organization,
    requested_by: User,
    former_email: str,
    new_email: str,
    new_name: str = "",
    reason: str = "",
    via: str,
) -> ContactChangeRequest:
    """Record a request to replace `former_email` by `new_email` among the named contacts."""
    if not NamedContact.objects.filter(organization=organization, user_id=requested_by.pk).exists():
        raise ValidationError("Only a named contact of the organization can ask for a change.")
    former_email, new_email = former_email.strip().lower(), new_email.strip().lower()
    errors: dict[str, str] = {}
    former = (
        NamedContact.objects.select_related("user")
        .filter(organization=organization, user__email__iexact=former_email)
        .first()
        if former_email
        else None
    )
    if former is None:
        errors["former_email"] = (
            f"{former_email or 'The former contact'} is not a named contact of {organization}."
        )
    try:
        validate_email(new_email)
    except ValidationError:
        errors["new_email"] = f"{new_email or 'The new contact'} is not an email address."
    else:
        if NamedContact.objects.filter(user__email__iexact=new_email).exists():
            errors["new_email"] = f"{new_email} is already a named contact."
    if errors:
        raise ValidationError(errors)
    assert former is not None
    if ContactChangeRequest.objects.filter(
        organization=organization, former_user=former.user, status=Status.PENDING
    ).exists():
        raise ValidationError(
            {"former_email": f"A change of {former_email} is already waiting for support."}
        )
    change = ContactChangeRequest(
        organization=organization,
        former_user=former.user,
        new_email=new_email,
        new_name=new_name.strip()[:150],
        reason=reason.strip(),
        via=via,
        requested_by=requested_by,
        requested_at=timezone.now(),
    )
    change.full_clean()
    change.save()
    return change


def _require_staff(user: User) -> None:
    if not (user.is_active and user.is_staff):
        raise ValidationError("Only support staff decide on named-contact changes.")


def _locked_pending(change: ContactChangeRequest) -> ContactChangeRequest:
    change = (
        ContactChangeRequest.objects.select_for_update()
        .select_related("organization", "former_user")
        .get(pk=change.pk)
    )
    if change.status != Status.PENDING:
        raise ValidationError(f"This request was already {change.get_status_display().lower()}.")
    return change


@transaction.atomic
def contact_change_approve(*, change: ContactChangeRequest, by: User) -> ContactChangeRequest:
    """Replace the former contact by the new one (who gets an invitation if new here)."""
    _require_staff(by)
    organization = Organization.objects.select_for_update().get(pk=change.organization_id)
    change = _locked_pending(change)
    former = NamedContact.objects.filter(
        organization=organization, user_id=change.former_user_id
    ).first()
    if former is None:
        raise ValidationError(f"{change.former_user} is no longer a named contact.")
    first, _, last = change.new_name.partition(" ")
    named_contact_remove(
        contact=former,
        changed_by=by,
        reason=f"Change request #{change.pk}: replaced by {change.new_email}",
    )
    # The new contact is invited: they become a contact when they accept (never without).
    contact_invitation_send(
        organization=organization,
        email=change.new_email,
        first_name=first,
        last_name=last,
        role=former.role,
        by=by,
        site_url=settings.SITE_URL,
    )
    change.status = Status.APPROVED
    change.decided_by = by
    change.decided_at = timezone.now()
    change.save(update_fields=["status", "decided_by", "decided_at"])
    return change


@transaction.atomic
def contact_change_reject(
    *, change: ContactChangeRequest, by: User, note: str = ""
) -> ContactChangeRequest:
    _require_staff(by)
    change = _locked_pending(change)
    change.status = Status.REJECTED
    change.decided_by = by
    change.decided_at = timezone.now()
    change.decision_note = note[:300]
    change.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    return change
