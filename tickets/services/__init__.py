"""Writes for tickets. Every change goes through one of these functions, logs a `TicketEvent`,
and tells the SLA clocks what happened through an explicit call (never a signal).

Conventions: keyword-only arguments, one transaction each (run again on a deadlock or a
serialization failure: `helpdesk.db.retry_on_conflict`), the ticket locked before its clocks,
and emails recorded as outgoing notifications in the same transaction (`tickets.emails`), sent
by a worker after the commit, so nothing is sent for a change that rolled back and nothing is
lost when a worker dies.
"""

from tickets.services._common import is_agent
from tickets.services.logged_contacts import contact_log
from tickets.services.requests import (
    escalation_mark_unwarranted,
    ticket_request_escalation,
    ticket_request_post_incident_report,
)
from tickets.services.submission import (
    attachment_add,
    check_attachment,
    ticket_create,
    ticket_reply,
)
from tickets.services.time_entries import time_entry_log
from tickets.services.workflow import (
    ticket_acknowledge,
    ticket_assign,
    ticket_change_severity,
    ticket_close,
    ticket_close_out_of_scope,
    ticket_move_to_queue,
    ticket_reopen,
    ticket_request_clarification,
    ticket_resolve,
    ticket_set_status,
    tickets_move_by_rules,
)

__all__ = [
    "attachment_add",
    "check_attachment",
    "contact_log",
    "escalation_mark_unwarranted",
    "is_agent",
    "ticket_acknowledge",
    "ticket_assign",
    "ticket_change_severity",
    "ticket_close",
    "ticket_close_out_of_scope",
    "ticket_create",
    "ticket_move_to_queue",
    "ticket_reopen",
    "ticket_reply",
    "ticket_request_clarification",
    "ticket_request_escalation",
    "ticket_request_post_incident_report",
    "ticket_resolve",
    "ticket_set_status",
    "tickets_move_by_rules",
    "time_entry_log",
]
