"""Durable outgoing notifications: recorded with their cause, sent once, re-driven when lost.

1. `record_many` (registered as `helpdesk.mail`'s outbox) writes one `OutgoingNotification`
   per (cause, recipient) in the caller's transaction; a unique constraint makes a second row
   for the same pair impossible. After commit it enqueues `send_notifications` for each small
   batch of ids. Nothing is enqueued for a change that rolled back.
2. `send_notifications` sends a batch row by row. What the rows share is read once (the rows,
   their tickets, the tickets' latest thread Message-IDs) and the mails go through one backend
   connection (one SMTP session). Each row is *claimed* on its own: one UPDATE from `pending`
   and due (and as the batch read it) to `sending`, with a send id (kept for the row's life;
   it is the Message-ID, recorded on the ticket's thread in the same commit), committed
   *before* the message goes to the backend; of two workers holding the row, one wins. Then
   it is marked `sent` (only if still `sending` with that send id). An error puts it back to
   `pending` with a backoff, or `failed` after `MAX_ATTEMPTS`. Two commits per mail: the
   claim and the `sent` mark.
3. `redrive` (a django-q2 schedule, every minute) enqueues pending rows whose task was lost
   (the Redis broker drops a task its worker died with; a worker may die before its on-commit
   callback enqueues anything) and rows left `sending` longer than `STALE_AFTER`.

The `sending` state after a worker died is ambiguous: the message may or may not have reached
the mail server. We choose at-least-once for it: a row `sending` for longer than any live
worker can hold it (django-q2 kills a task after its timeout, 120 s; `STALE_AFTER` is 5 min) is
sent again, with the same Message-ID. The window in which that makes a copy is the one UPDATE
after the server accepted the message; the window in which at-most-once would lose a mail is
the whole render and SMTP conversation, much longer, and a lost escalation is the failure this
product exists to prevent. A copy carries the same Message-ID, so it is recognisable as one.
Every row is claimed alone just before its hand-off, so a dying worker leaves at most one row
in `sending`; the rest of its batch stays `pending` for the re-drive.

Grouping (issue 15: seven mails in 82 seconds for one ticket). A notice recorded as
`groupable` (a customer's ticket update: an agent's reply, a status or severity change) is held
for `NOTIFICATION_GROUP_WINDOW` seconds: its row gets a `group` and `send_after` (= its first
`next_attempt_at`) at the end of the window, and no task is enqueued for it. A further groupable
notice for the same ticket and recipient while that window is open joins the group with the
same `send_after`. The window runs from the first update, so a busy ticket's mail is never put
off for longer than one window. The `redrive` schedule (every minute) enqueues held rows at its
first run after their window closed, without the `REDRIVE_AFTER` grace (no task was lost: none
was enqueued). Claiming any row of a group claims every pending, due row of the group that
shares its send id (in one transaction, under row locks), and they are sent as one mail with one
Message-ID, then marked sent together; a failure retries them together. A group is "one row"
for everything said above: a dead worker's group is re-sent whole, with the same Message-ID. An
update that joins a group while a worker is claiming it is not in the claimed set; it stays
pending in the group and the next re-drive sends it alone (late, never lost). Everything not
groupable (escalations, invitations, password mails, auto-replies) is sent at once, as before.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from helpdesk import mail, metrics, queue
from helpdesk.db import insert_rows, retry_on_conflict
from tickets.inbound import thread
from tickets.models import DeliveryStatus, OutgoingNotification, Ticket

log = logging.getLogger(__name__)

BATCH = 50
MAX_ATTEMPTS = 5
BACKOFF = dt.timedelta(minutes=1)  # doubled after each failed attempt: 1, 2, 4, 8 minutes
STALE_AFTER = dt.timedelta(seconds=settings.NOTIFICATION_STALE_SECONDS)
# The template of a mail that carries several rows of one group (registered by tickets.emails).
GROUP_TEMPLATE = "ticket_updates"
# A pending row is re-driven once it has waited this long past its due instant: its on-commit
# task normally sends it within a second, so by then that task was lost.
REDRIVE_AFTER = dt.timedelta(seconds=settings.NOTIFICATION_REDRIVE_SECONDS)
REDRIVE_LIMIT = 2000


@dataclass(frozen=True)
class Notice:
    """A mail to record: the cause (kind and id), the template, who gets it, and its data."""

    cause: str
    cause_id: int
    name: str
    to: Iterable[str]
    data: Mapping[str, Any]
    # A ticket update that may wait for others of its ticket and go out with them as one mail.
    groupable: bool = False


def record(
    *,
    cause: str,
    cause_id: int,
    name: str,
    to: Iterable[str],
    data: Mapping[str, Any],
    groupable: bool = False,
) -> int:
    """`helpdesk.mail.Outbox`: record one cause's mails; returns the rows written."""
    return record_many([Notice(cause, cause_id, name, to, data, groupable)])


