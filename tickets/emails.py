"""Emails about tickets: who gets which mail for which cause, and each template's context.

The ticket services call these inside their transaction; each records one outgoing
notification per recipient (`tickets.notifications`), sent by a worker after the commit.
The stored data holds ids and plain values; the context builders below read the rows again
when the mail is rendered (`helpdesk.mail.send` is the one place that renders and sends).
Nobody is mailed about their own action (a customer who reopens or closes their ticket).

A customer's ticket updates (an agent's reply, a status, severity or clarification change) are
recorded as groupable: several within `NOTIFICATION_GROUP_WINDOW` go out as one mail
(`ticket_updates`, each update rendered from `emails/updates/<name>` with its time in the
recipient's zone). Everything urgent or personal is sent at once: the acknowledgement of a new
ticket, escalations to managers (customer and SLA), warnings, invitations, auto-replies.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import QuerySet

from helpdesk.formatting import instant
from helpdesk.mail import build_context, register_context, render_part
from plans.roles import SUPPORT_MANAGERS
from plans.selectors import viewer_time_zone
from tickets.inbound import thread
from tickets.models import (
    AutoReply,
    CustomerEscalation,
    Message,
    OutgoingNotification,
    Release,
    Ticket,
    TicketEvent,
    UnwarrantedEscalationWarning,
)
from tickets.notifications import GROUP_TEMPLATE, Notice, record

EVENT = OutgoingNotification.Cause.EVENT
FIRING = OutgoingNotification.Cause.FIRING
WARNING = OutgoingNotification.Cause.UNWARRANTED_WARNING
AUTO_REPLY = OutgoingNotification.Cause.AUTO_REPLY


def _severity_label(ticket: Ticket) -> str:
    return f"{ticket.severity.level} ({ticket.severity.name})"


def _requester(ticket: Ticket) -> list[str]:
    return [ticket.requester.email] if ticket.requester.email else []


def support_manager_addresses() -> list[str]:
    users = (
        get_user_model()
        .objects.filter(groups__name=SUPPORT_MANAGERS, is_active=True)
        .exclude(email="")
    )
    return sorted(set(users.values_list("email", flat=True)))


# -- recording, called by the services in the cause's transaction ------------------------------


def ticket_created(*, event: TicketEvent) -> int:
    ticket = event.ticket
    return record(
        cause=EVENT,
        cause_id=event.pk,
        name="ticket_created",
        to=_requester(ticket),
        data={"ticket_id": ticket.pk},
    )


def agent_replied(*, event: TicketEvent, message: Message) -> int:
    ticket = event.ticket
    return record(
        cause=EVENT,
        cause_id=event.pk,
        name="agent_replied",
        to=_requester(ticket),
        data={"ticket_id": ticket.pk, "message_id": message.pk},
        groupable=True,
    )


def status_changed(
    *, event: TicketEvent, reason: str = "", change: str = "status", actor: User | None = None
) -> int:
    """A change the customer should hear of: `change` is status, severity or clarification.
    The requester is not mailed about their own action."""
    ticket = event.ticket
    if actor is not None and actor.pk == ticket.requester_id:
        return 0
    by_customer = actor is not None and not actor.is_staff
    return record(
        cause=EVENT,
        cause_id=event.pk,
        name="status_changed",
        to=_requester(ticket),
        data={
            "ticket_id": ticket.pk,
            "reason": reason,
            "change": change,
            "by_customer": by_customer,
            "actor_name": (actor.get_full_name() or actor.get_username()) if actor else "",
            # As at the event: a later mail (or a grouped one) says what this change did.
            "status": ticket.get_status_display(),
            "severity": _severity_label(ticket),
        },
        groupable=True,
    )


def customer_escalation(*, event: TicketEvent, escalation: CustomerEscalation) -> int:
    return record(
        cause=EVENT,
        cause_id=event.pk,
        name="customer_escalation",
        to=support_manager_addresses(),
        data={"ticket_id": escalation.ticket_id, "escalation_id": escalation.pk},
    )


def sla_escalation(
    *,
    firing_id: int,
    ticket_id: int,
    to: list[str],
    rule: str,
    metric: str,
    late: bool,
    due_at: str | None = None,
) -> Notice:
    """The notice for one firing; the sweep's handler records a whole batch at once. `due_at`
    (ISO 8601) is when the rule was to fire: the metrics measure the lag to the hand-over."""
    return Notice(
        cause=FIRING,
        cause_id=firing_id,
        name="sla_escalation",
        to=to,
        data={
            "ticket_id": ticket_id,
            "rule": rule,
            "metric": metric,
            "late": late,
            "due_at": due_at,
        },
    )


def unwarranted_warning(*, warning: UnwarrantedEscalationWarning) -> int:
    """The notice that further unwarranted escalations will be charged: to the organization's
    named contacts and its customer success manager."""
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
    return record(
        cause=WARNING,
        cause_id=warning.pk,
        name="unwarranted_warning",
        to=sorted(to),
        data={"warning_id": warning.pk},
    )


def inbound_auto_reply(*, reply: AutoReply) -> int:
    """The one automatic answer to an inbound mail (how to get access, why it was refused, a
    change request received)."""
    return record(
        cause=AUTO_REPLY,
        cause_id=reply.pk,
        name="inbound_auto_reply",
        to=[reply.sender],
        data={"auto_reply_id": reply.pk},
    )


# -- context builders, run by the worker that sends ---------------------------------------------
# A context may carry `mail_headers` (extra headers of that one mail); a context with a
# `ticket` gets the ticket's thread headers (`tickets.notifications.deliver`).


def _tickets() -> QuerySet[Ticket]:
    return Ticket.objects.select_related(
        "requester", "organization", "severity", "plan", "assignee"
    )


# The tickets of the batch being sent (`tickets_read_once`), so a batch reads them in one query.
_batch_tickets: ContextVar[Mapping[int, Ticket] | None] = ContextVar("batch_tickets", default=None)


@contextmanager
def tickets_read_once(ticket_ids: Iterable[int]) -> Iterator[Mapping[int, Ticket]]:
    """While a worker sends a batch of mails, their contexts take these tickets (yielded by id)
    from one query instead of one query per mail."""
    ids = set(ticket_ids)
    tickets = _tickets().in_bulk(ids) if ids else {}
    token = _batch_tickets.set(tickets)
    try:
        yield tickets
    finally:
        _batch_tickets.reset(token)


def _ticket(ticket_id: int) -> Ticket:
    found = (_batch_tickets.get() or {}).get(ticket_id)
    return found if found is not None else _tickets().get(pk=ticket_id)


@register_context("ticket_created")
def _ticket_created(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"ticket": _ticket(data["ticket_id"])}


@register_context("agent_replied")
def _agent_replied(data: Mapping[str, Any]) -> dict[str, Any]:
    message = Message.objects.select_related("author").get(pk=data["message_id"])
    return {"ticket": _ticket(data["ticket_id"]), "message": message}


@register_context("status_changed")
def _status_changed(data: Mapping[str, Any]) -> dict[str, Any]:
    ticket = _ticket(data["ticket_id"])
    return {
        "ticket": ticket,
        "reason": data.get("reason", ""),
        "change": data.get("change", "status"),
        "by_customer": data.get("by_customer", False),
        "actor_name": data.get("actor_name", ""),
        # Rows recorded before the labels were stored show the ticket as it is now.
        "status_label": data.get("status") or ticket.get_status_display(),
        "severity_label": data.get("severity") or _severity_label(ticket),
    }


@register_context(GROUP_TEMPLATE)
def _ticket_updates(data: Mapping[str, Any]) -> dict[str, Any]:
    """Several updates of one ticket to one recipient, oldest first, each rendered from its
    own `emails/updates/<name>` with its time in the recipient's zone."""
    ticket = _ticket(data["ticket_id"])
    zone = zoneinfo.ZoneInfo(_zone_of(ticket, data["recipient"]))
    updates = []
    for update in data["updates"]:
        context = {**build_context(update["template"], update["data"]), "ticket": ticket}
        part = render_part(f"updates/{update['template']}", context)
        at = dt.datetime.fromisoformat(update["at"])
        updates.append({"at": instant(at, zone), "text": part.text, "html": part.html})
    return {"ticket": ticket, "updates": updates}


