"""Submitting tickets, the conversation and attachments."""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Callable, Iterable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from helpdesk import timing
from helpdesk.db import next_id, retry_on_conflict
from plans.models import Channel, TicketCategory
from sla import services as sla
from tickets import emails
from tickets.allowances import check_enablement_request
from tickets.conditions import check_support_conditions
from tickets.entitlements import (
    Entitlement,
    can_request_post_incident_report,
    check_submission,
    entitlement_for,
)
from tickets.markdown import render_markdown
from tickets.models import (
    REFERENCE_PREFIX,
    Attachment,
    Message,
    Queue,
    Status,
    Ticket,
)
from tickets.queue_order import queue_rank
from tickets.services._common import (
    Event,
    check_length,
    is_agent,
    levels_text,
    locked,
    log_event,
    required_text,
    touch,
)
from tickets.services.standing import summary_set

# -- attachments ------------------------------------------------------------------------------

# The type each accepted extension is stored and served as, decided here and never taken from
# the upload (a browser would render an uploader's `text/html` or `image/svg+xml`). Anything
# else is served as bytes to download.
CONTENT_TYPES = {
    "txt": "text/plain",
    "log": "text/plain",
    "csv": "text/csv",
    "json": "application/json",
    "har": "application/json",
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "zip": "application/zip",
}
DOWNLOAD_TYPE = "application/octet-stream"


def content_type_for(name: str) -> str:
    """The content type a file of this name is stored and served with."""
    return CONTENT_TYPES.get(Path(name).suffix.lower().lstrip("."), DOWNLOAD_TYPE)


def served_content_type(stored: str) -> str:
    """What a download is sent as: a stored type we decided, else plain bytes."""
    return stored if stored in CONTENT_TYPES.values() else DOWNLOAD_TYPE


# Files saved while a service runs; removed again when the service fails, so a refused
# submission leaves nothing in MEDIA_ROOT (the rows roll back, the files would not).
_saved_files: contextvars.ContextVar[list[Attachment] | None] = contextvars.ContextVar(
    "saved_files", default=None
)
F = TypeVar("F", bound=Callable[..., Any])


def files_removed_on_failure(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _saved_files.get() is not None:  # an outer service cleans up
            return func(*args, **kwargs)
        token = _saved_files.set([])
        try:
            return func(*args, **kwargs)
        except BaseException:
            for attachment in _saved_files.get() or []:
                attachment.file.storage.delete(attachment.file.name)
            raise
        finally:
            _saved_files.reset(token)

    return wrapper  # type: ignore[return-value]


def check_attachment(upload: UploadedFile) -> None:
    """Refuse files over the size limit or of a type we do not accept, naming the file."""
    name = Path(upload.name or "file").name
    extension = Path(name).suffix.lower().lstrip(".")
    allowed = [ext.lower() for ext in settings.ATTACHMENT_EXTENSIONS]
    if extension not in allowed:
        raise ValidationError(
            {
                "attachments": f"{name}: files of type .{extension or '?'} are not accepted "
                f"(accepted: {', '.join('.' + ext for ext in allowed)})."
            }
        )
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            {
                "attachments": f"{name} is {upload.size / 1_048_576:.1f} MB; "
                f"the limit is {limit / 1_048_576:.0f} MB."
            }
        )


def _attach(
    ticket: Ticket,
    files: Iterable[UploadedFile],
    *,
    by: User,
    message: Message | None,
    at: dt.datetime,
) -> list[Attachment]:
    files = list(files)
    for upload in files:  # refuse before anything is stored
        check_attachment(upload)
    saved = []
    for upload in files:
        attachment = Attachment(
            ticket=ticket,
            message=message,
            name=Path(upload.name or "file").name[:200],
            content_type=content_type_for(upload.name or ""),
            size=upload.size or 0,
            uploaded_by=by,
            created_at=at,
        )
        attachment.file.save(attachment.name, upload, save=False)
        if (pending := _saved_files.get()) is not None:
            pending.append(attachment)
        attachment.save()
        saved.append(attachment)
        log_event(
            ticket,
            Event.ATTACHMENT,
            f"Attached {attachment.name}",
            actor=by,
            at=at,
            customer_visible=message is None or message.kind == Message.Kind.PUBLIC,
        )
    return saved


# -- submission -------------------------------------------------------------------------------


LOADED_RELATIONS = ["organization", "requester", "plan", "category", "severity", "queue"]