def record_many(notices: Iterable[Notice]) -> int:
    """One row per (cause, recipient), in one INSERT, sent in batches after commit; a
    groupable row is held to the end of its ticket and recipient's grouping window."""
    now = timezone.now()
    window = dt.timedelta(seconds=settings.NOTIFICATION_GROUP_WINDOW)
    groups: dict[tuple[int, str], tuple[uuid.UUID, dt.datetime]] = {}
    # Named values, not model instances: a sweep batch records thousands of rows.
    rows: list[dict[str, Any]] = []
    for notice in notices:
        ticket_id = notice.data.get("ticket_id")
        for address in sorted({a.strip() for a in notice.to if a and a.strip()}):
            send_after = now
            group = None
            if notice.groupable and window and ticket_id is not None:
                key = (ticket_id, address)
                if key not in groups:
                    found = open_group(ticket_id=ticket_id, recipient=address, now=now)
                    groups[key] = found or (uuid.uuid4(), now + window)
                group, send_after = groups[key]
            rows.append(
                {
                    "cause": notice.cause,
                    "cause_id": notice.cause_id,
                    "recipient": address,
                    "template": notice.name,
                    "data": dict(notice.data),
                    "ticket_id": ticket_id,
                    "created_at": now,
                    "send_after": send_after,
                    "next_attempt_at": send_after,
                    "group": group,
                }
            )
    if not rows:
        return 0
    keys = insert_rows(OutgoingNotification, rows)
    # Held rows wait for the re-drive.
    ids = [pk for pk, row in zip(keys, rows, strict=True) if row["next_attempt_at"] <= now]
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        transaction.on_commit(partial(enqueue, batch))
    return len(rows)


def open_group(
    *, ticket_id: int, recipient: str, now: dt.datetime
) -> tuple[uuid.UUID, dt.datetime] | None:
    """The group (and its send instant) still waiting for updates of this ticket to this
    recipient. Its first row is locked until the caller commits: a claim locks a group's rows
    in id order, so on PostgreSQL it waits there rather than take the group while an update
    joins it (on SQLite, writers are serialized anyway)."""
    waiting = OutgoingNotification.objects.filter(
        ticket_id=ticket_id,
        recipient=recipient,
        group__isnull=False,
        status=DeliveryStatus.PENDING,
        attempts=0,
        send_after__gt=now,
    )
    # Always inside the cause's transaction, except in a shell or test recording in autocommit.
    if transaction.get_connection().in_atomic_block:
        waiting = waiting.select_for_update()
    found = waiting.order_by("send_after", "pk").values_list("group", "send_after").first()
    return (found[0], found[1]) if found is not None and found[0] is not None else None


def enqueue(ids: list[int]) -> None:
    queue.enqueue("tickets.notifications.send_notifications", ids, task_name="send notifications")


