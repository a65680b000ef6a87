"""Conditions on support that the ticket services enforce.

- An unmet contract condition that withholds technical support (OpenBack: "will not provide any
  technical support to customers who do not include the OpenBack provided SDK") refuses new
  tickets, quoting the policy; the limit to the base plan is applied by `effective_plan`.
- A ticket whose target row keeps a resource "assigned until resolution" (Prismic SLA
  categories 1 and 2) cannot lose its assignee while it is open.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from plans.models import Contract
from plans.selectors import support_refused
from sla.models import Target
from tickets.models import Ticket


def check_support_conditions(*, contract: Contract) -> None:
    """Refuse a new ticket while a condition withholding support is unmet."""
    refused = support_refused(contract=contract)
    if refused:
        state = refused[0]
        words = state.condition.description or state.condition.name
        raise ValidationError(
            f"Support is not available to {contract.organization}: the condition "
            f"\u201c{state.condition.name}\u201d is recorded as not met. The policy: {words}"
        )


def assignee_required_reason(*, ticket: Ticket) -> str:
    """Why the ticket must keep an assignee until resolved; empty when it need not."""
    if not ticket.is_open:
        return ""
    rows = {
        row.category_id: row
        for row in Target.objects.filter(plan_id=ticket.plan_id, severity_id=ticket.severity_id)
    }
    row = rows.get(ticket.category_id) if ticket.category_id else None
    row = row or rows.get(None)
    if row is None or not row.assigned_until_resolved:
        return ""
    return (
        f"Severity {ticket.severity.level} tickets of the {ticket.plan} plan keep a resource "
        "assigned until resolution; assign someone else instead, or resolve the ticket first."
    )
