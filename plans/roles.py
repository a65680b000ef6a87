"""Staff roles, as Django auth groups; the names policy files use (`group:<name>`) too."""

from django.contrib.auth.models import AnonymousUser, User

SUPPORT_MANAGERS = "support managers"
AGENTS = "agents"
DIRECTORS = "directors"
ON_CALL = "on-call"


def is_support_manager(user: User | AnonymousUser) -> bool:
    """Managers read the SLA and hours reports: members of the group, or superusers."""
    if not user.is_authenticated or not user.is_active:
        return False
    cached = getattr(user, "_is_support_manager", None)
    if cached is None:
        cached = user.is_superuser or user.groups.filter(name=SUPPORT_MANAGERS).exists()
        user._is_support_manager = cached  # type: ignore[attr-defined]
    return cached
