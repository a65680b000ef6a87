"""A raw RFC 5322 message to plain values: who, what, which thread, and whether a robot sent it.

Pure (no ORM, no settings): the text is decoded from whatever charset the message declares,
HTML-only mail is sanitized (nh3) and converted to Markdown (markdownify), and quoted history
and signatures are trimmed with mail-parser-reply.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message, MIMEPart
from email.utils import parseaddr

import nh3
from mailparser_reply.parser import EmailMessage as ReplyParser
from markdownify import markdownify

MAX_ID = 255
ID = re.compile(r"<[^<>\s]+>")
BULK_PRECEDENCE = {"bulk", "junk", "list"}
ROBOT_LOCALPARTS = {"mailer-daemon", "postmaster"}
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "sv", "pl"]


@dataclass(frozen=True)
class MailFile:
    name: str
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    message_id: str
    sender: str  # the address, lower case; "" when there is none
    sender_name: str
    subject: str
    references: list[str]  # In-Reply-To first, then References from the newest
    loop_reason: str  # not empty: a robot's mail, never answered and never a ticket
    text: str  # the new text, quotes and signature trimmed
    full_text: str  # the whole text part, as decoded
    files: list[MailFile] = field(default_factory=list)


def normalize_id(value: str) -> str:
    """`<id@host>` as written, shortened (with a hash) when longer than the column."""
    value = value.strip()
    if len(value) <= MAX_ID:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"{value[: MAX_ID - 40]}#{digest}>"


def message_id_of(message: Message, raw: bytes) -> str:
    """The Message-ID; one derived from the content for a message that has none, so a
    re-delivered copy is still recognized."""
    found = ID.search(str(message.get("Message-ID", "") or ""))
    if found:
        return normalize_id(found.group(0))
    return f"<sha256.{hashlib.sha256(raw).hexdigest()}@no-message-id>"


def read(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)


def header_text(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, LookupError, IndexError):  # a header too broken to decode
        return ""
    return " ".join(str(value or "").split())


def loop_reason(message: Message, sender: str, own_addresses: set[str]) -> str:
    """Why nobody should answer this mail (RFC 3834 and common practice), or ""."""
    auto = header_text(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = header_text(message, "Precedence").lower()
    if precedence in BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "List-Id", "List-Unsubscribe"):
        if header_text(message, name):
            return f"{name} header"
    if message.get_content_type() == "multipart/report":
        return "a delivery report (bounce)"
    if not sender:
        return "no sender address"
    if header_text(message, "Return-Path") == "<>":
        return "empty Return-Path (a bounce)"
    if sender.split("@")[0] in ROBOT_LOCALPARTS:
        return f"sent by {sender}"
    if sender in own_addresses:
        return f"sent from our own address {sender}"
    return ""


def part_text(part: MIMEPart) -> str:
    """A text part decoded from its declared charset; unknown charsets fall back to latin-1."""
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AttributeError):
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        return data.decode("latin-1", errors="replace")


def html_to_text(html: str) -> str:
    """Sanitized HTML (scripts, styles and their content dropped) as Markdown text."""
    clean = nh3.clean(
        html,
        tags={
            "p",
            "br",
            "div",
            "span",
            "a",
            "b",
            "strong",
            "i",
            "em",
            "ul",
            "ol",
            "li",
            "pre",
            "code",
            "blockquote",
            "table",
            "tr",
            "td",
            "th",
            "thead",
            "tbody",
            "h1",
            "h2",
            "h3",
            "h4",
            "hr",
        },
    )
    text = markdownify(clean, heading_style="ATX", bullets="-")
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def trim_reply(text: str) -> str:
    """The new part of a reply: quoted history and the signature removed."""
    text = text.replace("\r\n", "\n").strip()
    if not text:
        return ""
    try:
        # keep_hyphen_lists: "- item" lines are a list, not the start of a signature.
        parsed = ReplyParser(text=text, languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True)
        replies = parsed.read().replies
    except Exception:
        return text
    body = replies[0].body.strip() if replies else ""
    return body or text


def _files(message: EmailMessage) -> list[MailFile]:
    files = []
    for index, part in enumerate(message.iter_attachments(), start=1):
        content_type = part.get_content_type()
        name = part.get_filename() or ""
        if content_type == "message/rfc822":
            inner = part.get_payload(0) if part.is_multipart() else None
            data = inner.as_bytes() if isinstance(inner, Message) else b""
            name = name or f"forwarded-{index}.eml"
        else:
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
        if not name:
            name = f"attachment-{index}"
        files.append(
            MailFile(name=name.replace("/", "_")[:200], content_type=content_type, data=bytes(data))
        )
    return files


def parse(raw: bytes, *, own_addresses: set[str]) -> ParsedMail:
    message = read(raw)
    name, sender = parseaddr(header_text(message, "From"))
    sender = sender.strip().lower()
    if "@" not in sender:
        sender = ""
    references = ID.findall(header_text(message, "In-Reply-To"))
    references += list(reversed(ID.findall(header_text(message, "References"))))
    body = message.get_body(preferencelist=("plain", "html"))
    full_text = ""
    if body is not None:
        content = part_text(body)
        full_text = html_to_text(content) if body.get_content_type() == "text/html" else content
    return ParsedMail(
        message_id=message_id_of(message, raw),
        sender=sender,
        sender_name=name.strip(),
        subject=header_text(message, "Subject")[:300],
        references=list(dict.fromkeys(normalize_id(ref) for ref in references)),
        loop_reason=loop_reason(message, sender, own_addresses),
        text=trim_reply(full_text),
        full_text=full_text,
        files=_files(message),
    )
