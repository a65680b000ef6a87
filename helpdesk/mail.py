"""The one way the product renders and sends an email, and how a layer asks for one.

A mail is never sent from the transaction that causes it. The cause records it through
`notify(...)`, which writes one durable outgoing-notification row per recipient in the caller's
transaction (the `tickets` app registers that outbox at start-up, so `plans` can ask for a mail
without importing `tickets`); a worker later turns each row into a message with `send(...)`.

Templates: `emails/<name>_subject.txt`, `emails/<name>.txt` (plain text, rendered with
autoescape off: "Can't & <export>" arrives as written, not as entities) and `emails/<name>.html`.
A row stores ids and plain values, not objects: the layer that owns a template registers a
context builder that turns the stored data back into the template's context at send time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(name: str, context: Mapping[str, Any]) -> Rendered:
    """Subject (one line), plain-text body (not HTML-escaped) and HTML body of `emails/<name>`."""
    context = {"site_url": settings.SITE_URL, **context}
    return Rendered(
        subject=" ".join(_render_text(f"emails/{name}_subject.txt", context).split()),
        text=_render_text(f"emails/{name}.txt", context),
        html=render_to_string(f"emails/{name}.html", context),
    )


@dataclass(frozen=True)
class Part:
    text: str
    html: SafeString


def render_part(name: str, context: Mapping[str, Any]) -> Part:
    """`emails/<name>.txt` (not HTML-escaped) and `emails/<name>.html`: one piece of a mail made
    of several (each update of a grouped ticket mail), rendered as the whole mails are."""
    context = {"site_url": settings.SITE_URL, **context}
    return Part(
        text=_render_text(f"emails/{name}.txt", context),
        # Safe: the template engine escaped it; the whole mail's template embeds it as is.
        html=mark_safe(render_to_string(f"emails/{name}.html", context)),
    )


def _render_text(template_name: str, context: dict[str, Any]) -> str:
    # The backend's `render()` always autoescapes; plain text needs the engine's own Template
    # rendered in a Context that turns escaping off.
    template = get_template(template_name).template  # type: ignore[attr-defined]
    return str(template.render(Context(context, autoescape=False)))


def message_id(send_id: str) -> str:
    """The Message-ID header for a send id: a resent row carries the same one, so a receiving
    system (and our audit) recognises the copy."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("<> ") or "helpdesk.local"
    return f"<{send_id}@{domain}>"


def send(
    *,
    name: str,
    context: Mapping[str, Any],
    to: list[str],
    send_id: str,
    headers: Mapping[str, str] | None = None,
    connection: BaseEmailBackend | None = None,
) -> None:
    """Render `emails/<name>` and hand one message to the configured backend. `headers` may
    thread the mail (its own Message-ID, In-Reply-To, References) and name a Reply-To.
    `connection`: an open backend to reuse (one SMTP session for a batch); none opens one."""
    rendered = render(name, context)
    extra = {"Message-ID": message_id(send_id), **(headers or {})}
    reply_to = extra.pop("Reply-To", "")
    mail = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        to=to,
        headers=extra,
        reply_to=[reply_to] if reply_to else None,
        connection=connection,
    )
    mail.attach_alternative(rendered.html, "text/html")
    mail.send()


# -- context builders: stored data -> template context, registered by the template's owner ----

ContextBuilder = Callable[[Mapping[str, Any]], dict[str, Any]]
_builders: dict[str, ContextBuilder] = {}


def register_context(name: str) -> Callable[[ContextBuilder], ContextBuilder]:
    """Decorator: `@register_context("status_changed")` on `def f(data) -> context`."""

    def register(builder: ContextBuilder) -> ContextBuilder:
        _builders[name] = builder
        return builder

    return register


def build_context(name: str, data: Mapping[str, Any]) -> dict[str, Any]:
    builder = _builders.get(name)
    if builder is None:
        raise ImproperlyConfigured(f"no context builder registered for email {name!r}")
    return builder(data)


# -- the outbox: how any layer records a mail in its own transaction ---------------------------


class Outbox(Protocol):
    """Records one outgoing notification per recipient of `cause` (a kind and an id) in the
    current transaction and has them sent after it commits; returns the rows written."""

    def __call__(
        self,
        *,
        cause: str,
        cause_id: int,
        name: str,
        to: Iterable[str],
        data: Mapping[str, Any],
    ) -> int: ...


_outbox: Outbox | None = None


def register_outbox(outbox: Outbox) -> None:
    global _outbox
    _outbox = outbox


def notify(
    *, cause: str, cause_id: int, name: str, to: Iterable[str], data: Mapping[str, Any]
) -> int:
    if _outbox is None:
        raise ImproperlyConfigured("no outbox registered: the tickets app records notifications")
    return _outbox(cause=cause, cause_id=cause_id, name=name, to=to, data=data)
