"""Sign-in with an email address: customers know theirs, not the user name the system made.

`EmailBackend` comes after Django's `ModelBackend` in `AUTHENTICATION_BACKENDS`: a user name
still signs in as before; an address (any case) signs in the one active user of the named
contacts who has it. An unknown address, one several people share, or one of a staff account
fails exactly like a wrong password (the same message, and the password hasher runs once either
way, so the answer's timing does not tell whether the address exists).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.http import HttpRequest


class EmailBackend(ModelBackend):
    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or not password or "@" not in username:
            return None
        model = User
        matches = list(
            model.objects.filter(
                email__iexact=username.strip(), is_staff=False, named_contact__isnull=False
            )[:2]
        )
        if len(matches) != 1:
            # Run the hasher anyway, as ModelBackend does for an unknown user name.
            model().set_password(password)
            return None
        user = matches[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
