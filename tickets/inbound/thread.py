"""A ticket's email thread: the Message-IDs we send and receive, and how a reply finds its ticket.

`mail_headers(ticket=...)` gives an outgoing ticket mail its headers (Message-ID, In-Reply-To,
References, Reply-To) and records the Message-ID on the ticket, so the customer's reply, whose
In-Reply-To or References names it, lands on that ticket. Every thread also starts from a
synthetic root `<HD-000123@domain>` that every mail references, so a reply still finds the
ticket when a mail client keeps only the first reference.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Iterable
from email.utils import parseaddr

from django.conf import settings
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from tickets.models import REFERENCE_PREFIX, Ticket, TicketMailThread

REFERENCE = re.compile(rf"\b{re.escape(REFERENCE_PREFIX)}(\d{{6,}})\b", re.IGNORECASE)
MAX_REFERENCES = 10


def support_address() -> str:
    return _address(settings.SUPPORT_EMAIL)


@functools.lru_cache(maxsize=8)
def _address(setting: str) -> str:
    """The bare address of `SUPPORT_EMAIL` (parsed once per value: every outgoing mail asks)."""
    return parseaddr(setting)[1] or setting


def domain() -> str:
    return support_address().rpartition("@")[2] or "helpdesk.invalid"


def root_id(ticket: Ticket) -> str:
    return f"<{ticket.reference}@{domain()}>"


def thread_record(*, ticket: Ticket, message_id: str, outgoing: bool) -> None:
    """Remember a Message-ID of the ticket's thread (idempotent: one INSERT that does nothing
    when the id is known, whoever recorded it)."""
    TicketMailThread.objects.bulk_create(
        [
            TicketMailThread(
                ticket=ticket, message_id=message_id, outgoing=outgoing, created_at=timezone.now()
            )
        ],
        ignore_conflicts=True,
    )


def mail_headers(*, ticket: Ticket, key: str = "", reply_to: str = "") -> dict[str, str]:
    """Headers for one outgoing mail about `ticket`; its Message-ID is recorded on the thread.

    `key` makes the Message-ID stable (the id of an outgoing-notification row, say), so a
    re-sent copy carries the same id; without it each call makes a new one.
    """
    message_id = outgoing_message_id(ticket, key or secrets.token_hex(8))
    earlier = list(
        TicketMailThread.objects.filter(ticket=ticket)
        .exclude(message_id=message_id)
        .order_by("-created_at", "-id")
        .values_list("message_id", flat=True)[: MAX_REFERENCES - 1]
    )
    earlier.reverse()
    thread_record(ticket=ticket, message_id=message_id, outgoing=True)
    return headers_for(ticket, message_id, earlier, reply_to=reply_to)


def outgoing_message_id(ticket: Ticket, key: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9.-]", "-", key)
    return f"<{ticket.reference}.{safe}@{domain()}>"


def headers_for(
    ticket: Ticket, message_id: str, recent: list[str], *, reply_to: str = ""
) -> dict[str, str]:
    """The headers of a mail with this Message-ID that follows `recent` (the thread's latest
    Message-IDs, oldest first; its own id, if there, is left out)."""
    earlier = [found for found in recent if found != message_id][-(MAX_REFERENCES - 1) :]
    references = [root_id(ticket), *earlier]
    return {
        "Message-ID": message_id,
        "In-Reply-To": references[-1],
        "References": " ".join(references),
        "Reply-To": reply_to or support_address(),
        "X-Helpdesk-Ticket": ticket.reference or "",
    }


def recent_ids(ticket_ids: Iterable[int]) -> dict[int, list[str]]:
    """The latest Message-IDs of each ticket's thread (oldest first, enough for `headers_for`),
    for a batch of mails, in one query."""
    latest = Window(
        RowNumber(), partition_by=F("ticket_id"), order_by=[F("created_at").desc(), F("id").desc()]
    )
    rows = (
        TicketMailThread.objects.filter(ticket_id__in=set(ticket_ids))
        .annotate(latest=latest)
        .filter(latest__lte=MAX_REFERENCES)
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "message_id")
    )
    found: dict[int, list[str]] = {}
    for ticket_id, message_id in rows:
        found.setdefault(ticket_id, []).append(message_id)
    return found


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