def send_notifications(ids: list[int]) -> dict[str, int]:
    """The task: send each of these rows that is still pending and due. Safe to run any number
    of times, by any number of workers at once."""
    now = timezone.now()
    rows = {
        row.pk: row
        for row in OutgoingNotification.objects.filter(
            pk__in=ids, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        )
    }
    # A repeated id is skipped: its row was dealt with the first time.
    return dict(Counter(_send([rows.pop(pk, None) for pk in ids])))


def deliver(pk: int) -> str:
    """Claim, send and mark one row with the rest of its group: 'sent', 'retry', 'failed' or
    'skipped' (not ours)."""
    return _send([OutgoingNotification.objects.filter(pk=pk).first()])[0]


def _send(rows: list[OutgoingNotification | None]) -> list[str]:
    """Each row's outcome ('skipped' for None). What the rows share is read once: their tickets
    and the tickets' latest thread Message-IDs (a query each), and one connection to the mail
    backend (one SMTP session). Each row (with the rest of its group) is still claimed alone,
    committed, just before its hand-over, and marked sent just after it."""
    # Imported here: `tickets.emails` records its notices through this module.
    from tickets.emails import tickets_read_once  # noqa: PLC0415

    present = [row for row in rows if row is not None]
    with (
        tickets_read_once(row.ticket_id for row in present if row.ticket_id) as tickets,
        _Session() as session,
    ):
        threads = thread.recent_ids(tickets) if tickets else {}
        return [
            _deliver(row, session, tickets.get(row.ticket_id or 0), threads)
            if row is not None
            else "skipped"
            for row in rows
        ]


class _Session:
    """One connection to the mail backend for a batch (one SMTP session), opened at the first
    hand-over and again after a failure (a refused message may have broken the session)."""

    def __init__(self) -> None:
        self.connection: BaseEmailBackend | None = None

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> BaseEmailBackend:
        if self.connection is None:
            connection = get_connection()
            connection.open()
            self.connection = connection
        return self.connection

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # a broken session: the next hand-over opens a new one
                log.debug("closing the mail connection failed", exc_info=True)


def _deliver(
    row: OutgoingNotification,
    session: _Session,
    ticket: Ticket | None,
    threads: dict[int, list[str]],
) -> str:
    """`ticket`: the row's ticket, read with the batch; `threads`: its thread's latest ids."""
    rows = claim_rows(row, ticket=ticket)
    if not rows:
        return "skipped"
    head = rows[0]
    send_id = str(head.send_id)
    name, data = mail_of(rows)
    try:
        context = mail.build_context(name, data)
        headers = dict(context.pop("mail_headers", {}))
        shown = context.get("ticket")
        if isinstance(shown, Ticket):
            # Threading: a reply to this mail lands on the ticket; a resent copy keeps its id.
            if ticket is not None and shown.pk == ticket.pk:  # its id was recorded by the claim
                message_id = thread.outgoing_message_id(ticket, send_id)
                thread_headers = thread.headers_for(ticket, message_id, threads.get(ticket.pk, []))
                threads.setdefault(ticket.pk, []).append(message_id)
            else:
                thread_headers = thread.mail_headers(ticket=shown, key=send_id)
            headers = {**thread_headers, **headers}
        mail.send(
            name=name,
            context=context,
            to=[head.recipient],
            send_id=send_id,
            headers=headers,
            connection=session.open(),
        )
    except Exception as exc:
        session.close()
        return _attempt_failed(rows, exc)
    sent_at = timezone.now()
    OutgoingNotification.objects.filter(
        pk__in=[r.pk for r in rows], send_id=head.send_id, status=DeliveryStatus.SENDING
    ).update(status=DeliveryStatus.SENT, sent_at=sent_at)  # last_error stays: history
    due_at = head.data.get("due_at") if len(rows) == 1 else None
    metrics.observe_mail_sent(
        template=name,
        due_at=dt.datetime.fromisoformat(due_at) if due_at else None,
        sent_at=sent_at,
    )
    return "sent"


