"""Forms of the agents' workplace: each one feeds one service call in `tickets.services`.

The forms only parse input; the rules (who may, which severities, which reasons) live in the
services, whose `ValidationError`s are shown on these forms by field name.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet

from plans.models import Severity
from tickets.models import Queue, Status, Ticket
from tickets.services._common import too_long_message

OTHER = "__other__"


def agents() -> QuerySet:
    """Active staff users, the people a ticket can be assigned to or time logged for."""
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .order_by("first_name", "last_name", "username")
    )


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        full_name = obj.get_full_name()
        return f"{full_name} ({obj.get_username()})" if full_name else obj.get_username()


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; each is checked by the service (size and type)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class ServiceForm(forms.Form):
    """A form that shows a service's ValidationError on the fields it names."""

    def __init__(self, *args: Any, ticket: Ticket | None = None, **kwargs: Any) -> None:
        self.ticket = ticket
        super().__init__(*args, **kwargs)

    def add_service_error(self, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, error)


class ReplyForm(ServiceForm):
    prefix = "reply"

    kind = forms.ChoiceField(
        label="Send as",
        choices=[
            ("public", "Public reply (emailed to the customer)"),
            ("internal", "Internal note (agents only, no email)"),
        ],
        initial="public",
        widget=forms.RadioSelect,
    )
    body = forms.CharField(
        label="Message",
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        help_text="Markdown: **bold**, `code`, lists and links.",
        max_length=settings.MESSAGE_BODY_MAX_CHARS,
        error_messages={"max_length": too_long_message("The message")},
    )
    attachments = MultipleFileField(label="Attachments")


class SeverityForm(ServiceForm):
    prefix = "severity"

    level = forms.TypedChoiceField(label="New severity", coerce=int)
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Required. The customer sees it.",
    )

    def __init__(self, *args: Any, ticket: Ticket | None = None, **kwargs: Any) -> None:
        super().__init__(*args, ticket=ticket, **kwargs)
        if ticket is not None:
            severities = Severity.objects.filter(policy_id=ticket.plan.policy_id)
            cast(forms.ChoiceField, self.fields["level"]).choices = [
                (severity.level, f"{severity.level} - {severity.name}") for severity in severities
            ]
            self.fields["level"].initial = ticket.severity.level


class ClarifyForm(ServiceForm):
    prefix = "clarify"

    question = forms.CharField(
        label="Question for the customer",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Ask what makes the chosen severity right (or not); the customer is emailed.",
    )


class AssignForm(ServiceForm):
    prefix = "assign"

    assignee = AgentChoiceField(
        label="Assignee", queryset=agents(), required=False, empty_label="Nobody (unassign)"
    )

    def __init__(self, *args: Any, ticket: Ticket | None = None, **kwargs: Any) -> None:
        super().__init__(*args, ticket=ticket, **kwargs)
        cast(forms.ModelChoiceField, self.fields["assignee"]).queryset = agents()
        if ticket is not None and not self.is_bound:
            self.fields["assignee"].initial = ticket.assignee_id


class QueueForm(ServiceForm):
    prefix = "queue"

    queue = forms.ModelChoiceField(label="Tier", queryset=Queue.objects.all())
    reason = forms.CharField(label="Reason", max_length=300, required=False)


STATUS_MOVES = [
    ("acknowledge", "Acknowledge"),
    (Status.IN_PROGRESS.value, "In progress"),
    (Status.WAITING.value, "Waiting on customer (pauses the resolution clock)"),
    ("resolve", "Resolve"),
    ("close", "Close"),
    ("reopen", "Reopen"),
]


# The moves offered from each status: the ones the ticket services accept from it (an open ticket
# is acknowledged, worked, paused, resolved or closed; a resolved one is closed or reopened; a
# closed one reopened).
MOVES_FROM: dict[str, tuple[str, ...]] = {
    Status.NEW: ("acknowledge", Status.IN_PROGRESS, Status.WAITING, "resolve", "close"),
    Status.ACKNOWLEDGED: (Status.IN_PROGRESS, Status.WAITING, "resolve", "close"),
    Status.IN_PROGRESS: (Status.WAITING, "resolve", "close"),
    Status.WAITING: (Status.IN_PROGRESS, "resolve", "close"),
    Status.RESOLVED: ("close", "reopen"),
    Status.CLOSED: ("reopen",),
}


def status_moves(status: str) -> list[tuple[str, str]]:
    """The status list's choices from `status`, in the order of `STATUS_MOVES`."""
    allowed = {str(move) for move in MOVES_FROM.get(status, ())}
    return [(value, label) for value, label in STATUS_MOVES if value in allowed]


class StatusForm(ServiceForm):
    prefix = "status"

    move = forms.ChoiceField(label="Move to", choices=STATUS_MOVES)
    reason = forms.CharField(
        label="Note",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Optional; included in the email to the customer.",
    )

    def __init__(self, *args: Any, ticket: Ticket | None = None, **kwargs: Any) -> None:
        super().__init__(*args, ticket=ticket, **kwargs)
        if ticket is not None:
            field = cast(forms.ChoiceField, self.fields["move"])
            field.choices = status_moves(ticket.status)


class TimeEntryForm(ServiceForm):
    prefix = "time"

    agent = AgentChoiceField(label="Agent", queryset=agents())
    date = forms.DateField(
        label="Date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Day worked; empty: today in the organization's time zone.",
    )
    minutes = forms.IntegerField(label="Minutes", min_value=1, max_value=1440)
    billable = forms.BooleanField(label="Billable", required=False, initial=True)
    note = forms.CharField(
        label="Note (the customer sees it)",
        max_length=300,
        required=False,
        help_text="Shown to the customer with the hours on their plan page: write it for them.",
    )

    def __init__(self, *args: Any, ticket: Ticket | None = None, **kwargs: Any) -> None:
        super().__init__(*args, ticket=ticket, **kwargs)
        cast(forms.ModelChoiceField, self.fields["agent"]).queryset = agents()


class UnwarrantedForm(ServiceForm):
    prefix = "unwarranted"

    note = forms.CharField(label="Note", max_length=2000, required=False)


# -- intermediate pages of the changelist's actions ----------------------------------------


class MoveToTierForm(forms.Form):
    queue = forms.ModelChoiceField(label="Tier", queryset=Queue.objects.all())
    reason = forms.CharField(label="Reason", max_length=300, required=False)


class OutOfScopeForm(ServiceForm):
    """The policy's "support does not include" texts as choices, or a reason written out."""

    prefix = "oos"

    choice = forms.ChoiceField(label="Reason from the policy", widget=forms.RadioSelect)
    other = forms.CharField(
        label="Other reason",
        max_length=300,
        required=False,
        help_text="Used when \u201cOther\u201d is chosen.",
    )

    def __init__(self, *args: Any, reasons: Iterable[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["choice"]).choices = [
            *((reason, reason) for reason in reasons),
            (OTHER, "Other (write it below)"),
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("choice") == OTHER:
            if not (cleaned.get("other") or "").strip():
                self.add_error("other", "Write the reason, or choose one of the policy's.")
            else:
                cleaned["reason"] = cleaned["other"].strip()
        elif cleaned.get("choice"):
            cleaned["reason"] = cleaned["choice"]
        return cleaned
