"""Time logged on tickets (it draws on support-hour packages)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.contrib.auth.models import User
from django.db import transaction

from helpdesk import queue, timing
from helpdesk.db import retry_on_conflict
from plans.selectors import contract_active
from tickets.models import (
    Ticket,
    TimeEntry,
)
from tickets.services._common import (
    Event,
    log_event,
    require_agent,
)

# -- time -------------------------------------------------------------------------------------


@retry_on_conflict
@transaction.atomic
def time_entry_log(
    *,
    ticket: Ticket,
    agent: User,
    minutes: int,
    date: dt.date | None = None,
    billable: bool = True,
    note: str = "",
) -> TimeEntry:
    require_agent(agent)
    now = timing.now()
    if date is None:
        date = now.astimezone(zoneinfo.ZoneInfo(ticket.organization.time_zone)).date()
    entry = TimeEntry(
        ticket=ticket,
        agent=agent,
        date=date,
        minutes=minutes,
        billable=billable,
        note=note,
        created_at=now,
    )
    entry.full_clean()
    entry.save()
    log_event(
        ticket,
        Event.TIME_LOGGED,
        f"{minutes} min logged",
        actor=agent,
        at=now,
        customer_visible=False,
        data={"minutes": minutes, "billable": billable},
    )
    # Support-hours warnings (80% / 100% of the period) are checked by a worker after commit.
    contract = contract_active(organization=ticket.organization)
    if billable and contract is not None and contract.plan.monthly_support_hours is not None:
        contract_id = contract.pk
        transaction.on_commit(
            lambda: queue.enqueue(
                "tickets.hours.tasks.hours_check_warnings", contract_id=contract_id
            )
        )
    return entry
