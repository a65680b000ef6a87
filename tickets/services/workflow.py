"""Agents' moves: assign, acknowledge, tiers, status, resolve, close, reopen, severity."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from helpdesk import timing
from helpdesk.db import bulk_insert, bulk_set, retry_on_conflict
from plans.models import Severity
from sla import services as sla
from tickets import emails
from tickets.conditions import assignee_required_reason
from tickets.models import (
    Queue,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.queue_order import rank_of
from tickets.services._common import (
    Event,
    levels_text,
    locked,
    log_event,
    require_agent,
    require_open,
    required_text,
    touch,
)

# -- agents' moves ----------------------------------------------------------------------------


@retry_on_conflict
@transaction.atomic
def ticket_assign(*, ticket: Ticket, assignee: User | None, by: User) -> Ticket:
    require_agent(by)
    if assignee is not None:
        require_agent(assignee)
    ticket = locked(ticket)
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    if assignee is None and (reason := assignee_required_reason(ticket=ticket)):
        raise ValidationError({"assignee": reason})
    now = timing.now()
    ticket.assignee = assignee
    touch(ticket, now, "assignee")
    name = assignee.get_username() if assignee else "nobody"
    log_event(
        ticket,
        Event.ASSIGNED,
        f"Assigned to {name}",
        actor=by,
        at=now,
        data={"assignee": assignee.pk if assignee else None},
        customer_visible=False,
    )
    if assignee is not None:
        sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.AGENT_ACTION, at=now)
    return ticket


@retry_on_conflict
@transaction.atomic
def ticket_acknowledge(*, ticket: Ticket, by: User) -> Ticket:
    require_agent(by)
    ticket = locked(ticket)
    require_open(ticket, "acknowledge it")
    now = timing.now()
    fields = []
    if ticket.status == Status.NEW:
        ticket.status = Status.ACKNOWLEDGED
        fields.append("status")
    if ticket.assignee_id is None:
        ticket.assignee = by
        fields.append("assignee")
    touch(ticket, now, *fields)
    event = log_event(
        ticket, Event.ACKNOWLEDGED, "Support acknowledged the ticket", actor=by, at=now
    )
    sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.AGENT_ACTION, at=now)
    if "status" in fields:
        emails.status_changed(event=event)
    return ticket


@retry_on_conflict
@transaction.atomic
def ticket_move_to_queue(
    *, ticket: Ticket, queue: Queue, by: User | None, reason: str = ""
) -> Ticket:
    """Move to a tier. `by` is None when an SLA escalation rule moves it."""
    if by is not None:
        require_agent(by)
    ticket = locked(ticket)
    if ticket.queue_id == queue.pk:
        return ticket
    now = timing.now()
    before = ticket.queue.name if ticket.queue is not None else "no queue"
    ticket.queue = queue
    touch(ticket, now, "queue")
    log_event(
        ticket,
        Event.QUEUE,
        f"Moved from {before} to {queue.name}",
        actor=by,
        at=now,
        reason=reason,
        data={"queue": queue.slug},
        customer_visible=False,
    )
    return ticket


def tickets_move_by_rules(*, moves: list[tuple[Ticket, Queue, str]], at: dt.datetime) -> None:
    """SLA rules move many tickets at once: `(ticket, queue, reason)` in the order the rules
    fired, each ticket loaded with its queue and already locked by the caller (the sweep locks
    its tickets before their clocks). One UPDATE and one INSERT of events for the whole batch;
    a ticket already in the queue stays, and a later move of the same ticket wins."""
    events: list[TicketEvent] = []
    moved: dict[int, Ticket] = {}
    for ticket, queue, reason in moves:
        if ticket.queue_id == queue.pk:
            continue
        before = ticket.queue.name if ticket.queue is not None else "no queue"
        ticket.queue = queue
        ticket.updated_at = at
        moved[ticket.pk] = ticket
        events.append(
            TicketEvent(
                ticket=ticket,
                kind=Event.QUEUE,
                at=at,
                summary=f"Moved from {before} to {queue.name}"[:300],
                reason=reason,
                data={"queue": queue.slug},
                customer_visible=False,
            )
        )
    bulk_set(list(moved.values()), ["queue", "updated_at"])
    bulk_insert(events)


@retry_on_conflict
@transaction.atomic
def ticket_set_status(*, ticket: Ticket, status: str, by: User, reason: str = "") -> Ticket:
    """An agent moves an open ticket to in progress or waiting on customer."""
    require_agent(by)
    if status not in (Status.IN_PROGRESS, Status.WAITING, Status.ACKNOWLEDGED):
        raise ValidationError({"status": "Use resolve, close or reopen for that."})
    ticket = locked(ticket)
    require_open(ticket, "change its status")
    if ticket.status == status:
        return ticket
    now = timing.now()
    before = ticket.status
    ticket.status = status
    touch(ticket, now, "status")
    kind = Event.WAITING if status == Status.WAITING else Event.STATUS
    event = log_event(
        ticket,
        kind,
        f"Status: {Status(before).label} → {Status(status).label}",
        actor=by,
        at=now,
        reason=reason,
        data={"from": before, "to": status},
    )
    sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.AGENT_ACTION, at=now)
    if status == Status.WAITING:
        sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.WAITING, at=now)
    elif before == Status.WAITING:
        sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.CUSTOMER_REPLIED, at=now)
    emails.status_changed(event=event, reason=reason)
    return ticket


@retry_on_conflict
@transaction.atomic
def ticket_resolve(*, ticket: Ticket, by: User, note: str = "", notify: bool = True) -> Ticket:
    """Resolve; `notify=False` when the caller tells the customer itself (a release)."""
    require_agent(by)
    ticket = locked(ticket)
    require_open(ticket, "resolve it")
    now = timing.now()
    ticket.status = Status.RESOLVED
    ticket.resolved_at = now
    touch(ticket, now, "status", "resolved_at")
    event = log_event(ticket, Event.RESOLVED, "Resolved", actor=by, at=now, reason=note)
    sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.AGENT_ACTION, at=now)
    sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.RESOLVED, at=now)
    if notify:
        emails.status_changed(event=event, reason=note)
    return ticket


@retry_on_conflict
@transaction.atomic
def ticket_close(*, ticket: Ticket, by: User) -> Ticket:
    """Close for good: a resolved ticket confirmed, or one the customer withdraws."""
    ticket = locked(ticket)
    if ticket.status == Status.CLOSED:
        return ticket
    now = timing.now()
    was_open = ticket.is_open
    ticket.status = Status.CLOSED
    touch(ticket, now, "status")
    event = log_event(ticket, Event.CLOSED, "Closed", actor=by, at=now)
    if was_open:
        sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.WITHDRAWN, at=now)
    emails.status_changed(event=event, actor=by)
    return ticket


@retry_on_conflict
@transaction.atomic
def ticket_close_out_of_scope(*, ticket: Ticket, by: User, reason: str) -> Ticket:
    """Close a request support does not cover, with the policy's own words as the reason."""
    require_agent(by)
    reason = required_text(reason, "reason", "Give the reason from the policy.")
    ticket = locked(ticket)
    require_open(ticket, "close it as out of scope")
    now = timing.now()
    ticket.status = Status.CLOSED
    ticket.out_of_scope_reason = reason[:300]
    touch(ticket, now, "status", "out_of_scope_reason")
    event = log_event(
        ticket, Event.OUT_OF_SCOPE, "Closed as out of scope", actor=by, at=now, reason=reason
    )
    sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.WITHDRAWN, at=now)
    emails.status_changed(event=event, reason=reason)
    return ticket


