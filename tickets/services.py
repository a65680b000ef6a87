"""Writes for tickets. Every change goes through one of these functions, logs a `TicketEvent`,
and tells the SLA clocks what happened through an explicit call (never a signal).

Conventions: keyword-only arguments, one transaction each, emails queued with
`transaction.on_commit` so nothing is sent for a change that rolled back.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from plans.models import Severity, TicketCategory
from plans.selectors import contract_active
from sla import services as sla
from tickets import emails
from tickets.entitlements import (
    can_request_escalation,
    can_request_post_incident_report,
    check_submission,
    entitlement_for,
)
from tickets.markdown import render_markdown
from tickets.models import (
    REFERENCE_PREFIX,
    Attachment,
    CustomerEscalation,
    Message,
    Queue,
    Status,
    Ticket,
    TicketEvent,
    TimeEntry,
)

Event = TicketEvent.Kind


def _log(
    ticket: Ticket,
    kind: str,
    summary: str,
    *,
    actor: AbstractBaseUser | None,
    at: dt.datetime,
    reason: str = "",
    data: dict | None = None,
    customer_visible: bool = True,
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket,
        actor=actor,
        kind=kind,
        at=at,
        summary=summary[:300],
        reason=reason,
        data=data or {},
        customer_visible=customer_visible,
    )


def _touch(ticket: Ticket, at: dt.datetime, *fields: str) -> None:
    ticket.updated_at = at
    ticket.full_clean()
    ticket.save(update_fields=[*fields, "updated_at"])


def _locked(ticket: Ticket) -> Ticket:
    """Re-read the ticket under a row lock: two agents acting at once are serialized."""
    return Ticket.objects.select_for_update().select_related("plan", "severity").get(pk=ticket.pk)


def is_agent(user: AbstractBaseUser) -> bool:
    return bool(user.is_active and user.is_staff)


def _require_agent(user: AbstractBaseUser) -> None:
    if not is_agent(user):
        raise ValidationError("Only support agents can do this.")


def _required(text: str, field: str, message: str) -> str:
    """The text without surrounding blanks; a ValidationError on `field` when nothing is left."""
    text = text.strip()
    if not text:
        raise ValidationError({field: message})
    return text


def _require_open(ticket: Ticket, doing: str) -> None:
    if not ticket.is_open:
        raise ValidationError(
            f"{ticket.reference} is {ticket.get_status_display().lower()}; reopen it to {doing}."
        )


# -- attachments ------------------------------------------------------------------------------


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
    by: AbstractBaseUser,
    message: Message | None,
    at: dt.datetime,
) -> list[Attachment]:
    saved = []
    for upload in files:
        check_attachment(upload)
        attachment = Attachment(
            ticket=ticket,
            message=message,
            name=Path(upload.name or "file").name[:200],
            content_type=(getattr(upload, "content_type", "") or "application/octet-stream")[:100],
            size=upload.size or 0,
            uploaded_by=by,
            created_at=at,
        )
        attachment.file.save(attachment.name, upload, save=False)
        attachment.save()
        saved.append(attachment)
        _log(
            ticket,
            Event.ATTACHMENT,
            f"Attached {attachment.name}",
            actor=by,
            at=at,
            customer_visible=message is None or message.kind == Message.Kind.PUBLIC,
        )
    return saved


# -- submission -------------------------------------------------------------------------------


@transaction.atomic
def ticket_create(
    *,
    requester: AbstractBaseUser,
    subject: str,
    body: str,
    severity_level: int,
    category: TicketCategory | None = None,
    channel: str = "portal",
    attachments: Iterable[UploadedFile] = (),
    request_post_incident_report: bool = False,
) -> Ticket:
    """A named contact submits a ticket under their plan's entitlements."""
    entitlement = entitlement_for(user=requester)
    plan = entitlement.plan
    severity = check_submission(
        plan=plan, severity_level=severity_level, category=category, channel=channel
    )
    if request_post_incident_report and not can_request_post_incident_report(
        plan=plan, severity_level=severity_level
    ):
        raise ValidationError(
            {
                "request_post_incident_report": f"The {plan} plan offers post-incident reports "
                f"for severity {_levels(plan.post_incident_report_levels)} only."
            }
        )
    now = timezone.now()
    ticket = Ticket(
        organization=entitlement.organization,
        requester=requester,
        plan=plan,
        category=category,
        severity=severity,
        channel=channel,
        subject=subject.strip(),
        created_at=now,
        updated_at=now,
        post_incident_report_requested_at=now if request_post_incident_report else None,
    )
    ticket.full_clean(exclude=["reference"])
    ticket.save()
    # The reference comes from the primary key: unique, never reused, and safe under any number
    # of concurrent submissions (a rolled-back insert leaves a gap, which is fine).
    ticket.reference = f"{REFERENCE_PREFIX}{ticket.pk:06d}"
    ticket.save(update_fields=["reference"])
    message = Message.objects.create(
        ticket=ticket,
        author=requester,
        kind=Message.Kind.PUBLIC,
        from_customer=True,
        body=body,
        body_html=render_markdown(body),
        created_at=now,
    )
    _attach(ticket, attachments, by=requester, message=message, at=now)
    summary = f"Opened with severity {severity.level} ({severity.name})"
    if entitlement.onboarding_pending:
        summary += f"; {plan} support applies until technical onboarding is completed"
    _log(
        ticket,
        Event.CREATED,
        summary,
        actor=requester,
        at=now,
        data={"severity": severity.level, "plan": plan.slug, "channel": channel},
    )
    if request_post_incident_report:
        _log(ticket, Event.PIR_REQUESTED, "Post-incident report requested", actor=requester, at=now)
    sla.clocks_start(ticket=ticket, at=now)
    emails.queue(emails.ticket_created, ticket_id=ticket.pk)
    return ticket