def mail_of(rows: list[OutgoingNotification]) -> tuple[str, dict[str, Any]]:
    """The template and data of the mail that carries these rows: a lone row's own, or the
    group's list of updates, oldest first."""
    if len(rows) == 1:
        return rows[0].template, dict(rows[0].data)
    return GROUP_TEMPLATE, {
        "ticket_id": rows[0].ticket_id,
        "recipient": rows[0].recipient,
        "updates": [
            {"template": row.template, "data": row.data, "at": row.created_at.isoformat()}
            for row in rows
        ],
    }


def claim(pk: int) -> list[OutgoingNotification]:
    """Claim one row by id with the rest of its group (see `claim_rows`)."""
    row = OutgoingNotification.objects.filter(pk=pk).first()
    return claim_rows(row) if row is not None else []


def claim_rows(
    row: OutgoingNotification, *, ticket: Ticket | None = None
) -> list[OutgoingNotification]:
    """The rows claimed for the mail that carries `row`: `row` alone (`claim_row`), or the
    pending, due rows of its group (`claim_group`); none when another worker had them. With
    `ticket`, the mail's Message-ID joins the ticket's thread in the claim's commit."""
    if row.group is None:
        return [row] if claim_row(row, ticket=ticket) else []
    return claim_group(row.pk, ticket=ticket)


@retry_on_conflict
def claim_row(row: OutgoingNotification, *, ticket: Ticket | None = None) -> bool:
    """Mark the row `sending` (with a send id, one more attempt) in one UPDATE, committed
    before anything is handed over, and only if it is still pending, due and as it was read
    (its attempts and send id): of several workers holding the same row, one wins (on
    PostgreSQL a second UPDATE waits for the first to commit, then finds the row taken).
    With `ticket`, the mail's Message-ID joins the ticket's thread in the same commit.
    Updates `row` to what was written; False when another worker had it."""
    now = timezone.now()
    send_id = row.send_id or uuid.uuid4()
    with transaction.atomic() if ticket is not None else nullcontext():
        won = OutgoingNotification.objects.filter(
            pk=row.pk,
            status=DeliveryStatus.PENDING,
            next_attempt_at__lte=now,
            attempts=row.attempts,
            send_id=row.send_id,
        ).update(
            status=DeliveryStatus.SENDING,
            send_id=send_id,
            attempts=row.attempts + 1,
            claimed_at=now,
        )
        if won and ticket is not None:
            message_id = thread.outgoing_message_id(ticket, str(send_id))
            thread.thread_record(ticket=ticket, message_id=message_id, outgoing=True)
    if not won:
        return False
    row.status, row.send_id, row.attempts, row.claimed_at = (
        DeliveryStatus.SENDING,
        send_id,
        row.attempts + 1,
        now,
    )
    return True


@retry_on_conflict
def claim_group(pk: int, *, ticket: Ticket | None = None) -> list[OutgoingNotification]:
    """Mark the row `sending` under a row lock, with every pending, due row of its group that
    shares its send id, and commit, before anything is handed over. Returns the claimed rows,
    oldest first (none: the row is not pending and due, or another worker has it).

    A group's rows are locked together, in id order, waiting for a worker that holds any of
    them: skipping would let two workers that took two rows of one group at once split it into
    two mails. The wait is one claim's short transaction; afterwards the rows are `sending` and
    not matched. With `ticket`, the mail's Message-ID joins the ticket's thread in this commit."""
    now = timezone.now()
    claimable = OutgoingNotification.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=now
    )
    with transaction.atomic():
        found = claimable.filter(pk=pk).values_list("group", "send_id").first()
        if found is None:
            return []
        group, send_id = found
        rows = list(
            claimable.select_for_update().filter(group=group, send_id=send_id).order_by("pk")
        )
        rows.sort(key=lambda r: (r.created_at, r.pk))
        if pk not in {row.pk for row in rows}:
            return []  # claimed meanwhile by another worker
        send_id = send_id or uuid.uuid4()
        OutgoingNotification.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=DeliveryStatus.SENDING,
            send_id=send_id,
            attempts=F("attempts") + 1,
            claimed_at=now,
        )
        for claimed in rows:
            claimed.status = DeliveryStatus.SENDING
            claimed.send_id = send_id
            claimed.attempts += 1
            claimed.claimed_at = now
        if ticket is not None:
            message_id = thread.outgoing_message_id(ticket, str(send_id))
            thread.thread_record(ticket=ticket, message_id=message_id, outgoing=True)
    return rows


