"""Staff roles, as Django auth groups; the names policy files use (`group:<name>`) too.

The one definition of who is an agent, a support manager or a policy administrator. The admin
permissions each role holds are in `tickets.roles` (the app that sees every model).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

AGENTS = "agents"
SUPPORT_MANAGERS = "support managers"
POLICY_ADMINISTRATORS = "policy administrators"
DIRECTORS = "directors"
ON_CALL = "on-call"

STAFF_ROLES = (AGENTS, SUPPORT_MANAGERS, POLICY_ADMINISTRATORS)


def _in_group(user: User | AnonymousUser, name: str, cache: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    cached = getattr(user, cache, None)
    if cached is None:
        cached = user.is_superuser or user.groups.filter(name=name).exists()
        setattr(user, cache, cached)
    return bool(cached)


def is_agent(user: User | AnonymousUser) -> bool:
    """Staff who work tickets: active staff accounts (every role above is staff)."""
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def is_support_manager(user: User | AnonymousUser) -> bool:
    """Managers read the SLA and hours reports: members of the group, or superusers."""
    return _in_group(user, SUPPORT_MANAGERS, "_is_support_manager")


def is_policy_administrator(user: User | AnonymousUser) -> bool:
    return _in_group(user, POLICY_ADMINISTRATORS, "_is_policy_administrator")


def manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A view for support managers: sign-in for the anonymous, 403 (saying why) for others."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_support_manager(request.user):
            raise PermissionDenied("Reports are for support managers.")
        return view(request, *args, **kwargs)

    return wrapped
