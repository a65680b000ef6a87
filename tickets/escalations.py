"""What an SLA escalation does to a ticket: move it, tell the people the rule names, log it.

Registered with `sla.services.register_escalation_handler` when the app starts, so `sla` never
imports ticket code.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone

from sla.services import EscalationAction, EscalationOutcome
from tickets import emails
from tickets.models import Queue, Ticket, TicketEvent
from tickets.services import ticket_move_to_queue


def recipients(ticket: Ticket, notify: tuple[str, ...]) -> list[str]:
    """Email addresses for the roles a rule names (`assignee`, `queue`,
    `customer_success_manager`, `support_managers`, `group:<name>`, `email:<address>`)."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    found: list[str] = []
    for role in notify:
        if role == "assignee":
            if ticket.assignee is not None and ticket.assignee.email:
                found.append(ticket.assignee.email)
        elif role == "queue":
            if ticket.queue_id is not None:
                found += users.filter(queues=ticket.queue_id).values_list("email", flat=True)
        elif role == "customer_success_manager":
            manager = ticket.organization.customer_success_manager
            if manager is not None and manager.email:
                found.append(manager.email)
        elif role == "support_managers":
            found += emails.support_manager_addresses()
        elif role.startswith("group:"):
            name = role.removeprefix("group:")
            found += users.filter(groups__name=name).values_list("email", flat=True)
        elif role.startswith("email:"):
            found.append(role.removeprefix("email:"))
    return sorted(set(found))


def handle_escalation(action: EscalationAction) -> EscalationOutcome:
    ticket = Ticket.objects.select_related(
        "assignee", "queue", "organization__customer_success_manager"
    ).get(pk=action.ticket_id)
    moved_to = ""
    if action.move_to:
        queue = Queue.objects.filter(slug=action.move_to).first()
        if queue is not None:
            ticket = ticket_move_to_queue(
                ticket=ticket, queue=queue, by=None, reason=f"SLA rule: {action.rule_text}"
            )
            ticket = Ticket.objects.select_related(
                "assignee", "queue", "organization__customer_success_manager"
            ).get(pk=ticket.pk)
            moved_to = queue.slug
    to = recipients(ticket, action.notify)
    TicketEvent.objects.create(
        ticket=ticket,
        kind=TicketEvent.Kind.SLA_ESCALATED,
        at=timezone.now(),
        summary=f"Escalated{' (late)' if action.late else ''}: {action.rule_text}"[:300],
        data={"notified": to, "moved_to": moved_to, "metric": action.metric},
        customer_visible=False,
    )
    if to:
        emails.queue(
            emails.sla_escalation,
            ticket_id=ticket.pk,
            to=to,
            rule=action.rule_text,
            metric=action.metric,
            late=action.late,
        )
    return EscalationOutcome(notified=to, moved_to=moved_to)