def _attempt_failed(rows: list[OutgoingNotification], exc: Exception) -> str:
    now = timezone.now()
    attempts = max(row.attempts for row in rows)
    error = f"attempt {attempts}: {type(exc).__name__}: {exc}"[:2000]
    final = attempts >= MAX_ATTEMPTS
    OutgoingNotification.objects.filter(
        pk__in=[row.pk for row in rows], send_id=rows[0].send_id, status=DeliveryStatus.SENDING
    ).update(
        status=DeliveryStatus.FAILED if final else DeliveryStatus.PENDING,
        next_attempt_at=now + BACKOFF * 2 ** (attempts - 1),
        last_error=error,
    )
    log.warning("notification %s to %s: %s", rows[0].pk, rows[0].recipient, error)
    return "failed" if final else "retry"


@dataclass
class Redriven:
    stale: int = 0
    enqueued: int = 0


def redrive(*, now: dt.datetime | None = None, limit: int = REDRIVE_LIMIT) -> Redriven:
    """Enqueue what a dead worker or a lost task left: pending rows past their due instant,
    and rows stuck in `sending` (reset to pending: see the module's note on at-least-once)."""
    now = now or timezone.now()
    result = Redriven()
    unsent = OutgoingNotification.objects.exclude(status=DeliveryStatus.SENT)
    stale = list(
        unsent.filter(status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_AFTER)
        .order_by("claimed_at")
        .values_list("pk", flat=True)[:limit]
    )
    if stale:
        result.stale = OutgoingNotification.objects.filter(
            pk__in=stale, status=DeliveryStatus.SENDING, claimed_at__lt=now - STALE_AFTER
        ).update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            last_error="the worker stopped while sending; sent again with the same Message-ID",
        )
    # A held group has no task: it is due as soon as its window closed.
    held = Q(group__isnull=False, attempts=0)
    due = (
        unsent.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .filter(Q(next_attempt_at__lte=now - REDRIVE_AFTER) | held)
        .order_by("next_attempt_at")
        .values_list("pk", "group", "send_id")[:limit]
    )
    # One id per group (and send id) is enough: claiming it claims the others.
    seen: set[object] = set(stale)
    ids = list(stale)
    for pk, group, send_id in due:
        key = (group, send_id) if group is not None else pk
        if pk not in seen and key not in seen:
            seen.update((pk, key))
            ids.append(pk)
    for start in range(0, len(ids), BATCH):
        enqueue(ids[start : start + BATCH])
    result.enqueued = len(ids)
    if ids:
        log.info("re-drive: %d stale, %d enqueued", result.stale, result.enqueued)
    return result


def redrive_task() -> dict[str, int]:
    """Run by the `notifications-redrive` schedule every minute (see `setup_schedules`)."""
    result = redrive()
    return {"stale": result.stale, "enqueued": result.enqueued}


@transaction.atomic
def retry_failed(*, ids: Iterable[int]) -> int:
    """An agent asks for failed rows to be tried again (fresh attempts, same Message-ID)."""
    now = timezone.now()
    failed = OutgoingNotification.objects.select_for_update().filter(
        pk__in=list(ids), status=DeliveryStatus.FAILED
    )
    again = list(failed.values_list("pk", flat=True))
    OutgoingNotification.objects.filter(pk__in=again).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now
    )
    for start in range(0, len(again), BATCH):
        batch = again[start : start + BATCH]
        transaction.on_commit(partial(enqueue, batch))
    return len(again)