def _levels(levels: list[int] | None) -> str:
    return ", ".join(str(level) for level in levels or []) or "none"


# -- conversation -----------------------------------------------------------------------------


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    author: AbstractBaseUser,
    body: str,
    internal: bool = False,
    attachments: Iterable[UploadedFile] = (),
) -> Message:
    """A public reply or internal note. Agents' public replies email the customer; a customer's
    reply on a ticket waiting on them puts it back in progress and resumes the clock."""
    _required(body, "body", "Write a message.")
    ticket = _locked(ticket)
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
    now = timezone.now()
    message = Message.objects.create(
        ticket=ticket,
        author=author,
        kind=Message.Kind.INTERNAL if internal else Message.Kind.PUBLIC,
        from_customer=not agent,
        body=body,
        body_html=render_markdown(body),
        created_at=now,
    )
    _attach(ticket, attachments, by=author, message=message, at=now)
    if internal:
        _log(
            ticket, Event.NOTE, "Internal note added", actor=author, at=now, customer_visible=False
        )
        _touch(ticket, now)
        return message
    if agent:
        _log(ticket, Event.REPLIED, "Support replied", actor=author, at=now)
        fields = []
        if ticket.status in (Status.NEW, Status.ACKNOWLEDGED):
            ticket.status = Status.IN_PROGRESS
            fields.append("status")
        if ticket.assignee_id is None:
            ticket.assignee = author
            fields.append("assignee")
        _touch(ticket, now, *fields)
        sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.PUBLIC_REPLY, at=now)
        emails.queue(emails.agent_replied, ticket_id=ticket.pk, message_id=message.pk)
    else:
        _log(ticket, Event.CUSTOMER_REPLIED, "Customer replied", actor=author, at=now)
        fields = []
        if ticket.status == Status.WAITING:
            ticket.status = Status.IN_PROGRESS
            fields.append("status")
            sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.CUSTOMER_REPLIED, at=now)
        _touch(ticket, now, *fields)
    return message


@transaction.atomic
def attachment_add(
    *, ticket: Ticket, by: AbstractBaseUser, files: Iterable[UploadedFile]
) -> list[Attachment]:
    ticket = _locked(ticket)
    now = timezone.now()
    saved = _attach(ticket, files, by=by, message=None, at=now)
    _touch(ticket, now)
    return saved


# -- agents' moves ----------------------------------------------------------------------------


@transaction.atomic
def ticket_assign(
    *, ticket: Ticket, assignee: AbstractBaseUser | None, by: AbstractBaseUser
) -> Ticket:
    _require_agent(by)
    if assignee is not None:
        _require_agent(assignee)
    ticket = _locked(ticket)
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    now = timezone.now()
    ticket.assignee = assignee
    _touch(ticket, now, "assignee")
    name = assignee.get_username() if assignee else "nobody"
    _log(
        ticket,
        Event.ASSIGNED,
        f"Assigned to {name}",
        actor=by,
        at=now,
        data={"assignee": assignee.pk if assignee else None},
        customer_visible=False,
    )
    if assignee is not None:
        sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.AGENT_ACTION, at=now)
    return ticket