@files_removed_on_failure
@retry_on_conflict
@transaction.atomic
def ticket_create(
    *,
    requester: User,
    subject: str,
    body: str,
    severity_level: int,
    category: TicketCategory | None = None,
    channel: str = "portal",
    attachments: Iterable[UploadedFile] = (),
    request_post_incident_report: bool = False,
    queue: Queue | None = None,
    opened_at: dt.datetime | None = None,
    entitlement: Entitlement | None = None,
) -> Ticket:
    """A named contact submits a ticket under their plan's entitlements. `opened_at` is when the
    request was made when that was earlier (a logged phone call): the clocks start there.
    `entitlement`: the requester's, when the caller resolved it for this same request (the
    portal's form needs the plan first); otherwise it is looked up here."""
    check_length(body, field="body", label="The description")
    if entitlement is None:
        entitlement = entitlement_for(user=requester)
    elif entitlement.contact.user_id != requester.pk:
        raise ValueError("the entitlement given is not the requester's")
    plan = entitlement.plan
    severity = check_submission(
        plan=plan, severity_level=severity_level, category=category, channel=channel
    )
    check_support_conditions(contract=entitlement.contract)
    check_enablement_request(contract=entitlement.contract, category=category)
    if request_post_incident_report and not can_request_post_incident_report(
        plan=plan, severity_level=severity_level
    ):
        raise ValidationError(
            {
                "request_post_incident_report": f"The {plan} plan offers post-incident reports "
                f"for severity {levels_text(plan.post_incident_report_levels)} only."
            }
        )
    now = opened_at or timing.now()
    ticket = Ticket(
        organization=entitlement.organization,
        requester=requester,
        plan=plan,
        category=category,
        severity=severity,
        queue_rank=queue_rank(plan.priority, severity.level),
        channel=channel,
        queue=queue,
        subject=subject.strip(),
        created_at=now,
        updated_at=now,
        post_incident_report_requested_at=now if request_post_incident_report else None,
    )
    # The related rows were just read (entitlement, plan, severity, category, queue): checking
    # that each still exists would cost a query apiece. The one check constraint (an out-of-scope
    # reason only on closed tickets) cannot fail for a new ticket, and the database enforces it.
    ticket.full_clean(exclude=[*LOADED_RELATIONS, "reference"], validate_constraints=False)
    # Its clocks are scheduled before it is inserted, so it stores their summary (what the
    # queue sorts and filters by) with its first write; they are saved once it has its id.
    clocks = sla.clocks_new(ticket=ticket, at=now)
    summary_set(ticket, clocks)
    # The reference comes from the primary key: unique, never reused, and safe under any number
    # of concurrent submissions (a rolled-back insert leaves a gap, which is fine). Where the
    # key can be taken before the insert, the ticket is written once.
    ticket.pk = next_id(Ticket)
    if ticket.pk is not None:
        ticket.reference = f"{REFERENCE_PREFIX}{ticket.pk:06d}"
        ticket.save(force_insert=True)
    else:
        ticket.save()
        ticket.reference = f"{REFERENCE_PREFIX}{ticket.pk:06d}"
        ticket.save(update_fields=["reference"])
    message = Message.objects.create(
        ticket=ticket,
        author=requester,
        kind=Message.Kind.PUBLIC,
        from_customer=True,
        channel=channel,
        body=body,
        body_html=render_markdown(body),
        created_at=now,
    )
    _attach(ticket, attachments, by=requester, message=message, at=now)
    summary = f"Opened with severity {severity.level} ({severity.name})"
    if entitlement.onboarding_pending:
        summary += f"; {plan} support applies until technical onboarding is completed"
    created = log_event(
        ticket,
        Event.CREATED,
        summary,
        actor=requester,
        at=now,
        data={"severity": severity.level, "plan": plan.slug, "channel": channel},
    )
    if request_post_incident_report:
        log_event(
            ticket, Event.PIR_REQUESTED, "Post-incident report requested", actor=requester, at=now
        )
    sla.clocks_save(ticket=ticket, clocks=clocks, at=now)
    emails.ticket_created(event=created)
    return ticket


# -- conversation -----------------------------------------------------------------------------


@files_removed_on_failure
@retry_on_conflict
@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    internal: bool = False,
    attachments: Iterable[UploadedFile] = (),
    channel: str = Channel.PORTAL,
) -> Message:
    """A public reply or internal note. Agents' public replies email the customer; a customer's
    reply on a ticket waiting on them puts it back in progress and resumes the clock."""
    required_text(body, "body", "Write a message.")
    check_length(body, field="body", label="The message")
    ticket = locked(ticket)
    agent = is_agent(author)
    if internal and not agent:
        raise ValidationError("Only agents can write internal notes.")
    if not agent and not ticket.is_open:
        raise ValidationError(
            {
                "body": f"{ticket.reference} is {ticket.get_status_display().lower()}; "
                "reopen it to reply."
            }
        )
    now = timing.now()
    message = Message.objects.create(
        ticket=ticket,
        author=author,
        kind=Message.Kind.INTERNAL if internal else Message.Kind.PUBLIC,
        from_customer=not agent,
        channel=channel,
        body=body,
        body_html=render_markdown(body),
        created_at=now,
    )
    _attach(ticket, attachments, by=author, message=message, at=now)
    if internal:
        log_event(
            ticket, Event.NOTE, "Internal note added", actor=author, at=now, customer_visible=False
        )
        touch(ticket, now)
        return message
    if agent:
        event = log_event(ticket, Event.REPLIED, "Support replied", actor=author, at=now)
        fields = []
        if ticket.status in (Status.NEW, Status.ACKNOWLEDGED):
            ticket.status = Status.IN_PROGRESS
            fields.append("status")
        if ticket.assignee_id is None:
            ticket.assignee = author
            fields.append("assignee")
        touch(ticket, now, *fields)
        sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.PUBLIC_REPLY, at=now)
        emails.agent_replied(event=event, message=message)
    else:
        log_event(ticket, Event.CUSTOMER_REPLIED, "Customer replied", actor=author, at=now)
        fields = []
        if ticket.status == Status.WAITING:
            ticket.status = Status.IN_PROGRESS
            fields.append("status")
            sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.CUSTOMER_REPLIED, at=now)
        touch(ticket, now, *fields)
    return message


@files_removed_on_failure
@retry_on_conflict
@transaction.atomic
def attachment_add(*, ticket: Ticket, by: User, files: Iterable[UploadedFile]) -> list[Attachment]:
    ticket = locked(ticket)
    now = timing.now()
    saved = _attach(ticket, files, by=by, message=None, at=now)
    touch(ticket, now)
    return saved
