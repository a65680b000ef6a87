"""Real mail servers for the inbound tests and the bench: Debian's dovecot (IMAP) configured in a
temporary folder on a free port, and aiosmtpd (SMTP) capturing what we send."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

DOVECOT_CONF = """\
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal_user}
default_login_user = {login_user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={base}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def missing() -> str:
    """Why the servers cannot run here, or ""."""
    if shutil.which("dovecot") is None:
        return "dovecot is not installed (apt-get install dovecot-imapd)"
    if os.geteuid() != 0:
        return "dovecot runs as root in these tests"
    try:
        import aiosmtpd  # noqa: F401, PLC0415 - only to know whether it is installed
    except ImportError:
        return "aiosmtpd is not installed (pip install -e .[dev])"
    return ""


class Dovecot:
    """A dovecot instance of our own; users are added to its passwd-file as tests need them."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="hd-dovecot-"))
        self.base.chmod(0o755)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        for sub in ("run", "state", "home"):
            (self.base / sub).mkdir()
        shutil.chown(self.base / "home", "nobody", "nogroup")
        # dovecot reads the passwd-file at start-up (and when it notices a change, which a
        # write in the same second may not be): every user the tests may need, up front.
        (self.base / "passwd").write_text(
            "".join(f"{name}:{{PLAIN}}secret::::::\n" for name in self.users)
        )
        conf = DOVECOT_CONF.format(
            base=self.base,
            port=self.port,
            internal_user="dovecot",
            login_user="dovenull",
            mail_uid="nobody",
            mail_gid="nogroup",
        )
        (self.base / "dovecot.conf").write_text(conf)
        self.process = subprocess.Popen(
            ["dovecot", "-F", "-c", str(self.base / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    users = [f"support{n}" for n in range(1, 501)] + ["bench"]

    def url(self, user: str, password: str = "secret", **params: str) -> str:
        query = "&".join(f"{key}={value}" for key, value in params.items())
        return f"imap://{user}:{password}@127.0.0.1:{self.port}/INBOX" + (
            f"?{query}" if query else ""
        )

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.base, ignore_errors=True)


@dataclass
class SmtpSink:
    """aiosmtpd on a free port; `messages` holds what arrived, parsed."""

    port: int = field(default_factory=free_port)
    messages: list[EmailMessage] = field(default_factory=list)
    controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted"

    def start(self) -> None:
        from aiosmtpd.controller import Controller  # noqa: PLC0415 - a dev-only dependency

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["X-Envelope-To"]]


def build_mail(
    *,
    subject: str,
    body: str = "Hello,\n\nIt is broken.\n",
    sender: str = "Alice Example <alice@acme.example>",
    to: str = "support@helpdesk.example",
    html: str = "",
    headers: dict[str, str] | None = None,
    files: tuple[tuple[str, bytes, str], ...] = (),
    message_id: str = "",
) -> bytes:
    """A real RFC 5322 message as a mail client would send it."""
    from email.utils import formatdate, make_msgid  # noqa: PLC0415 - only used here

    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id or make_msgid(domain="acme.example")
    for name, value in (headers or {}).items():
        message[name] = value
    if html:
        message.set_content(html, subtype="html")
    else:
        message.set_content(body)
    for name, data, content_type in files:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()