@transaction.atomic
def ticket_acknowledge(*, ticket: Ticket, by: AbstractBaseUser) -> Ticket:
    _require_agent(by)
    ticket = _locked(ticket)
    _require_open(ticket, "acknowledge it")
    now = timezone.now()
    fields = []
    if ticket.status == Status.NEW:
        ticket.status = Status.ACKNOWLEDGED
        fields.append("status")
    if ticket.assignee_id is None:
        ticket.assignee = by
        fields.append("assignee")
    _touch(ticket, now, *fields)
    _log(ticket, Event.ACKNOWLEDGED, "Support acknowledged the ticket", actor=by, at=now)
    sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.AGENT_ACTION, at=now)
    if "status" in fields:
        emails.queue(emails.status_changed, ticket_id=ticket.pk)
    return ticket


@transaction.atomic
def ticket_move_to_queue(
    *, ticket: Ticket, queue: Queue, by: AbstractBaseUser | None, reason: str = ""
) -> Ticket:
    """Move to a tier. `by` is None when an SLA escalation rule moves it."""
    if by is not None:
        _require_agent(by)
    ticket = _locked(ticket)
    if ticket.queue_id == queue.pk:
        return ticket
    now = timezone.now()
    before = ticket.queue.name if ticket.queue_id else "no queue"
    ticket.queue = queue
    _touch(ticket, now, "queue")
    _log(
        ticket,
        Event.QUEUE,
        f"Moved from {before} to {queue.name}",
        actor=by,
        at=now,
        reason=reason,
        data={"queue": queue.slug},
        customer_visible=False,
    )
    return ticket


@transaction.atomic
def ticket_set_status(
    *, ticket: Ticket, status: str, by: AbstractBaseUser, reason: str = ""
) -> Ticket:
    """An agent moves an open ticket to in progress or waiting on customer."""
    _require_agent(by)
    if status not in (Status.IN_PROGRESS, Status.WAITING, Status.ACKNOWLEDGED):
        raise ValidationError({"status": "Use resolve, close or reopen for that."})
    ticket = _locked(ticket)
    _require_open(ticket, "change its status")
    if ticket.status == status:
        return ticket
    now = timezone.now()
    before = ticket.status
    ticket.status = status
    _touch(ticket, now, "status")
    kind = Event.WAITING if status == Status.WAITING else Event.STATUS
    _log(
        ticket,
        kind,
        f"Status: {Status(before).label} → {Status(status).label}",
        actor=by,
        at=now,
        reason=reason,
        data={"from": before, "to": status},
    )
    sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.AGENT_ACTION, at=now)
    if status == Status.WAITING:
        sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.WAITING, at=now)
    elif before == Status.WAITING:
        sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.CUSTOMER_REPLIED, at=now)
    emails.queue(emails.status_changed, ticket_id=ticket.pk, reason=reason)
    return ticket


@transaction.atomic
def ticket_resolve(*, ticket: Ticket, by: AbstractBaseUser, note: str = "") -> Ticket:
    _require_agent(by)
    ticket = _locked(ticket)
    _require_open(ticket, "resolve it")
    now = timezone.now()
    ticket.status = Status.RESOLVED
    ticket.resolved_at = now
    _touch(ticket, now, "status", "resolved_at")
    _log(ticket, Event.RESOLVED, "Resolved", actor=by, at=now, reason=note)
    sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.AGENT_ACTION, at=now)
    sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.RESOLVED, at=now)
    emails.queue(emails.status_changed, ticket_id=ticket.pk, reason=note)
    return ticket


@transaction.atomic
def ticket_close(*, ticket: Ticket, by: AbstractBaseUser) -> Ticket:
    """Close for good: a resolved ticket confirmed, or one the customer withdraws."""
    ticket = _locked(ticket)
    if ticket.status == Status.CLOSED:
        return ticket
    now = timezone.now()
    was_open = ticket.is_open
    ticket.status = Status.CLOSED
    _touch(ticket, now, "status")
    _log(ticket, Event.CLOSED, "Closed", actor=by, at=now)
    if was_open:
        sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.WITHDRAWN, at=now)
    emails.queue(emails.status_changed, ticket_id=ticket.pk)
    return ticket


