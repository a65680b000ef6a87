"""Emails about tickets: who gets which mail for which cause, and each template's context.

The ticket services call these inside their transaction; each records one outgoing
notification per recipient (`tickets.notifications`), sent by a worker after the commit.
The stored data holds ids and plain values; the context builders below read the rows again
when the mail is rendered (`helpdesk.mail.send` is the one place that renders and sends).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model

from helpdesk.mail import register_context
from plans.roles import SUPPORT_MANAGERS
from tickets.models import CustomerEscalation, Message, OutgoingNotification, Ticket, TicketEvent
from tickets.notifications import Notice, record

EVENT = OutgoingNotification.Cause.EVENT
FIRING = OutgoingNotification.Cause.FIRING


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
    )


def status_changed(*, event: TicketEvent, reason: str = "") -> int:
    ticket = event.ticket
    return record(
        cause=EVENT,
        cause_id=event.pk,
        name="status_changed",
        to=_requester(ticket),
        data={"ticket_id": ticket.pk, "reason": reason},
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
    *, firing_id: int, ticket_id: int, to: list[str], rule: str, metric: str, late: bool
) -> Notice:
    """The notice for one firing; the sweep's handler records a whole batch at once."""
    return Notice(
        cause=FIRING,
        cause_id=firing_id,
        name="sla_escalation",
        to=to,
        data={"ticket_id": ticket_id, "rule": rule, "metric": metric, "late": late},
    )


# -- context builders, run by the worker that sends ---------------------------------------------


def _ticket(ticket_id: int) -> Ticket:
    return Ticket.objects.select_related(
        "requester", "organization", "severity", "plan", "assignee"
    ).get(pk=ticket_id)


@register_context("ticket_created")
def _ticket_created(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"ticket": _ticket(data["ticket_id"])}


@register_context("agent_replied")
def _agent_replied(data: Mapping[str, Any]) -> dict[str, Any]:
    message = Message.objects.select_related("author").get(pk=data["message_id"])
    return {"ticket": _ticket(data["ticket_id"]), "message": message}


@register_context("status_changed")
def _status_changed(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"ticket": _ticket(data["ticket_id"]), "reason": data.get("reason", "")}


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
