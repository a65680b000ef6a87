"""The IMAP poller (imap-tools): take a batch from a mailbox, store and process each message,
then move it to the done folder (or flag it) on the server.

The server copy is moved only after its row is done, so a worker that dies leaves the message
where the next poll finds it; the next poll finds the row done (and only moves the copy) or
still to do (and processes it). Two workers polling together both store and try each message,
but the row's lock and status let only one process it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db import connection, transaction
from imap_tools import (
    AND,
    BaseMailBox,
    ImapToolsError,
    MailBox,
    MailBoxStartTls,
    MailBoxUnencrypted,
    MailMessage,
)

from tickets.inbound.config import DONE_KEYWORD, Mailbox
from tickets.inbound.processing import inbound_process, inbound_store
from tickets.models import InboundMail, InboundStatus

logger = logging.getLogger(__name__)


class RawMailMessage(MailMessage):
    """A fetched message kept as the bytes the server sent (imap-tools would re-serialize)."""

    def __init__(self, fetch_data: list) -> None:
        self.raw, self._raw_uid_data, self._raw_flag_data = self._get_message_data_parts(fetch_data)


@dataclass
class PollResult:
    mailbox: str
    fetched: int = 0
    stored: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    moved: int = 0

    def count(self, status: str) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


def connect(box: Mailbox) -> BaseMailBox:
    if box.scheme == "imaps":
        client: BaseMailBox = MailBox(box.host, box.port)
    elif box.scheme == "imap+starttls":
        client = MailBoxStartTls(box.host, box.port)
    else:
        client = MailBoxUnencrypted(box.host, box.port)
    client.email_message_class = RawMailMessage
    return client.login(box.username, box.password, initial_folder=box.folder)


def _done(client: BaseMailBox, box: Mailbox, uids: list[str]) -> None:
    """Move (or flag) what is done. A copy another worker moved meanwhile is simply gone; a
    failure here loses nothing: the rows are done, and the next poll only moves the copies."""
    if not uids:
        return
    try:
        if box.done == "flag":
            client.flag(uids, ["\\Seen", DONE_KEYWORD], True)
            return
        # Two workers polling one mailbox both see a message done: moving it twice would leave
        # two copies. Moves of one mailbox take turns (an advisory lock on PostgreSQL), and each
        # moves only the messages still there.
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"inbox:{box}"])
            present = set(client.uids(AND(uid=uids)))
            still = [uid for uid in uids if uid in present]
            if still:
                client.move(still, box.folder_done)
    except ImapToolsError:
        logger.warning("Could not mark %d message(s) done in %s", len(uids), box, exc_info=True)


def poll_mailbox(box: Mailbox, *, limit: int = 50) -> PollResult:
    """One batch from one mailbox; returns what happened to it."""
    result = PollResult(mailbox=box.name)
    with connect(box) as client:
        if box.done == "move" and not client.folder.exists(box.folder_done):
            client.folder.create(box.folder_done)
        criteria = AND(all=True) if box.done == "move" else AND(no_keyword=DONE_KEYWORD)
        done: list[str] = []
        for message in client.fetch(criteria, mark_seen=False, limit=limit, bulk=max(limit, 2)):
            result.fetched += 1
            row, created = inbound_store(raw=message.raw, mailbox=box.name)  # type: ignore[attr-defined]
            result.stored += int(created)
            status = inbound_process(mail_id=row.pk)
            if status is None:  # done before (only the server copy was left) or being done
                status = (
                    InboundMail.objects.filter(pk=row.pk).values_list("status", flat=True).get()
                )
                if status == InboundStatus.RECEIVED:  # another worker holds it: leave it
                    result.count("busy")
                    continue
                result.count("already done")
            else:
                result.count(status)
            if message.uid:
                done.append(message.uid)
        _done(client, box, done)
        result.moved = len(done)
    return result
