"""Writes for plans: named contacts (with the plan's limit) and contracts."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from plans.models import ContactRole, NamedContact, NamedContactChange, Organization
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
