"""Mailboxes from the environment: `INBOUND_IMAP_URL` (one URL, or several separated by commas)
and `INBOUND_IMAP_URL_<NAME>` (settings.INBOUND_IMAP_URLS collects both).

    imaps://support%40example.com:secret@imap.example.com/INBOX?queue=l1&policy=openback

Scheme `imaps` (TLS, port 993), `imap` (plain, port 143) or `imap+starttls`. The path is the folder
to read (INBOX by default). Query parameters, all optional:

- `name`: the mailbox's name in the admin and logs (default: the <NAME> suffix, else `default`).
- `address`: the support address this mailbox receives (replies go out with it as Reply-To; mail
  from it is never answered). Default: the login when it is an address, else SUPPORT_EMAIL.
- `queue`: slug of the queue new tickets from this mailbox go to.
- `policy`: slug of the policy this address serves; customers on another policy's plans are told
  to write to their own support address.
- `done`: what happens to a processed message on the server: `move` (default) or `flag`.
- `folder_done`: the folder processed mail moves to (default `Processed`, created if missing);
  with `done=flag` the message gets \\Seen and the keyword `$HelpdeskDone` instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

DONE_KEYWORD = "$HelpdeskDone"


@dataclass(frozen=True)
class Mailbox:
    name: str
    scheme: str
    host: str
    port: int
    username: str
    password: str
    folder: str
    address: str
    queue: str = ""
    policy: str = ""
    done: str = "move"
    folder_done: str = "Processed"

    def __str__(self) -> str:
        return f"{self.name} ({self.username}@{self.host}:{self.port}/{self.folder})"


def parse_mailbox_url(url: str, *, name: str = "") -> Mailbox:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("imap", "imaps", "imap+starttls"):
        raise ImproperlyConfigured(f"Inbound mailbox {name or url!r}: use imap:// or imaps://.")
    if not parts.hostname or not parts.username:
        raise ImproperlyConfigured(f"Inbound mailbox {name or url!r}: needs user@host.")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(query) - {"name", "address", "queue", "policy", "done", "folder_done"}
    if unknown:
        raise ImproperlyConfigured(
            f"Inbound mailbox {name or url!r}: unknown parameter(s) {', '.join(sorted(unknown))}."
        )
    done = query.get("done", "move")
    if done not in ("move", "flag"):
        raise ImproperlyConfigured(f"Inbound mailbox {name or url!r}: done=move or done=flag.")
    username = unquote(parts.username)
    address = query.get("address") or (username if "@" in username else settings.SUPPORT_EMAIL)
    default_port = 993 if parts.scheme == "imaps" else 143
    return Mailbox(
        name=query.get("name") or name or "default",
        scheme=parts.scheme,
        host=parts.hostname,
        port=parts.port or default_port,
        username=username,
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
        address=address.lower(),
        queue=query.get("queue", ""),
        policy=query.get("policy", ""),
        done=done,
        folder_done=query.get("folder_done", "Processed"),
    )


def mailboxes() -> list[Mailbox]:
    """Every configured mailbox; unnamed ones from INBOUND_IMAP_URL are default, default-2..."""
    result = []
    unnamed = 0
    for name, url in settings.INBOUND_IMAP_URLS:
        if not name:
            unnamed += 1
            name = "default" if unnamed == 1 else f"default-{unnamed}"
        result.append(parse_mailbox_url(url, name=name))
    names = [box.name for box in result]
    if len(set(names)) != len(names):
        raise ImproperlyConfigured(f"Inbound mailboxes need distinct names: {', '.join(names)}.")
    return result


def mailbox_named(name: str) -> Mailbox | None:
    return next((box for box in mailboxes() if box.name == name), None)


def own_addresses() -> set[str]:
    """Addresses that are ours: mail from them is never answered nor turned into a ticket."""
    ours = {settings.SUPPORT_EMAIL, settings.DEFAULT_FROM_EMAIL, settings.SERVER_EMAIL}
    ours |= {box.address for box in mailboxes()}
    addresses = {parseaddr(address)[1].lower() for address in ours if address}
    return {address for address in addresses if "@" in address}


def check_mailboxes(**kwargs: object) -> list[checks.CheckMessage]:
    """`manage.py check` (and every start) names a bad mailbox URL before a poll meets it."""
    try:
        mailboxes()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="tickets.E001", hint="See INBOUND_IMAP_URL in README.")]
    return []