def _zone_of(ticket: Ticket, recipient: str) -> str:
    """The recipient's zone: the requester's own (or their organization's), else the ticket's
    organization's."""
    if ticket.requester.email.lower() == recipient.lower():
        return viewer_time_zone(user=ticket.requester)
    return ticket.organization.time_zone


@register_context("customer_escalation")
def _customer_escalation(data: Mapping[str, Any]) -> dict[str, Any]:
    escalation = CustomerEscalation.objects.select_related(
        "ticket", "ticket__organization", "ticket__severity", "requested_by"
    ).get(pk=data["escalation_id"])
    return {"ticket": escalation.ticket, "escalation": escalation}


@register_context("sla_escalation")
def _sla_escalation(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "ticket": _ticket(data["ticket_id"]),
        "rule": data["rule"],
        "metric": data["metric"],
        "late": data["late"],
    }


@register_context("unwarranted_warning")
def _unwarranted_warning(data: Mapping[str, Any]) -> dict[str, Any]:
    warning = UnwarrantedEscalationWarning.objects.select_related(
        "contract__organization", "contract__plan__policy"
    ).get(pk=data["warning_id"])
    contract = warning.contract
    return {
        "warning": warning,
        "organization": contract.organization,
        "policy": contract.plan.policy,
    }


@register_context("inbound_auto_reply")
def _inbound_auto_reply(data: Mapping[str, Any]) -> dict[str, Any]:
    """Marked so that other robots do not answer it, and threaded to the mail it answers."""
    reply = AutoReply.objects.select_related("inbound").get(pk=data["auto_reply_id"])
    headers = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
    original = reply.inbound.message_id
    if not original.endswith("@no-message-id>"):
        headers.update({"In-Reply-To": original, "References": original})
    headers["Reply-To"] = thread.support_address()
    subject = reply.inbound.subject or "your message"
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    return {"reply": reply, "subject": subject, "mail_headers": headers}


@register_context("release_published")
def _release_published(data: Mapping[str, Any]) -> dict[str, Any]:
    release = Release.objects.get(pk=data["release_id"])
    tickets = list(
        Ticket.objects.filter(pk__in=data["ticket_ids"])
        .select_related("requester", "organization")
        .order_by("reference")
    )
    return {"release": release, "tickets": tickets, "requester": tickets[0].requester}


def release_published(*, release: Release, ticket_ids: list[int]) -> int:
    """One mail per customer contact: the tickets of theirs that a release resolved."""
    tickets = list(Ticket.objects.filter(pk__in=ticket_ids).select_related("requester"))
    if not tickets:
        return 0
    return record(
        cause=OutgoingNotification.Cause.RELEASE,
        cause_id=release.pk,
        name="release_published",
        to=_requester(tickets[0]),
        data={"release_id": release.pk, "ticket_ids": sorted(ticket_ids)},
    )
