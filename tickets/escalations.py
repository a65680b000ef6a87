"""What SLA escalations do to tickets: move them, tell the people the rules name, log it.

Registered with `sla.services.register_escalation_handler` when the app starts, so `sla` never
imports ticket code. A sweep hands over all its firings at once; the people behind each role
are looked up once per batch, so the cost does not grow with the number of tickets.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model

from helpdesk import timing
from helpdesk.db import insert_rows
from sla.services import EscalationAction, EscalationOutcome
from tickets import emails
from tickets.escalation_fallback import contracts_for, resolve_recipients
from tickets.models import Queue, Ticket, TicketEvent
from tickets.notifications import Notice, record_many
from tickets.services import tickets_move_by_rules


class Recipients:
    """Email addresses for the roles a rule names (`assignee`, `queue`,
    `customer_success_manager`, `support_managers`, `group:<name>`, `email:<address>`),
    with each group's and queue's members read once."""

    def __init__(self, tickets: Iterable[Ticket], queue_ids: Iterable[int] = ()) -> None:
        self.users = get_user_model().objects.filter(is_active=True).exclude(email="")
        self.queue_ids = {t.queue_id for t in tickets if t.queue_id is not None} | set(queue_ids)
        self._queues: dict[int, list[str]] | None = None
        self._groups: dict[str, list[str]] = {}
        self._managers: list[str] | None = None

    def queue(self, queue_id: int) -> list[str]:
        if self._queues is None:
            self._queues = {}
            for qid, email in self.users.filter(queues__in=self.queue_ids).values_list(
                "queues", "email"
            ):
                self._queues.setdefault(qid, []).append(email)
        return self._queues.get(queue_id, [])

    def group(self, name: str) -> list[str]:
        if name not in self._groups:
            self._groups[name] = list(
                self.users.filter(groups__name=name).values_list("email", flat=True)
            )
        return self._groups[name]

    def managers(self) -> list[str]:
        if self._managers is None:
            self._managers = emails.support_manager_addresses()
        return self._managers

    def for_ticket(
        self, ticket: Ticket, notify: Iterable[str], *, queue_id: int | None = None
    ) -> list[str]:
        """`queue_id`: the queue the rule moved the ticket to (its agents are the ones to tell
        even when a later rung of the same batch moved the ticket further)."""
        found: list[str] = []
        queue_id = queue_id if queue_id is not None else ticket.queue_id
        for role in notify:
            if role == "assignee":
                if ticket.assignee is not None and ticket.assignee.email:
                    found.append(ticket.assignee.email)
            elif role == "queue":
                if queue_id is not None:
                    found += self.queue(queue_id)
            elif role == "customer_success_manager":
                manager = ticket.organization.customer_success_manager
                if manager is not None and manager.email:
                    found.append(manager.email)
            elif role == "support_managers":
                found += self.managers()
            elif role.startswith("group:"):
                found += self.group(role.removeprefix("group:"))
            elif role.startswith("email:"):
                found.append(role.removeprefix("email:"))
        return sorted(set(found))


def handle_escalations(actions: list[EscalationAction]) -> dict[int, EscalationOutcome]:
    """The sweep's batch, in a fixed number of queries whatever its size: the tickets, the
    queues named, the people behind the roles, the contracts, one UPDATE for the moves, one
    INSERT of events and one of outgoing notifications. The sweep holds the tickets' locks."""
    tickets = Ticket.objects.select_related(
        "assignee", "organization__customer_success_manager", "queue"
    ).in_bulk({a.ticket_id for a in actions})
    now = timing.now()
    moved: dict[int, Queue] = {}
    if slugs := {a.move_to for a in actions if a.move_to}:
        queues = {q.slug: q for q in Queue.objects.filter(slug__in=slugs)}
        moves = []
        for action in actions:
            queue = queues.get(action.move_to)
            if queue is not None:
                ticket = tickets[action.ticket_id]
                moves.append((ticket, queue, f"SLA rule: {action.rule_text}"))
                moved[action.firing_id] = queue
        tickets_move_by_rules(moves=moves, at=now)
    recipients = Recipients(tickets.values(), {queue.pk for queue in moved.values()})
    contracts = contracts_for(tickets.values())
    outcomes: dict[int, EscalationOutcome] = {}
    events: list[dict[str, Any]] = []  # named values: thousands of rows a batch
    notices: list[Notice] = []
    for action in actions:
        ticket = tickets[action.ticket_id]
        queue = moved.get(action.firing_id)
        resolution = resolve_recipients(
            recipients,
            ticket,
            action.notify,
            queue_id=queue.pk if queue else None,
            contract=contracts.get(ticket.organization_id),
        )
        to = resolution.to
        moved_to = queue.slug if queue else ""
        outcomes[action.firing_id] = EscalationOutcome(
            notified=to,
            moved_to=moved_to,
            fell_back=resolution.fell_back,
            fallback_reason=resolution.reason,
        )
        if resolution.fell_back:
            events.append(
                {
                    "ticket_id": ticket.pk,
                    "kind": TicketEvent.Kind.ESCALATION_FELL_BACK.value,
                    "at": now,
                    "summary": (
                        f"Escalation fell back to the support managers: {action.rule_text}"[:300]
                    ),
                    "reason": resolution.reason,
                    "data": {"notified": to, "metric": action.metric},
                    "customer_visible": False,
                }
            )
        events.append(
            {
                "ticket_id": ticket.pk,
                "kind": TicketEvent.Kind.SLA_ESCALATED.value,
                "at": now,
                "summary": (
                    f"Escalated{' (late)' if action.late else ''}: {action.rule_text}"[:300]
                ),
                "data": {"notified": to, "moved_to": moved_to, "metric": action.metric},
                "customer_visible": False,
            }
        )
        if to:
            notices.append(
                emails.sla_escalation(
                    firing_id=action.firing_id,
                    ticket_id=ticket.pk,
                    to=to,
                    rule=action.rule_text,
                    metric=action.metric,
                    late=action.late,
                    due_at=action.due_at.isoformat() if action.due_at else None,
                )
            )
    insert_rows(TicketEvent, events)
    # In the sweep's transaction: the firing, its event and its mails commit together.
    record_many(notices)
    return outcomes