@transaction.atomic
def ticket_close_out_of_scope(*, ticket: Ticket, by: AbstractBaseUser, reason: str) -> Ticket:
    """Close a request support does not cover, with the policy's own words as the reason."""
    _require_agent(by)
    reason = _required(reason, "reason", "Give the reason from the policy.")
    ticket = _locked(ticket)
    _require_open(ticket, "close it as out of scope")
    now = timezone.now()
    ticket.status = Status.CLOSED
    ticket.out_of_scope_reason = reason[:300]
    _touch(ticket, now, "status", "out_of_scope_reason")
    _log(ticket, Event.OUT_OF_SCOPE, "Closed as out of scope", actor=by, at=now, reason=reason)
    sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.WITHDRAWN, at=now)
    emails.queue(emails.status_changed, ticket_id=ticket.pk, reason=reason)
    return ticket


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, by: AbstractBaseUser, reason: str = "") -> Ticket:
    ticket = _locked(ticket)
    if ticket.is_open:
        return ticket
    if ticket.out_of_scope_reason:
        raise ValidationError(
            "A request closed as out of scope cannot be reopened; "
            "open a new ticket if something else is wrong."
        )
    now = timezone.now()
    ticket.status = Status.IN_PROGRESS if ticket.assignee_id else Status.NEW
    ticket.resolved_at = None
    _touch(ticket, now, "status", "resolved_at")
    _log(ticket, Event.REOPENED, "Reopened", actor=by, at=now, reason=reason)
    sla.clock_on_ticket_event(ticket=ticket, event=sla.TicketEvent.REOPENED, at=now)
    emails.queue(emails.status_changed, ticket_id=ticket.pk, reason=reason)
    return ticket


@transaction.atomic
def ticket_change_severity(
    *, ticket: Ticket, level: int, by: AbstractBaseUser, reason: str
) -> Ticket:
    """Support changes the severity with a reason the customer sees; clocks are retargeted from
    their original start."""
    _require_agent(by)
    reason = _required(reason, "reason", "Say why the severity changes; the customer sees it.")
    ticket = _locked(ticket)
    severity = Severity.objects.filter(policy_id=ticket.plan.policy_id, level=level).first()
    if severity is None:
        raise ValidationError({"severity": f"The {ticket.plan} plan has no severity {level}."})
    if (
        ticket.category_id
        and ticket.category.severity_levels
        and (level not in ticket.category.severity_levels)
    ):
        raise ValidationError(
            {
                "severity": f"{ticket.category.name} takes severity "
                f"{_levels(ticket.category.severity_levels)} only."
            }
        )
    if severity.pk == ticket.severity_id:
        return ticket
    now = timezone.now()
    before = ticket.severity
    ticket.severity = severity
    ticket.severity_clarification = ""
    _touch(ticket, now, "severity", "severity_clarification")
    _log(
        ticket,
        Event.SEVERITY,
        f"Severity changed from {before.level} ({before.name}) to {severity.level} "
        f"({severity.name})",
        actor=by,
        at=now,
        reason=reason,
        data={"from": before.level, "to": severity.level},
    )
    sla.clock_on_ticket_event(
        ticket=ticket, event=sla.TicketEvent.SEVERITY_CHANGED, at=now, reason=reason
    )
    emails.queue(emails.status_changed, ticket_id=ticket.pk, reason=reason)
    return ticket


@transaction.atomic
def ticket_request_clarification(*, ticket: Ticket, by: AbstractBaseUser, question: str) -> Ticket:
    """Support asks the customer to explain the severity they chose (Vmoso)."""
    _require_agent(by)
    question = _required(question, "question", "Ask the question the customer should answer.")
    ticket = _locked(ticket)
    if not ticket.plan.policy.severity_clarification:
        raise ValidationError("This policy does not provide for severity clarification.")
    now = timezone.now()
    ticket.severity_clarification = question
    _touch(ticket, now, "severity_clarification")
    _log(
        ticket,
        Event.CLARIFICATION,
        "Support asked to clarify the severity",
        actor=by,
        at=now,
        reason=question,
    )
    emails.queue(emails.status_changed, ticket_id=ticket.pk, reason=question)
    return ticket


