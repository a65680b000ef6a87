"""Durable outgoing notifications: recorded with their cause, sent once, re-driven when lost.

1. `record_many` (registered as `helpdesk.mail`'s outbox) writes one `OutgoingNotification`
   per (cause, recipient) in the caller's transaction; a unique constraint makes a second row
   for the same pair impossible. After commit it enqueues `send_notifications` for each small
   batch of ids. Nothing is enqueued for a change that rolled back.
2. `send_notifications` sends row by row. Each row is *claimed* in its own short transaction:
   read with `SELECT ... FOR UPDATE SKIP LOCKED` (a no-op on SQLite, whose writers are
   serialized), only while `pending` and due, then marked `sending` with a send id (kept for
   the row's life; it is the Message-ID) and committed *before* the message goes to the
   backend. Then it is marked `sent` (only if still `sending` with that send id). An error
   puts it back to `pending` with a backoff, or `failed` after `MAX_ATTEMPTS`.
3. `redrive` (a django-q2 schedule, every minute) enqueues pending rows whose task was lost
   (the Redis broker drops a task its worker died with; a worker may die before its on-commit
   callback enqueues anything) and rows left `sending` longer than `STALE_AFTER`.

The `sending` state after a worker died is ambiguous: the message may or may not have reached
the mail server. We choose at-least-once for it: a row `sending` for longer than any live
worker can hold it (django-q2 kills a task after its timeout, 60 s; `STALE_AFTER` is 5 min) is
sent again, with the same Message-ID. The window in which that makes a copy is the one UPDATE
after the server accepted the message; the window in which at-most-once would lose a mail is
the whole render and SMTP conversation, much longer, and a lost escalation is the failure this
product exists to prevent. A copy carries the same Message-ID, so it is recognisable as one.
Every row is claimed alone just before its hand-off, so a dying worker leaves at most one row
in `sending`; the rest of its batch stays `pending` for the re-drive.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from helpdesk import mail, metrics, queue
from helpdesk.db import retry_on_conflict
from tickets.inbound import thread
from tickets.models import DeliveryStatus, OutgoingNotification, Ticket

log = logging.getLogger(__name__)

BATCH = 20
MAX_ATTEMPTS = 5
BACKOFF = dt.timedelta(minutes=1)  # doubled after each failed attempt: 1, 2, 4, 8 minutes
STALE_AFTER = dt.timedelta(seconds=settings.NOTIFICATION_STALE_SECONDS)
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


def record(
    *, cause: str, cause_id: int, name: str, to: Iterable[str], data: Mapping[str, Any]
) -> int:
    """`helpdesk.mail.Outbox`: record one cause's mails; returns the rows written."""
    return record_many([Notice(cause, cause_id, name, to, data)])


def record_many(notices: Iterable[Notice]) -> int:
    """One row per (cause, recipient), in one INSERT, sent in batches after commit."""
    now = timezone.now()
    rows = [
        OutgoingNotification(
            cause=notice.cause,
            cause_id=notice.cause_id,
            recipient=address,
            template=notice.name,
            data=dict(notice.data),
            ticket_id=notice.data.get("ticket_id"),
            created_at=now,
            next_attempt_at=now,
        )
        for notice in notices
        for address in sorted({a.strip() for a in notice.to if a and a.strip()})
    ]
    if not rows:
        return 0
    OutgoingNotification.objects.bulk_create(rows)
    ids = [row.pk for row in rows]
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        transaction.on_commit(partial(enqueue, batch))
    return len(rows)


def enqueue(ids: list[int]) -> None:
    queue.enqueue("tickets.notifications.send_notifications", ids, task_name="send notifications")


def send_notifications(ids: list[int]) -> dict[str, int]:
    """The task: send each of these rows that is still pending and due. Safe to run any number
    of times, by any number of workers at once."""
    outcome: Counter[str] = Counter(deliver(pk) for pk in ids)
    return dict(outcome)


def deliver(pk: int) -> str:
    """Claim, send and mark one row: 'sent', 'retry', 'failed' or 'skipped' (not ours)."""
    row = claim(pk)
    if row is None:
        return "skipped"
    try:
        context = mail.build_context(row.template, row.data)
        headers = dict(context.pop("mail_headers", {}))
        ticket = context.get("ticket")
        if isinstance(ticket, Ticket):
            # Threading: a reply to this mail lands on the ticket; a resent copy keeps its id.
            headers = {**thread.mail_headers(ticket=ticket, key=str(row.send_id)), **headers}
        mail.send(
            name=row.template,
            context=context,
            to=[row.recipient],
            send_id=str(row.send_id),
            headers=headers,
        )
    except Exception as exc:
        return _attempt_failed(row, exc)
    OutgoingNotification.objects.filter(
        pk=row.pk, send_id=row.send_id, status=DeliveryStatus.SENDING
    ).update(status=DeliveryStatus.SENT, sent_at=timezone.now())  # last_error stays: history
    due_at = row.data.get("due_at")
    metrics.observe_mail_sent(
        template=row.template,
        due_at=dt.datetime.fromisoformat(due_at) if due_at else None,
        sent_at=timezone.now(),
    )
    return "sent"


@retry_on_conflict
def claim(pk: int) -> OutgoingNotification | None:
    """Mark the row `sending` under a row lock, and commit, before anything is handed over."""
    now = timezone.now()
    with transaction.atomic():
        row = (
            OutgoingNotification.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if row is None:
            return None
        row.status = DeliveryStatus.SENDING
        row.send_id = row.send_id or uuid.uuid4()
        row.attempts += 1
        row.claimed_at = now
        row.save(update_fields=["status", "send_id", "attempts", "claimed_at"])
    return row


def _attempt_failed(row: OutgoingNotification, exc: Exception) -> str:
    now = timezone.now()
    error = f"attempt {row.attempts}: {type(exc).__name__}: {exc}"[:2000]
    final = row.attempts >= MAX_ATTEMPTS
    OutgoingNotification.objects.filter(
        pk=row.pk, send_id=row.send_id, status=DeliveryStatus.SENDING
    ).update(
        status=DeliveryStatus.FAILED if final else DeliveryStatus.PENDING,
        next_attempt_at=now + BACKOFF * 2 ** (row.attempts - 1),
        last_error=error,
    )
    log.warning("notification %s to %s: %s", row.pk, row.recipient, error)
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
    due = list(
        unsent.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now - REDRIVE_AFTER)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    seen = set(stale)
    ids = stale + [pk for pk in due if pk not in seen]
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
