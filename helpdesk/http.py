"""HTTP helpers every view may use: a typed request for signed-in users, and request parsing
that refuses hostile input with a 400, never a 500.

Django types `request.user` as `User | AnonymousUser`; behind `login_required` (or the admin's
`admin_view`) it is always the concrete `User`: views that require a sign-in take an
`AuthenticatedHttpRequest`, so the services they call receive a `User` without casts.

PostgreSQL refuses text holding NUL characters (psycopg raises before the query runs), and
`int()` accepts digits other than ASCII ones or fails on thousands of them, so query values are
checked here instead of in every view.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import render

from helpdesk.formatting import human_duration

# No view reads a longer query value; a longer one is refused whole.
MAX_QUERY_VALUE = 2_000


def hostile_input(request: HttpRequest) -> str | None:
    """Why the request's path or query string cannot be served, or None when it can."""
    if "\x00" in request.path or "\x00" in unquote(request.path_info):
        return "The address contains a NUL character."
    for key, values in request.GET.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            return f"The query parameter {key!r} contains a NUL character."
        if len(key) > MAX_QUERY_VALUE or any(len(value) > MAX_QUERY_VALUE for value in values):
            return f"The query parameter {key[:40]!r} is too long."
    return None


class HostileInputMiddleware:
    """Answers 400 Bad Request to a path or query string no view can use safely."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = hostile_input(request)
        if problem is not None:
            return HttpResponseBadRequest(problem, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def parse_int(text: object, *, max_digits: int = 9) -> int | None:
    """A whole number written in ASCII digits (at most `max_digits`), else None: `str.isdigit`
    accepts `²` and `٣`, which `int()` refuses or reads, and `int()` fails on 5,000 digits."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text or len(text) > max_digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def int_param(query: QueryDict, name: str, *, max_digits: int = 9) -> int | None:
    """A whole number from the query (see `parse_int`), else None."""
    return parse_int(query.get(name, ""), max_digits=max_digits)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """django-axes' lockout, as a page in the product's look naming how long the pause lasts."""
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff": human_duration(settings.AXES_COOLOFF_TIME),
    }
    return render(request, "registration/locked_out.html", context, status=429)


class AuthenticatedHttpRequest(HttpRequest):
    user: User


def signed_in_user(request: HttpRequest) -> User:
    """The user of a request that already passed a sign-in check, for methods whose signature
    Django fixes to a plain `HttpRequest` (a ModelAdmin's `save_model`, `delete_model`, ...)."""
    user = request.user
    if not isinstance(user, User):  # unreachable behind the admin; never act as nobody
        raise PermissionDenied
    return user
