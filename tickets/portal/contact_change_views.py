"""The portal's named-contact change request (OpenBack): on the account page, a named contact
names the former and the new contact; support approves it in the admin."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from helpdesk.http import AuthenticatedHttpRequest
from plans.contact_changes import contact_change_request
from plans.models import ContactChangeRequest, NamedContact
from tickets import selectors
from tickets.portal.forms import apply_errors


class ContactChangeForm(forms.Form):
    former_email = forms.ChoiceField(label="Former contact")
    new_email = forms.EmailField(label="New contact's email")
    new_name = forms.CharField(label="New contact's name", max_length=150, required=False)
    reason = forms.CharField(
        label="Why (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, contacts: list[NamedContact], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["former_email"]).choices = [
            (c.user.email, f"{c.user.get_full_name() or c.user.username} <{c.user.email}>")
            for c in contacts
            if c.user.email
        ]


def contact_change_context(
    request: AuthenticatedHttpRequest, form: ContactChangeForm | None = None
) -> dict[str, Any]:
    """What the account page shows of contact changes: the form and the organization's requests
    (empty for someone who is not a named contact)."""
    contact = selectors.contact_for(user=request.user)
    if contact is None:
        return {}
    organization = contact.organization
    contacts = list(selectors.organization_contacts(organization=organization))
    requests = (
        ContactChangeRequest.objects.filter(organization=organization)
        .select_related("former_user")
        .order_by("-requested_at")[:10]
    )
    return {
        "contact_change_form": form or ContactChangeForm(contacts=contacts),
        "contact_changes": list(requests),
    }


@login_required
@require_POST
def contact_change(request: AuthenticatedHttpRequest) -> HttpResponse:
    organization = selectors.organization_for(user=request.user)  # 404 for non-contacts
    contacts = list(selectors.organization_contacts(organization=organization))
    form = ContactChangeForm(request.POST, contacts=contacts)
    if form.is_valid():
        try:
            change = contact_change_request(
                organization=organization,
                requested_by=request.user,
                via=ContactChangeRequest.Via.PORTAL,
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(
                request,
                f"Request #{change.pk} sent: support will replace {change.former_user.email} "
                f"with {change.new_email} once they approve it.",
            )
            return redirect("tickets:account")
    # Imported here: the account page is the portal's own view (tickets.views imports this).
    from tickets.portal.views import render_account  # noqa: PLC0415  (views imports this module)

    return render_account(request, contact_change_form=form, status=400)
