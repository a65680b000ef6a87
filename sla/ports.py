"""What `sla` reads of a ticket, as a Protocol: the tickets app's model satisfies it.

`sla` sits below `tickets` and never imports it, yet its services are handed a ticket
(`clocks_new`, `clock_on_ticket_event`). They read only its identity and the terms it is held
to: the plan, the severity, the category, and its organization (whose zone local business
hours follow).
"""

from __future__ import annotations

from typing import Protocol

from plans.models import Organization, Plan, Severity, TicketCategory


class SlaTicket(Protocol):
    """A ticket as `sla` sees it (read-only)."""

    @property
    def pk(self) -> int: ...

    @property
    def plan(self) -> Plan: ...

    @property
    def plan_id(self) -> int: ...

    @property
    def severity(self) -> Severity: ...

    @property
    def severity_id(self) -> int: ...

    @property
    def category(self) -> TicketCategory | None: ...

    @property
    def category_id(self) -> int | None: ...

    @property
    def organization(self) -> Organization: ...

    @property
    def organization_id(self) -> int: ...
