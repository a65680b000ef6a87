"""What the `inbound-mail` schedule runs every minute (see `manage.py setup_schedules`)."""

from __future__ import annotations

import logging

from django.conf import settings

from tickets.inbound.config import mailboxes
from tickets.inbound.imap import poll_mailbox
from tickets.inbound.processing import inbound_process_due

logger = logging.getLogger(__name__)


def poll_mailboxes() -> dict[str, object]:
    """Poll every configured mailbox once, then retry what failed before. One mailbox that
    cannot be reached does not stop the others."""
    report: dict[str, object] = {}
    for box in mailboxes():
        try:
            result = poll_mailbox(box, limit=settings.INBOUND_BATCH)
        except Exception as exc:
            logger.exception("Polling mailbox %s failed", box)
            report[box.name] = f"error: {exc}"
        else:
            report[box.name] = result.statuses
    report["retried"] = inbound_process_due()
    return report
