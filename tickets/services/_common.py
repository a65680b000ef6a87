"""What every ticket service shares: the event log, row locks, role and input checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from plans import roles
from tickets.models import (
    Ticket,
    TicketEvent,
)

Event = TicketEvent.Kind


def log_event(
    ticket: Ticket,
    kind: str,
    summary: str,
    *,
    actor: User | None,
    at: dt.datetime,
    reason: str = "",
    data: dict | None = None,
    customer_visible: bool = True,
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket,
        actor=actor,
        kind=kind,
        at=at,
        summary=summary[:300],
        reason=reason,
        data=data or {},
        customer_visible=customer_visible,
    )


def touch(ticket: Ticket, at: dt.datetime, *fields: str) -> None:
    ticket.updated_at = at
    ticket.full_clean()
    ticket.save(update_fields=[*fields, "updated_at"])


def locked(ticket: Ticket) -> Ticket:
    """Re-read the ticket under a row lock: two agents acting at once are serialized.

    Lock order: the ticket first, then (through `sla.services`) its clocks. Only the ticket's
    row is locked (`of`): without it PostgreSQL would also lock the joined plan and severity
    rows and serialize every action on tickets of the same plan."""
    return (
        Ticket.objects.select_for_update(of=("self",))
        .select_related("plan", "severity")
        .get(pk=ticket.pk)
    )


def lock_tickets(ticket_ids: Sequence[int], *, skip_locked: bool) -> list[int]:
    """`sla.services.TicketLocker`: lock these tickets in id order; returns the ids locked.
    The sweep uses it to take tickets before their clocks, the order the services follow."""
    rows = Ticket.objects.filter(pk__in=list(ticket_ids)).order_by("pk")
    return list(
        rows.select_for_update(skip_locked=skip_locked, of=("self",)).values_list("pk", flat=True)
    )


def is_agent(user: User) -> bool:
    return roles.is_agent(user)


def require_agent(user: User) -> None:
    if not is_agent(user):
        raise ValidationError("Only support agents can do this.")


def required_text(text: str, field: str, message: str) -> str:
    """The text without surrounding blanks; a ValidationError on `field` when nothing is left."""
    text = text.strip()
    if not text:
        raise ValidationError({field: message})
    return text


def too_long_message(label: str) -> str:
    """The error for a text over the limit, naming the field (a form's `max_length` message:
    Django fills in `limit_value` and `show_value`)."""
    return f"{label} is too long: at most %(limit_value)d characters (it has %(show_value)d)."


def check_length(text: str, *, field: str, label: str) -> str:
    """A ValidationError on `field` when `text` is over `MESSAGE_BODY_MAX_CHARS`."""
    limit = settings.MESSAGE_BODY_MAX_CHARS
    if len(text) > limit:
        raise ValidationError(
            {field: too_long_message(label) % {"limit_value": limit, "show_value": len(text)}}
        )
    return text


def require_open(ticket: Ticket, doing: str) -> None:
    if not ticket.is_open:
        raise ValidationError(
            f"{ticket.reference} is {ticket.get_status_display().lower()}; reopen it to {doing}."
        )


def levels_text(levels: list[int] | None) -> str:
    return ", ".join(str(level) for level in levels or []) or "none"
