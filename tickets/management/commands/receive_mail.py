"""`python manage.py receive_mail [--mailbox NAME] < message.eml`: take one raw RFC 5322 message
on standard input (an MTA pipes each delivery here) and process it like a polled one."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tickets.inbound.processing import inbound_process, inbound_store
from tickets.models import InboundMail, InboundStatus


class Command(BaseCommand):
    help = "Process one email read from standard input (for an MTA's pipe delivery)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--mailbox",
            default="",
            help="Name of a configured mailbox whose queue and policy apply (default: none).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        raw = sys.stdin.buffer.read()
        if not raw.strip():
            raise CommandError("No message on standard input.")
        row, created = inbound_store(raw=raw, mailbox=options["mailbox"])
        status = inbound_process(mail_id=row.pk)
        row = InboundMail.objects.defer("raw").get(pk=row.pk)
        note = "" if created else " (seen before)"
        self.stdout.write(f"{row.message_id}: {row.get_status_display()}{note}. {row.detail}")
        if status == InboundStatus.FAILED:
            # Exit non-zero so the MTA keeps the message and retries; the row keeps it too.
            raise CommandError(f"Processing failed: {row.error.splitlines()[0]}")
