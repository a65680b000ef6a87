"""Phone calls and chats an agent records on behalf of a named contact: a new ticket (whose
clocks start at the call's time) or a message on an existing one, under the plan's channels."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from plans.models import Channel, NamedContact, TicketCategory
from tickets.entitlements import allowed_channels
from tickets.models import LoggedContact, Ticket
from tickets.services._common import Event, log_event, require_agent, required_text
from tickets.services.submission import ticket_create, ticket_reply

LOGGABLE_CHANNELS = (Channel.PHONE, Channel.CHAT)
# A call logged later than this is better entered as what it is now: a new request.
MAX_AGE = dt.timedelta(days=7)


@transaction.atomic
def contact_log(
    *,
    agent: User,
    contact_user: User,
    channel: str,
    occurred_at: dt.datetime,
    body: str,
    ticket: Ticket | None = None,
    subject: str = "",
    severity_level: int | None = None,
    category: TicketCategory | None = None,
) -> LoggedContact:
    """Record a call or chat: a new ticket when `ticket` is None, else a message on it.

    The plan's channel entitlements apply as for any submission (phone only where the plan
    includes it); a new ticket's SLA clocks start at `occurred_at`.
    """
    require_agent(agent)
    body = required_text(body, "body", "Write what the customer said.")
    if channel not in LOGGABLE_CHANNELS:
        raise ValidationError({"channel": "Log a phone call or a chat."})
    now = timezone.now()
    if occurred_at > now + dt.timedelta(minutes=1):
        raise ValidationError({"occurred_at": "The call cannot be in the future."})
    if occurred_at < now - MAX_AGE:
        raise ValidationError({"occurred_at": "Calls older than a week cannot be logged."})
    contact = NamedContact.objects.select_related("organization").filter(user=contact_user).first()
    if contact is None:
        raise ValidationError({"contact": f"{contact_user} is not a named support contact."})
    label = Channel(channel).label
    if ticket is None:
        subject = required_text(subject, "subject", "Give the request a subject.")
        if severity_level is None:
            raise ValidationError({"severity_level": "Choose the severity."})
        ticket = ticket_create(
            requester=contact_user,
            subject=subject,
            body=body,
            severity_level=severity_level,
            category=category,
            channel=channel,
            opened_at=occurred_at,
        )
        message = ticket.messages.get()
        opened = True
    else:
        if ticket.organization_id != contact.organization_id:
            raise ValidationError(
                {"contact": f"{contact_user} is not a named contact of {ticket.organization}."}
            )
        channels = allowed_channels(plan=ticket.plan, category=ticket.category)
        if channel not in channels:
            raise ValidationError(
                {
                    "channel": f"The {channel} channel is not part of this plan "
                    f"(allowed: {', '.join(channels) or 'none'})."
                }
            )
        message = ticket_reply(ticket=ticket, author=contact_user, body=body, channel=channel)
        opened = False
    logged = LoggedContact(
        channel=channel,
        contact=contact_user,
        occurred_at=occurred_at,
        ticket=ticket,
        message=message,
        opened_ticket=opened,
        recorded_by=agent,
        recorded_at=now,
    )
    logged.full_clean()
    logged.save()
    log_event(
        ticket,
        Event.CONTACT_LOGGED,
        f"{label} with {contact_user.get_username()} logged by {agent.get_username()}",
        actor=agent,
        at=now,
        data={"channel": channel, "occurred_at": occurred_at.isoformat(), "opened": opened},
        customer_visible=False,
    )
    return logged
