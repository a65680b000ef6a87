"""What production needs from the environment, checked where production starts.

With `DEBUG` off the settings load without `SECRET_KEY`, `ALLOWED_HOSTS` and `SITE_URL`, so
management commands (`makemigrations`, `check`, `migrate`, the tests) run without a production
environment; the settings then hold no usable fallback (an empty secret key, which Django refuses
to sign with; no allowed host, so every request is refused; no site URL). What serves or works
refuses to start without them, each with a message naming the variable:

- `helpdesk/wsgi.py` and `helpdesk/asgi.py` (gunicorn, any WSGI or ASGI server) call `require`;
- `manage.py qcluster` (the task workers; `tickets` overrides django-q2's command) calls it;
- `manage.py check --deploy` reports each as an error (`check`, registered by `tickets` with
  the tag `production`; `bin/serve` runs `manage.py check --deploy --tag production` first).

With `DEBUG` on (a laptop, `bin/run`) nothing is required: the settings fall back to a
published development key and local addresses.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

REQUIRED = {
    "SECRET_KEY": "It signs sessions and password-reset links.",
    "ALLOWED_HOSTS": "It lists the host names this site answers to.",
    "SITE_URL": "Links in emails point to it (https://help.example.com).",
}
TAG = "production"


def problems() -> list[tuple[str, str]]:
    """(variable, message) for each production variable missing or unsafe; none with DEBUG on."""
    if settings.DEBUG:
        return []
    found = [
        (
            name,
            f"{name} is not set. {why} Set it in the environment (see .env.example), "
            "or set DEBUG=true for a development run.",
        )
        for name, why in REQUIRED.items()
        if not _value(name)
    ]
    if _value("SECRET_KEY") == settings.PUBLISHED_SECRET_KEY:
        found.append(
            (
                "SECRET_KEY",
                "SECRET_KEY is the published development default; with DEBUG off set SECRET_KEY "
                "in the environment to a long random value (50+ characters).",
            )
        )
    return found


def _value(name: str) -> Any:
    try:
        return getattr(settings, name, None)
    except ImproperlyConfigured:  # Django refuses to hand out an empty SECRET_KEY
        return None


def require(what: str) -> None:
    """Refuse to start `what` (a server, the workers) without the production environment."""
    found = problems()
    if found:
        lines = "\n".join(f"- {message}" for _, message in found)
        raise ImproperlyConfigured(f"{what} refuses to start:\n{lines}")


def check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The system check (`manage.py check --deploy`): one error per problem."""
    return [
        checks.Error(message, id=f"helpdesk.E00{list(REQUIRED).index(name) + 1}")
        for name, message in problems()
    ]
