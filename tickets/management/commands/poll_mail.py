"""`python manage.py poll_mail`: poll every configured mailbox once and retry failed mail (what
the `inbound-mail` schedule runs every minute; handy from cron or by hand)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from tickets.inbound.tasks import poll_mailboxes


class Command(BaseCommand):
    help = "Poll the inbound mailboxes (INBOUND_IMAP_URL) once and retry failed mail."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(json.dumps(poll_mailboxes(), sort_keys=True))
