"""Inbound mail, exactly once: store each message once per Message-ID, then process it in one
transaction that also records its outcome.

`inbound_store(raw=..., mailbox=...)` inserts an `InboundMail` row under the unique Message-ID
(a copy already stored is found, not stored again). `inbound_process(mail_id=...)` locks the row,
and only while it is still to do (received, or failed and due for a retry) opens the ticket, adds
the reply or answers the sender, through the same services as the portal, and marks the row
done in the same transaction. A worker that dies half-way rolls everything back and leaves the
row to do; another worker that polls the same mailbox finds the row locked or done. A mail that
raises is rolled back, kept with its error (status failed) and retried later with a back-off.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import traceback
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.utils import parseaddr

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from plans.contact_changes import contact_change_request
from plans.models import Channel, ContactChangeRequest, NamedContact, Policy
from tickets import emails
from tickets.entitlements import allowed_channels, entitlement_for
from tickets.inbound import config, parsing, thread
from tickets.models import (
    Attachment,
    AutoReply,
    InboundMail,
    InboundStatus,
    Message,
    Queue,
    Status,
    Ticket,
)
from tickets.services import check_attachment, ticket_create, ticket_reopen, ticket_reply

logger = logging.getLogger(__name__)

TO_DO = (InboundStatus.RECEIVED, InboundStatus.FAILED)
CONTACT_CHANGE_SUBJECT = re.compile(r"named\s+(support\s+)?contacts?\s+change", re.IGNORECASE)
FORMER_LINE = re.compile(r"^\s*(?:former|old)(?:\s+contact)?\s*:\s*(.+?)\s*$", re.I | re.M)
NEW_LINE = re.compile(r"^\s*new(?:\s+contact)?\s*:\s*(.+?)\s*$", re.I | re.M)
ORIGINAL_NAME = "original-message.eml"
RETRY_AFTER = dt.timedelta(minutes=2)


@dataclass
class Outcome:
    status: str
    detail: str
    ticket: Ticket | None = None
    message: Message | None = None
    refused_files: list[str] = field(default_factory=list)


# -- storing -----------------------------------------------------------------------------------


def inbound_store(*, raw: bytes, mailbox: str = "") -> tuple[InboundMail, bool]:
    """Record a received message once per Message-ID: (row, whether this call stored it)."""
    headers = BytesHeaderParser().parsebytes(raw)
    message_id = parsing.message_id_of(headers, raw)
    existing = InboundMail.objects.defer("raw").filter(message_id=message_id).first()
    if existing is not None:
        return existing, False
    now = timezone.now()
    row = InboundMail(
        message_id=message_id,
        mailbox=mailbox[:50],
        sender=parseaddr(parsing.header_text(headers, "From"))[1][:254].lower(),
        subject=parsing.header_text(headers, "Subject")[:300],
        raw=raw,
        size=len(raw),
        received_at=now,
        next_attempt_at=now,
    )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # stored meanwhile by another worker or mailbox
        return InboundMail.objects.defer("raw").get(message_id=message_id), False
    return row, True


# -- processing --------------------------------------------------------------------------------


def _lock_to_do(mail_id: int) -> InboundMail | None:
    rows = InboundMail.objects.filter(pk=mail_id, status__in=TO_DO)
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    return rows.first()


def inbound_process(*, mail_id: int) -> str | None:
    """Process one stored mail; its new status, or None when it is done or another worker has
    it. Never raises for a bad mail: the failure is recorded on the row and retried later."""
    try:
        with transaction.atomic():
            mail = _lock_to_do(mail_id)
            if mail is None:
                return None
            outcome = _handle(mail)
            mail.status = outcome.status
            mail.detail = outcome.detail[:300]
            mail.ticket = outcome.ticket
            mail.ticket_message = outcome.message
            mail.error = ""
            mail.processed_at = timezone.now()
            mail.next_attempt_at = None
            mail.save(
                update_fields=[
                    "status",
                    "detail",
                    "ticket",
                    "ticket_message",
                    "error",
                    "processed_at",
                    "next_attempt_at",
                ]
            )
            return outcome.status
    except Exception as exc:
        logger.exception("Inbound mail %s failed", mail_id)
        attempts = InboundMail.objects.filter(pk=mail_id).values_list("attempts", flat=True)
        tries = (attempts.first() or 0) + 1
        give_up = tries >= settings.INBOUND_MAX_ATTEMPTS
        InboundMail.objects.filter(pk=mail_id, status__in=TO_DO).update(
            status=InboundStatus.FAILED,
            error=f"{exc!r}\n\n{traceback.format_exc()}"[:20000],
            attempts=F("attempts") + 1,
            next_attempt_at=None if give_up else timezone.now() + RETRY_AFTER * tries,
        )
        return InboundStatus.FAILED


def inbound_retry(*, mail: InboundMail) -> str | None:
    """An agent asks for another try (the admin's action): the mail is due again now."""
    InboundMail.objects.filter(pk=mail.pk, status=InboundStatus.FAILED).update(
        next_attempt_at=timezone.now()
    )
    return inbound_process(mail_id=mail.pk)


def inbound_process_due(*, limit: int = 100) -> dict[str, int]:
    """Process stored mail still to do: failed ones whose retry is due, and received ones left by a
    worker that died (or piped in while processing failed to start)."""
    now = timezone.now()
    due = (
        InboundMail.objects.filter(status__in=TO_DO, next_attempt_at__lte=now)
        .filter(Q(status=InboundStatus.FAILED) | Q(received_at__lte=now - RETRY_AFTER))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    counts: dict[str, int] = {}
    for pk in list(due):
        status = inbound_process(mail_id=pk) or "skipped"
        counts[status] = counts.get(status, 0) + 1
    return counts


def _user_for(address: str) -> User | None:
    """The active account with this address; a named contact's account when there are several."""
    if not address:
        return None
    users = get_user_model().objects.filter(email__iexact=address, is_active=True)
    contact = NamedContact.objects.filter(user__in=users).select_related("user").first()
    return contact.user if contact else users.order_by("pk").first()


def _handle(mail: InboundMail) -> Outcome:
    raw = bytes(mail.raw)
    parsed = parsing.parse(raw, own_addresses=config.own_addresses())
    if parsed.loop_reason:
        return Outcome(InboundStatus.IGNORED, f"Not answered: {parsed.loop_reason}")
    mailbox = config.mailbox_named(mail.mailbox) if mail.mailbox else None
    if mail.size > settings.INBOUND_MAX_BYTES:
        limit = settings.INBOUND_MAX_BYTES / 1_048_576
        return _refuse(
            mail,
            parsed,
            f"The message is {mail.size / 1_048_576:.1f} MB; we accept up to {limit:.0f} MB. "
            "Please send large files through the support portal.",
        )
    user = _user_for(parsed.sender)
    ticket = thread.ticket_for_references(parsed.references) or thread.ticket_for_subject(
        parsed.subject
    )
    if ticket is not None:
        return _reply(mail, parsed, ticket, user, raw)
    if user is None or not hasattr(user, "named_contact"):
        return _stranger(mail, parsed)
    contact = user.named_contact
    if mailbox and mailbox.policy:
        policy = Policy.objects.filter(slug=mailbox.policy).first()
        try:
            plan = entitlement_for(user=user).plan
        except ValidationError as error:
            return _refuse(mail, parsed, " ".join(error.messages))
        if policy is not None and plan.policy_id != policy.pk:
            return _refuse(
                mail,
                parsed,
                f"This address serves customers of {policy.name}; please write to the support "
                "address your contract names.",
            )
    if CONTACT_CHANGE_SUBJECT.search(parsed.subject):
        return _contact_change(mail, parsed, user, contact)
    return _new_ticket(mail, parsed, user, raw, mailbox)


# -- what a mail becomes -----------------------------------------------------------------------


def _accepted_files(parsed: parsing.ParsedMail) -> tuple[list[SimpleUploadedFile], list[str]]:
    """The attachments the portal would accept, and a line for each it would refuse."""
    accepted, refused = [], []
    for item in parsed.files:
        upload = SimpleUploadedFile(item.name, item.data, content_type=item.content_type)
        try:
            check_attachment(upload)
        except ValidationError as error:
            refused.append(" ".join(error.messages))
        else:
            accepted.append(upload)
    return accepted, refused


def _body(parsed: parsing.ParsedMail, refused: list[str]) -> str:
    body = parsed.text.strip() or "(The email had no text.)"
    if refused:
        lines = "\n".join(f"- {line}" for line in refused)
        body += f"\n\n**Attachments not accepted** (send them another way):\n\n{lines}"
    return body


def _attach_original(message: Message, raw: bytes) -> None:
    """The whole email as received, kept with the message it became (not subject to the
    portal's limits: it is our record of what arrived, not a customer's upload)."""
    attachment = Attachment(
        ticket=message.ticket,
        message=message,
        name=ORIGINAL_NAME,
        content_type="message/rfc822",
        size=len(raw),
        uploaded_by=message.author,
        created_at=message.created_at,
    )
    attachment.file.save(ORIGINAL_NAME, ContentFile(raw), save=False)
    attachment.save()


def _severity_level(subject: str, policy: Policy) -> tuple[int | None, str]:
    """The level a subject's tag names under the policy, and the subject without the tag."""
    if policy.email_severity_tag:
        before, _, after = policy.email_severity_tag.partition("{level}")
        pattern = re.compile(rf"\s*{re.escape(before)}\s*(\d+)\s*{re.escape(after)}\s*", re.I)
        match = pattern.search(subject)
        if match:
            cleaned = (subject[: match.start()] + " " + subject[match.end() :]).strip()
            return int(match.group(1)), cleaned or subject
    return None, subject


def _default_level(policy: Policy) -> int | None:
    if policy.email_default_severity:
        return policy.email_default_severity
    return policy.severities.order_by("-level").values_list("level", flat=True).first()


def _new_ticket(
    mail: InboundMail,
    parsed: parsing.ParsedMail,
    user: User,
    raw: bytes,
    mailbox: config.Mailbox | None,
) -> Outcome:
    try:
        plan = entitlement_for(user=user).plan
    except ValidationError as error:
        return _refuse(mail, parsed, " ".join(error.messages))
    policy = plan.policy
    level, subject = _severity_level(parsed.subject, policy)
    level = level or _default_level(policy) or 1
    category = None
    if plan.categories.exists():
        category = next(
            (
                c
                for c in plan.categories.order_by("position", "pk")
                if Channel.EMAIL in allowed_channels(plan=plan, category=c)
            ),
            None,
        )
        if category is None:
            return _refuse(
                mail, parsed, f"The {plan} plan takes no requests by email; use the portal."
            )
    queue = Queue.objects.filter(slug=mailbox.queue).first() if mailbox and mailbox.queue else None
    files, refused = _accepted_files(parsed)
    try:
        ticket = ticket_create(
            requester=user,
            subject=(subject or "(no subject)")[:200],
            body=_body(parsed, refused),
            severity_level=level,
            category=category,
            channel=Channel.EMAIL,
            attachments=files,
            queue=queue,
        )
    except ValidationError as error:
        return _refuse(mail, parsed, " ".join(error.messages))
    message = ticket.messages.get()
    _attach_original(message, raw)
    thread.thread_record(ticket=ticket, message_id=parsed.message_id, outgoing=False)
    detail = f"Opened {ticket.reference} with severity {level}"
    if refused:
        detail += f"; {len(refused)} attachment(s) refused"
    return Outcome(InboundStatus.TICKET, detail, ticket, message, refused)


def _may_see(user: User | None, ticket: Ticket) -> bool:
    if user is None:
        return False
    if user.is_staff:
        return True
    return NamedContact.objects.filter(user=user, organization_id=ticket.organization_id).exists()


def _reply(
    mail: InboundMail,
    parsed: parsing.ParsedMail,
    ticket: Ticket,
    user: User | None,
    raw: bytes,
) -> Outcome:
    if user is None or not _may_see(user, ticket):
        return _refuse(
            mail,
            parsed,
            f"{parsed.sender} may not write on {ticket.reference}: only the named support "
            "contacts of the organization it belongs to can.",
        )
    if ticket.status == Status.CLOSED:
        return _refuse(
            mail,
            parsed,
            f"{ticket.reference} is closed. Write a new email (without the reference in the "
            "subject) to open a new request.",
            ticket=ticket,
        )
    if ticket.status == Status.RESOLVED and not user.is_staff:
        ticket_reopen(ticket=ticket, by=user, reason="The customer replied by email.")
    files, refused = _accepted_files(parsed)
    try:
        message = ticket_reply(
            ticket=ticket,
            author=user,
            body=_body(parsed, refused),
            internal=bool(user.is_staff),  # staff answering a notification: a note, not public
            attachments=files,
            channel=Channel.EMAIL,
        )
    except ValidationError as error:
        return _refuse(mail, parsed, " ".join(error.messages), ticket=ticket)
    _attach_original(message, raw)
    thread.thread_record(ticket=ticket, message_id=parsed.message_id, outgoing=False)
    detail = f"Added to {ticket.reference}" + (" as an internal note" if user.is_staff else "")
    return Outcome(InboundStatus.REPLY, detail, ticket, message, refused)


def _contact_change(
    mail: InboundMail, parsed: parsing.ParsedMail, user: User, contact: NamedContact
) -> Outcome:
    former = FORMER_LINE.search(parsed.full_text)
    new = NEW_LINE.search(parsed.full_text)
    if former is None or new is None:
        return _refuse(
            mail,
            parsed,
            "To change a named contact, write one line 'Former: <address>' and one line "
            "'New: Name <address>' in the message.",
        )
    new_name, new_email = parseaddr(new.group(1))
    try:
        change = contact_change_request(
            organization=contact.organization,
            requested_by=user,
            former_email=parseaddr(former.group(1))[1],
            new_email=new_email,
            new_name=new_name,
            reason=parsed.text[:2000],
            via=ContactChangeRequest.Via.EMAIL,
        )
    except ValidationError as error:
        return _refuse(mail, parsed, " ".join(error.messages))
    text = render_to_string("emails/inbound/contact_change.txt", {"change": change})
    sent = _auto_reply(mail, parsed, AutoReply.Kind.CONTACT_CHANGE, text)
    return Outcome(
        InboundStatus.CONTACT_CHANGE, f"Change request #{change.pk} recorded{sent}", None
    )


# -- answers to the sender ---------------------------------------------------------------------


def _auto_reply(mail: InboundMail, parsed: parsing.ParsedMail, kind: str, text: str) -> str:
    """Queue the one automatic reply of the day to this sender; a note for the mail's detail."""
    day = timezone.now().date()
    if AutoReply.objects.filter(sender=parsed.sender, day=day).exists():
        return "; not answered (already answered today)"
    try:
        with transaction.atomic():
            reply = AutoReply.objects.create(
                sender=parsed.sender,
                day=day,
                kind=kind,
                text=text,
                inbound=mail,
                created_at=timezone.now(),
            )
    except IntegrityError:
        return "; not answered (already answered today)"
    emails.inbound_auto_reply(reply=reply)
    return "; answered"


def _context(parsed: parsing.ParsedMail) -> dict[str, str]:
    return {
        "support": thread.support_address(),
        "sender": parsed.sender,
        "subject": parsed.subject or "(no subject)",
        "site_url": settings.SITE_URL.rstrip("/"),
    }


def _refuse(
    mail: InboundMail, parsed: parsing.ParsedMail, reason: str, *, ticket: Ticket | None = None
) -> Outcome:
    context = {**_context(parsed), "reason": reason, "ticket_url": ""}
    if ticket is not None:
        context["ticket_url"] = settings.SITE_URL.rstrip("/") + ticket.get_absolute_url()
    text = render_to_string("emails/inbound/refused.txt", context)
    sent = _auto_reply(mail, parsed, AutoReply.Kind.REFUSED, text)
    return Outcome(InboundStatus.REFUSED, f"{reason}{sent}", ticket)


def _stranger(mail: InboundMail, parsed: parsing.ParsedMail) -> Outcome:
    text = render_to_string("emails/inbound/stranger.txt", _context(parsed))
    sent = _auto_reply(mail, parsed, AutoReply.Kind.STRANGER, text)
    return Outcome(InboundStatus.STRANGER, f"{parsed.sender} is not a named contact{sent}")