@retry_on_conflict
@transaction.atomic
def ticket_reopen(*, ticket: Ticket, by: User, reason: str = "") -> Ticket:
    ticket = locked(ticket)
    if ticket.is_open:
        return ticket
    if ticket.out_of_scope_reason:
        raise ValidationError(
            "A request closed as out of scope cannot be reopened; "
            "open a new ticket if something else is wrong."
        )
    now = timing.now()
    ticket.status = Status.IN_PROGRESS if ticket.assignee_id else Status.NEW
    ticket.resolved_at = None
    touch(ticket, now, "status", "resolved_at")
    event = log_event(ticket, Event.REOPENED, "Reopened", actor=by, at=now, reason=reason)
    sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.REOPENED, at=now)
    emails.status_changed(event=event, reason=reason, actor=by)
    return ticket


@retry_on_conflict
@transaction.atomic
def ticket_change_severity(*, ticket: Ticket, level: int, by: User, reason: str) -> Ticket:
    """Support changes the severity with a reason the customer sees; clocks are retargeted from
    their original start."""
    require_agent(by)
    reason = required_text(reason, "reason", "Say why the severity changes; the customer sees it.")
    ticket = locked(ticket)
    severity = Severity.objects.filter(policy_id=ticket.plan.policy_id, level=level).first()
    if severity is None:
        raise ValidationError({"severity": f"The {ticket.plan} plan has no severity {level}."})
    if (
        ticket.category is not None
        and ticket.category.severity_levels
        and (level not in ticket.category.severity_levels)
    ):
        raise ValidationError(
            {
                "severity": f"{ticket.category.name} takes severity "
                f"{levels_text(ticket.category.severity_levels)} only."
            }
        )
    if severity.pk == ticket.severity_id:
        return ticket
    now = timing.now()
    before = ticket.severity
    ticket.severity = severity
    ticket.queue_rank = rank_of(ticket)
    ticket.severity_clarification = ""
    touch(ticket, now, "severity", "queue_rank", "severity_clarification")
    event = log_event(
        ticket,
        Event.SEVERITY,
        f"Severity changed from {before.level} ({before.name}) to {severity.level} "
        f"({severity.name})",
        actor=by,
        at=now,
        reason=reason,
        data={"from": before.level, "to": severity.level},
    )
    sla.clock_on_ticket_event(
        ticket=ticket, event=sla.TicketEvent.SEVERITY_CHANGED, at=now, reason=reason
    )
    emails.status_changed(event=event, reason=reason, change="severity")
    return ticket


@retry_on_conflict
@transaction.atomic
def ticket_request_clarification(*, ticket: Ticket, by: User, question: str) -> Ticket:
    """Support asks the customer to explain the severity they chose (Vmoso)."""
    require_agent(by)
    question = required_text(question, "question", "Ask the question the customer should answer.")
    ticket = locked(ticket)
    if not ticket.plan.policy.severity_clarification:
        raise ValidationError("This policy does not provide for severity clarification.")
    now = timing.now()
    ticket.severity_clarification = question
    touch(ticket, now, "severity_clarification")
    event = log_event(
        ticket,
        Event.CLARIFICATION,
        "Support asked to clarify the severity",
        actor=by,
        at=now,
        reason=question,
    )
    emails.status_changed(event=event, reason=question, change="clarification")
    return ticket
