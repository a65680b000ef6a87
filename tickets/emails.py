"""Emails about tickets, sent by a django-q2 worker after the change commits.

`queue(builder, **ids)` registers a callback on commit that enqueues `deliver(name, ids)`; the
worker re-reads the rows, renders `emails/<name>_subject.txt`, `<name>.txt` and `<name>.html`,
and sends one message per recipient list. Nothing is sent for a change that rolled back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django_q.tasks import async_task

from helpdesk import metrics
from plans.roles import SUPPORT_MANAGERS
from tickets.inbound import thread
from tickets.models import (
    AutoReply,
    CustomerEscalation,
    Message,
    Ticket,
    UnwarrantedEscalationWarning,
)


@dataclass
class Mail:
    template: str
    to: list[str]
    context: dict[str, Any] = field(default_factory=dict)
    # An escalation's due instant: the metrics measure the lag to the hand-over to the backend.
    due_at: dt.datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)


Builder = Callable[..., Mail | None]
_BUILDERS: dict[str, Builder] = {}


def builder(func: Builder) -> Builder:
    _BUILDERS[func.__name__] = func
    return func


def queue(func: Builder, **ids: Any) -> None:
    name = func.__name__
    transaction.on_commit(lambda: async_task("tickets.emails.deliver", name, ids))


# A sweep batch can hold thousands of mails: one task for all of them would outlive the task
# timeout (60 s) and lose the rest; small tasks also spread over every worker.
MAILS_PER_TASK = 50


def queue_many(func: Builder, many: list[dict[str, Any]]) -> None:
    """Tasks of up to `MAILS_PER_TASK` emails of one kind (the SLA sweep's notifications)."""
    name = func.__name__
    for first in range(0, len(many), MAILS_PER_TASK):
        chunk = many[first : first + MAILS_PER_TASK]
        transaction.on_commit(partial(async_task, "tickets.emails.deliver_many", name, chunk))


def deliver_many(name: str, many: list[dict[str, Any]]) -> int:
    return sum(deliver(name, ids) for ids in many)


def deliver(name: str, ids: dict[str, Any]) -> int:
    """Build and send one email; returns the number of recipients (0 when nobody to tell)."""
    mail = _BUILDERS[name](**ids)
    if mail is None or not mail.to:
        return 0
    context = {"site_url": settings.SITE_URL, **mail.context}
    subject = " ".join(render_to_string(f"emails/{mail.template}_subject.txt", context).split())
    headers = dict(mail.headers)
    ticket = mail.context.get("ticket")
    if isinstance(ticket, Ticket) and "Message-ID" not in headers:
        # Threading: a reply to this mail lands on the ticket (tickets.inbound.thread).
        headers = {**thread.mail_headers(ticket=ticket), **headers}
    reply_to = headers.pop("Reply-To", "")
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{mail.template}.txt", context),
        to=mail.to,
        headers=headers,
        reply_to=[reply_to] if reply_to else None,
    )
    message.attach_alternative(
        render_to_string(f"emails/{mail.template}.html", context), "text/html"
    )
    message.send()
    metrics.observe_mail_sent(template=mail.template, due_at=mail.due_at, sent_at=timezone.now())
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
def status_changed(
    *, ticket_id: int, reason: str = "", change: str = "status", actor_id: int | None = None
) -> Mail | None:
    """A change the customer should hear of: `change` is status, severity or clarification.
    Nobody is mailed about their own action (a customer who reopens or closes)."""
    ticket = _ticket(ticket_id)
    if actor_id is not None and actor_id == ticket.requester_id:
        return None
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    by_customer = actor is not None and not actor.is_staff
    context = {
        "ticket": ticket,
        "reason": reason,
        "change": change,
        "by_customer": by_customer,
        "actor_name": (actor.get_full_name() or actor.get_username()) if actor else "",
    }
    return Mail("status_changed", _requester(ticket), context)


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
def sla_escalation(
    *, ticket_id: int, to: list[str], rule: str, metric: str, late: bool, due_at: str | None = None
) -> Mail:
    ticket = _ticket(ticket_id)
    return Mail(
        "sla_escalation",
        to,
        {"ticket": ticket, "rule": rule, "metric": metric, "late": late},
        due_at=dt.datetime.fromisoformat(due_at) if due_at else None,
    )


@builder
def unwarranted_warning(*, warning_id: int) -> Mail:
    """The notice that further unwarranted escalations will be charged: to the organization's
    named contacts and its customer success manager."""
    warning = UnwarrantedEscalationWarning.objects.select_related(
        "contract__organization__customer_success_manager",
        "contract__customer_success_manager",
        "contract__plan__policy",
    ).get(pk=warning_id)
    contract = warning.contract
    organization = contract.organization
    to = set(
        organization.contacts.filter(user__is_active=True)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    manager = contract.customer_success_manager or organization.customer_success_manager
    if manager is not None and manager.is_active and manager.email:
        to.add(manager.email)
    return Mail(
        "unwarranted_warning",
        sorted(to),
        {"warning": warning, "organization": organization, "policy": contract.plan.policy},
    )


@builder
def inbound_auto_reply(*, auto_reply_id: int) -> Mail:
    """The one automatic answer to an inbound mail (how to get access, why it was refused, a
    change request received), marked so that other robots do not answer it."""
    reply = AutoReply.objects.select_related("inbound").get(pk=auto_reply_id)
    headers = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
    original = reply.inbound.message_id
    if not original.endswith("@no-message-id>"):
        headers.update({"In-Reply-To": original, "References": original})
    headers["Reply-To"] = thread.support_address()
    subject = reply.inbound.subject or "your message"
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    return Mail(
        "inbound_auto_reply",
        [reply.sender],
        {"reply": reply, "subject": subject},
        headers=headers,
    )
