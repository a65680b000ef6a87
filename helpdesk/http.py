"""A typed request for views that only signed-in users reach.

Django types `request.user` as `User | AnonymousUser`; behind `login_required` (or the admin's
`admin_view`) it is always the concrete `User`. Views that require a sign-in take an
`AuthenticatedHttpRequest`, so the services they call receive a `User` without casts.
"""

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


class AuthenticatedHttpRequest(HttpRequest):
    user: User


def signed_in_user(request: HttpRequest) -> User:
    """The user of a request that already passed a sign-in check, for methods whose signature
    Django fixes to a plain `HttpRequest` (a ModelAdmin's `save_model`, `delete_model`, ...)."""
    user = request.user
    if not isinstance(user, User):  # unreachable behind the admin; never act as nobody
        raise PermissionDenied
    return user
