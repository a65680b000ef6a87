"""Mail backends for tests: the outside world failing, and a recorder other processes can use."""

from __future__ import annotations

import os
import smtplib
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage


class RefusingBackend(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        raise smtplib.SMTPServerDisconnected("the server closed the connection")


class RecordingBackend(BaseEmailBackend):
    """Writes each message to its own file in `$MAIL_RECORD_DIR` (created exclusively, so
    processes writing at once never share a file): a subprocess's mail can be counted."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.folder = Path(os.environ["MAIL_RECORD_DIR"])

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            path = self.folder / f"{uuid.uuid4().hex}.eml"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            with os.fdopen(fd, "wb") as stream:
                stream.write(message.message().as_bytes())
                stream.flush()
                os.fsync(stream.fileno())
        return len(email_messages)