# -- customers' requests ----------------------------------------------------------------------


@transaction.atomic
def ticket_request_post_incident_report(*, ticket: Ticket, by: AbstractBaseUser) -> Ticket:
    ticket = _locked(ticket)
    if not can_request_post_incident_report(plan=ticket.plan, severity_level=ticket.severity.level):
        raise ValidationError(
            f"The {ticket.plan} plan offers post-incident reports for severity "
            f"{_levels(ticket.plan.post_incident_report_levels)} only."
        )
    if ticket.post_incident_report_requested_at is not None:
        return ticket
    now = timezone.now()
    ticket.post_incident_report_requested_at = now
    _touch(ticket, now, "post_incident_report_requested_at")
    _log(ticket, Event.PIR_REQUESTED, "Post-incident report requested", actor=by, at=now)
    return ticket


@transaction.atomic
def ticket_request_escalation(
    *, ticket: Ticket, by: AbstractBaseUser, reason: str
) -> CustomerEscalation:
    """The customer asks for an escalation (Vmoso priorities 2-4); support managers hear."""
    reason = _required(reason, "reason", "Tell us why the ticket needs escalating.")
    ticket = _locked(ticket)
    _require_open(ticket, "escalate it")
    if not can_request_escalation(plan=ticket.plan, severity_level=ticket.severity.level):
        raise ValidationError(
            f"The {ticket.plan} plan offers escalation on request for severity "
            f"{_levels(ticket.plan.customer_escalation_levels)} only."
        )
    now = timezone.now()
    escalation = CustomerEscalation.objects.create(
        ticket=ticket,
        organization_id=ticket.organization_id,
        requested_by=by,
        reason=reason,
        requested_at=now,
    )
    _touch(ticket, now)
    _log(
        ticket,
        Event.ESCALATION_REQUESTED,
        "Customer requested an escalation",
        actor=by,
        at=now,
        reason=reason,
        data={"escalation": escalation.pk},
    )
    emails.queue(emails.customer_escalation, escalation_id=escalation.pk)
    return escalation


@transaction.atomic
def escalation_mark_unwarranted(
    *, escalation: CustomerEscalation, by: AbstractBaseUser, note: str = ""
) -> CustomerEscalation:
    _require_agent(by)
    escalation = CustomerEscalation.objects.select_for_update().get(pk=escalation.pk)
    if escalation.unwarranted:
        return escalation
    now = timezone.now()
    escalation.unwarranted = True
    escalation.reviewed_by = by
    escalation.reviewed_at = now
    escalation.review_note = note
    escalation.save(update_fields=["unwarranted", "reviewed_by", "reviewed_at", "review_note"])
    _log(
        escalation.ticket,
        Event.ESCALATION_UNWARRANTED,
        "Escalation marked unwarranted",
        actor=by,
        at=now,
        reason=note,
        customer_visible=False,
    )
    return escalation


# -- time -------------------------------------------------------------------------------------


@transaction.atomic
def time_entry_log(
    *,
    ticket: Ticket,
    agent: AbstractBaseUser,
    minutes: int,
    date: dt.date | None = None,
    billable: bool = True,
    note: str = "",
) -> TimeEntry:
    _require_agent(agent)
    now = timezone.now()
    if date is None:
        date = now.astimezone(zoneinfo.ZoneInfo(ticket.organization.time_zone)).date()
    entry = TimeEntry(
        ticket=ticket,
        agent=agent,
        date=date,
        minutes=minutes,
        billable=billable,
        note=note,
        created_at=now,
    )
    entry.full_clean()
    entry.save()
    _log(
        ticket,
        Event.TIME_LOGGED,
        f"{minutes} min logged",
        actor=agent,
        at=now,
        customer_visible=False,
        data={"minutes": minutes, "billable": billable},
    )
    # Support-hours warnings (80% / 100% of the period) are checked by a worker after commit.
    contract = contract_active(organization=ticket.organization)
    if billable and contract is not None and contract.plan.monthly_support_hours is not None:
        contract_id = contract.pk
        transaction.on_commit(
            lambda: async_task("tickets.hours_tasks.hours_check_warnings", contract_id=contract_id)
        )
    return entry
