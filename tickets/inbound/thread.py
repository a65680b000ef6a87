"""A ticket's email thread: the Message-IDs we send and receive, and how a reply finds its ticket.

`mail_headers(ticket=...)` gives an outgoing ticket mail its headers (Message-ID, In-Reply-To,
References, Reply-To) and records the Message-ID on the ticket, so the customer's reply, whose
In-Reply-To or References names it, lands on that ticket. Every thread also starts from a
synthetic root `<HD-000123@domain>` that every mail references, so a reply still finds the
ticket when a mail client keeps only the first reference.
"""

from __future__ import annotations

import re
import secrets
from email.utils import parseaddr

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tickets.models import REFERENCE_PREFIX, Ticket, TicketMailThread

REFERENCE = re.compile(rf"\b{re.escape(REFERENCE_PREFIX)}(\d{{6,}})\b", re.IGNORECASE)
MAX_REFERENCES = 10


def support_address() -> str:
    return parseaddr(settings.SUPPORT_EMAIL)[1] or settings.SUPPORT_EMAIL


def domain() -> str:
    return support_address().rpartition("@")[2] or "helpdesk.invalid"


def root_id(ticket: Ticket) -> str:
    return f"<{ticket.reference}@{domain()}>"


def thread_record(*, ticket: Ticket, message_id: str, outgoing: bool) -> None:
    """Remember a Message-ID of the ticket's thread (idempotent)."""
    if TicketMailThread.objects.filter(message_id=message_id).exists():
        return
    try:
        with transaction.atomic():
            TicketMailThread.objects.create(
                ticket=ticket, message_id=message_id, outgoing=outgoing, created_at=timezone.now()
            )
    except IntegrityError:  # recorded meanwhile by another worker
        pass


def mail_headers(*, ticket: Ticket, key: str = "", reply_to: str = "") -> dict[str, str]:
    """Headers for one outgoing mail about `ticket`; its Message-ID is recorded on the thread.

    `key` makes the Message-ID stable (the id of an outgoing-notification row, say), so a
    re-sent copy carries the same id; without it each call makes a new one.
    """
    if key:
        safe = re.sub(r"[^A-Za-z0-9.-]", "-", key)
        message_id = f"<{ticket.reference}.{safe}@{domain()}>"
    else:
        message_id = f"<{ticket.reference}.{secrets.token_hex(8)}@{domain()}>"
    earlier = list(
        TicketMailThread.objects.filter(ticket=ticket)
        .exclude(message_id=message_id)
        .order_by("-created_at", "-id")
        .values_list("message_id", flat=True)[: MAX_REFERENCES - 1]
    )
    earlier.reverse()
    references = [root_id(ticket), *earlier]
    thread_record(ticket=ticket, message_id=message_id, outgoing=True)
    return {
        "Message-ID": message_id,
        "In-Reply-To": references[-1],
        "References": " ".join(references),
        "Reply-To": reply_to or support_address(),
        "X-Helpdesk-Ticket": ticket.reference or "",
    }


def ticket_for_references(references: list[str]) -> Ticket | None:
    """The ticket whose thread holds one of these Message-IDs (the newest reference first)."""
    if not references:
        return None
    rows = dict(
        TicketMailThread.objects.filter(message_id__in=references).values_list(
            "message_id", "ticket_id"
        )
    )
    ours = re.compile(
        rf"^<(?:[^@>]*\.)?({re.escape(REFERENCE_PREFIX)}\d+)(?:\.[^@>]*)?@{re.escape(domain())}>$",
        re.IGNORECASE,
    )
    for reference in references:
        if reference in rows:
            return Ticket.objects.get(pk=rows[reference])
        match = ours.match(reference)
        if match:
            ticket = Ticket.objects.filter(reference=match.group(1).upper()).first()
            if ticket is not None:
                return ticket
    return None


def ticket_for_subject(subject: str) -> Ticket | None:
    """The ticket whose reference (HD-000123) the subject names."""
    match = REFERENCE.search(subject)
    if match is None:
        return None
    return Ticket.objects.filter(reference=f"{REFERENCE_PREFIX}{match.group(1)}").first()
