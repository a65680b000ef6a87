"""Password reset mail through the product's one mail path (`helpdesk.mail`).

Django's `PasswordResetForm` would send the mail itself, in the request. Here the request only
records it (an outgoing notification, sent by a worker and re-driven if lost); the link is made
when the mail is rendered, so a mail sent late still carries a valid token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from helpdesk import mail


class OutboxPasswordResetForm(PasswordResetForm):
    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        # The cause is the request's second: requests for one address within the same second
        # send one mail (the unique row refuses the second one).
        try:
            with transaction.atomic():
                mail.notify(
                    cause="password_reset",
                    cause_id=int(timezone.now().timestamp()),
                    name="password_reset",
                    to=[to_email],
                    data={
                        "user_id": context["user"].pk,
                        "site_url": f"{context['protocol']}://{context['domain']}",
                    },
                )
        except IntegrityError:
            pass


def reset_link(user: Any, site_url: str) -> str:
    """A single-use link to choose a password (also used by contact invitations)."""
    return site_url.rstrip("/") + reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )


@mail.register_context("password_reset")
def password_reset_context(data: Mapping[str, Any]) -> dict[str, Any]:
    user = get_user_model().objects.get(pk=data["user_id"])
    return {"user": user, "link": reset_link(user, data["site_url"])}
