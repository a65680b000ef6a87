"""Customers' requests: post-incident reports and escalations (and their review)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from helpdesk import timing
from helpdesk.db import retry_on_conflict
from tickets import emails
from tickets.entitlements import (
    can_request_escalation,
    can_request_post_incident_report,
)
from tickets.models import (
    CustomerEscalation,
    Ticket,
)
from tickets.services._common import (
    Event,
    check_length,
    levels_text,
    locked,
    log_event,
    require_agent,
    require_open,
    required_text,
    touch,
)

# -- customers' requests ----------------------------------------------------------------------


@retry_on_conflict
@transaction.atomic
def ticket_request_post_incident_report(*, ticket: Ticket, by: User) -> Ticket:
    ticket = locked(ticket)
    if not can_request_post_incident_report(plan=ticket.plan, severity_level=ticket.severity.level):
        raise ValidationError(
            f"The {ticket.plan} plan offers post-incident reports for severity "
            f"{levels_text(ticket.plan.post_incident_report_levels)} only."
        )
    if ticket.post_incident_report_requested_at is not None:
        return ticket
    now = timing.now()
    ticket.post_incident_report_requested_at = now
    touch(ticket, now, "post_incident_report_requested_at")
    log_event(ticket, Event.PIR_REQUESTED, "Post-incident report requested", actor=by, at=now)
    return ticket


@retry_on_conflict
@transaction.atomic
def ticket_request_escalation(*, ticket: Ticket, by: User, reason: str) -> CustomerEscalation:
    """The customer asks for an escalation (Vmoso priorities 2-4); support managers hear."""
    reason = required_text(reason, "reason", "Tell us why the ticket needs escalating.")
    check_length(reason, field="reason", label="The reason")
    ticket = locked(ticket)
    require_open(ticket, "escalate it")
    if not can_request_escalation(plan=ticket.plan, severity_level=ticket.severity.level):
        raise ValidationError(
            f"The {ticket.plan} plan offers escalation on request for severity "
            f"{levels_text(ticket.plan.customer_escalation_levels)} only."
        )
    now = timing.now()
    escalation = CustomerEscalation.objects.create(
        ticket=ticket,
        organization_id=ticket.organization_id,
        requested_by=by,
        reason=reason,
        requested_at=now,
    )
    touch(ticket, now)
    event = log_event(
        ticket,
        Event.ESCALATION_REQUESTED,
        "Customer requested an escalation",
        actor=by,
        at=now,
        reason=reason,
        data={"escalation": escalation.pk},
    )
    emails.customer_escalation(event=event, escalation=escalation)
    return escalation


@retry_on_conflict
@transaction.atomic
def escalation_mark_unwarranted(
    *, escalation: CustomerEscalation, by: User, note: str = ""
) -> CustomerEscalation:
    require_agent(by)
    escalation = CustomerEscalation.objects.select_for_update().get(pk=escalation.pk)
    if escalation.unwarranted:
        return escalation
    now = timing.now()
    escalation.unwarranted = True
    escalation.reviewed_by = by
    escalation.reviewed_at = now
    escalation.review_note = note
    escalation.save(update_fields=["unwarranted", "reviewed_by", "reviewed_at", "review_note"])
    log_event(
        escalation.ticket,
        Event.ESCALATION_UNWARRANTED,
        "Escalation marked unwarranted",
        actor=by,
        at=now,
        reason=note,
        customer_visible=False,
    )
    # Repeated unwarranted escalations: the customer is warned once per period that charges
    # will be levied (imported here: the billing rules import this package's models).
    from tickets.unwarranted import warn_if_due  # noqa: PLC0415

    warn_if_due(escalation=escalation)
    return escalation
