"""Emails about tickets, sent by a django-q2 worker after the change commits.

`queue(builder, **ids)` registers a callback on commit that enqueues `deliver(name, ids)`; the
worker re-reads the rows, renders `emails/<name>_subject.txt`, `<name>.txt` and `<name>.html`,
and sends one message per recipient list. Nothing is sent for a change that rolled back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django_q.tasks import async_task

from plans.roles import SUPPORT_MANAGERS
from tickets.models import CustomerEscalation, Message, Release, Ticket


@dataclass
class Mail:
    template: str
    to: list[str]
    context: dict[str, Any] = field(default_factory=dict)


Builder = Callable[..., Mail | None]
_BUILDERS: dict[str, Builder] = {}


def builder(func: Builder) -> Builder:
    _BUILDERS[func.__name__] = func
    return func


def queue(func: Builder, **ids: Any) -> None:
    name = func.__name__
    transaction.on_commit(lambda: async_task("tickets.emails.deliver", name, ids))


def queue_many(func: Builder, many: list[dict[str, Any]]) -> None:
    """One task for a batch of emails of one kind (the SLA sweep's notifications)."""
    if many:
        name = func.__name__
        transaction.on_commit(lambda: async_task("tickets.emails.deliver_many", name, many))


def deliver_many(name: str, many: list[dict[str, Any]]) -> int:
    return sum(deliver(name, ids) for ids in many)


def deliver(name: str, ids: dict[str, Any]) -> int:
    """Build and send one email; returns the number of recipients (0 when nobody to tell)."""
    mail = _BUILDERS[name](**ids)
    if mail is None or not mail.to:
        return 0
    context = {"site_url": settings.SITE_URL, **mail.context}
    subject = " ".join(render_to_string(f"emails/{mail.template}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{mail.template}.txt", context),
        to=mail.to,
    )
    message.attach_alternative(
        render_to_string(f"emails/{mail.template}.html", context), "text/html"
    )
    message.send()
    return len(mail.to)


def _ticket(ticket_id: int) -> Ticket:
    return Ticket.objects.select_related(
        "requester", "organization", "severity", "plan", "assignee"
    ).get(pk=ticket_id)


def _requester(ticket: Ticket) -> list[str]:
    return [ticket.requester.email] if ticket.requester.email else []


@builder
def ticket_created(*, ticket_id: int) -> Mail:
    ticket = _ticket(ticket_id)
    return Mail("ticket_created", _requester(ticket), {"ticket": ticket})


@builder
def agent_replied(*, ticket_id: int, message_id: int) -> Mail:
    ticket = _ticket(ticket_id)
    message = Message.objects.select_related("author").get(pk=message_id)
    return Mail("agent_replied", _requester(ticket), {"ticket": ticket, "message": message})


@builder
def status_changed(*, ticket_id: int, reason: str = "") -> Mail:
    ticket = _ticket(ticket_id)
    return Mail("status_changed", _requester(ticket), {"ticket": ticket, "reason": reason})


def support_manager_addresses() -> list[str]:
    users = (
        get_user_model()
        .objects.filter(groups__name=SUPPORT_MANAGERS, is_active=True)
        .exclude(email="")
    )
    return sorted(set(users.values_list("email", flat=True)))


@builder
def customer_escalation(*, escalation_id: int) -> Mail:
    escalation = CustomerEscalation.objects.select_related(
        "ticket", "ticket__organization", "ticket__severity", "requested_by"
    ).get(pk=escalation_id)
    return Mail(
        "customer_escalation",
        support_manager_addresses(),
        {"ticket": escalation.ticket, "escalation": escalation},
    )


@builder
def sla_escalation(*, ticket_id: int, to: list[str], rule: str, metric: str, late: bool) -> Mail:
    ticket = _ticket(ticket_id)
    return Mail(
        "sla_escalation", to, {"ticket": ticket, "rule": rule, "metric": metric, "late": late}
    )


@builder
def release_published(*, release_id: int, ticket_ids: list[int]) -> Mail | None:
    """One mail per customer contact: the tickets of theirs that a release resolved."""
    release = Release.objects.get(pk=release_id)
    tickets = list(
        Ticket.objects.filter(pk__in=ticket_ids)
        .select_related("requester", "organization")
        .order_by("reference")
    )
    if not tickets:
        return None
    return Mail(
        "release_published",
        _requester(tickets[0]),
        {"release": release, "tickets": tickets, "requester": tickets[0].requester},
    )
