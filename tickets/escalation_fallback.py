"""A ladder never loses a rung silently: who a rule's roles reach, or the support managers.

`resolve_recipients` resolves each role a rule names on its own. A role that reaches nobody (no
customer success manager recorded, an empty or inactive group, a ticket without an assignee, a
queue without agents) is replaced by the support managers, and the reason is kept so the firing,
the ticket's event log, the admin and the SLA report can say why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from plans.selectors import contract_person, contracts_in_force

if TYPE_CHECKING:  # the handler passes its batch helper; importing it here would be circular
    from tickets.escalations import Recipients
    from tickets.models import Ticket


@dataclass(frozen=True)
class Resolution:
    to: list[str]
    fell_back: bool = False
    reason: str = ""


def contracts_for(tickets: Iterable[Ticket]) -> dict[int, Any]:
    """The contract in force today for each ticket's organization (one query)."""
    ids = sorted({ticket.organization_id for ticket in tickets})
    return contracts_in_force(organization_ids=ids, on=timezone.now().date())


def _usable(user: Any) -> bool:
    return user is not None and user.is_active and bool(user.email)


def _csm(ticket: Ticket, contract: Any) -> tuple[list[str], str]:
    organization = ticket.organization
    person = contract_person(
        contract=contract, organization=organization, role="customer_success_manager"
    )
    if person is None:
        return [], f"{organization} has no customer success manager recorded"
    if not _usable(person):
        state = "is inactive" if not person.is_active else "has no email address"
        return [], f"{organization}'s customer success manager {person.get_username()} {state}"
    return [person.email], ""


def _why_nobody(role: str, ticket: Ticket, queue_id: int | None) -> str:
    if role == "assignee":
        if ticket.assignee is None:
            return "the ticket has no assignee"
        return f"the assignee {ticket.assignee.get_username()} is inactive or has no email"
    if role == "queue":
        return "the ticket is in no queue" if queue_id is None else "its queue has no active agents"
    if role == "support_managers":
        return "there is no active support manager"
    if role.startswith("group:"):
        return f"group {role.removeprefix('group:')!r} has no active member with an email"
    return f"{role} reached nobody"


def resolve_recipients(
    recipients: Recipients,
    ticket: Ticket,
    notify: Iterable[str],
    *,
    queue_id: int | None = None,
    contract: Any = None,
) -> Resolution:
    """Addresses for every role of `notify`; the support managers for each role that reached
    nobody, with the reasons joined."""
    found: list[str] = []
    missing: list[str] = []
    for role in notify:
        if role == "customer_success_manager":
            addresses, why = _csm(ticket, contract)
        else:
            addresses = recipients.for_ticket(ticket, [role], queue_id=queue_id)
            if role == "assignee" and ticket.assignee is not None and not ticket.assignee.is_active:
                addresses = []
            why = "" if addresses else _why_nobody(role, ticket, queue_id)
        if addresses:
            found += addresses
        else:
            missing.append(f"{role}: {why}")
    if not missing:
        return Resolution(sorted(set(found)))
    managers = recipients.managers()
    found += managers
    tail = "told the support managers instead" if managers else "and no support manager to tell"
    return Resolution(sorted(set(found)), True, f"{'; '.join(missing)}; {tail}"[:300])
