"""Portal forms. They parse and present input; the rules live in the services and
entitlements, whose `ValidationError`s are put back on the field they name (`apply_errors`)."""

from __future__ import annotations

import zoneinfo
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from plans.models import Channel, ContactRole, Plan, TicketCategory, UserProfile
from plans.selectors import plan_categories, plan_severities
from tickets.services._common import too_long_message

NON_FIELD = NON_FIELD_ERRORS


def apply_errors(form: forms.Form, error: ValidationError, *, aliases: dict | None = None) -> None:
    """Show a service's ValidationError on the form: keyed errors on their field (or an alias),
    the rest at the top of the form."""
    aliases = aliases or {}
    if hasattr(error, "error_dict"):
        for key, errors in error.error_dict.items():
            field = aliases.get(key, key)
            if field not in form.fields:
                field = None
            for item in errors:
                form.add_error(field, item.messages[0] if hasattr(item, "messages") else item)
    else:
        for message in error.messages:
            form.add_error(None, message)


def long_text(label: str) -> dict[str, Any]:
    """`max_length` and its message naming the field, for message bodies and reasons."""
    return {
        "max_length": settings.MESSAGE_BODY_MAX_CHARS,
        "error_messages": {"max_length": too_long_message(label)},
    }


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class TicketForm(forms.Form):
    """A new ticket under the plan whose support applies now."""

    subject = forms.CharField(max_length=200, help_text="One line: what is wrong or needed.")
    severity = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect)
    category: forms.ModelChoiceField[TicketCategory] = forms.ModelChoiceField(
        queryset=None,
        required=False,
        widget=forms.RadioSelect,
        empty_label=None,
        label="Kind of request",
    )
    channel = forms.ChoiceField(
        help_text="How you would like support to work with you on this ticket."
    )
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        label="Description",
        help_text="What happened, what you expected, steps to reproduce. Markdown is supported.",
        **long_text("The description"),
    )
    attachments = MultipleFileField(
        help_text="Screenshots, logs, HAR files. Several files at once are fine."
    )
    request_post_incident_report = forms.BooleanField(
        required=False, label="Request a post-incident report"
    )

    def __init__(self, *args: Any, plan: Plan, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plan = plan
        self.severities = plan_severities(plan=plan)
        cast(forms.ChoiceField, self.fields["severity"]).choices = [
            (s.level, f"{s.level} - {s.name}") for s in self.severities
        ]
        self.categories = plan_categories(plan=plan)
        if self.categories:
            category_field = cast(forms.ModelChoiceField, self.fields["category"])
            category_field.queryset = plan.categories.order_by("position", "name")
            category_field.required = True
        else:
            del self.fields["category"]
        channels: list[str] = list(plan.channels)
        for category in self.categories:
            channels += [c for c in category.channels if c not in channels]
        labels = dict(Channel.choices)
        cast(forms.ChoiceField, self.fields["channel"]).choices = [
            (c, labels.get(c, c)) for c in channels
        ]
        if "portal" in channels:
            self.fields["channel"].initial = "portal"
        levels = plan.post_incident_report_levels or []
        if levels:
            self.fields["request_post_incident_report"].help_text = (
                "Available for severity " + ", ".join(str(level) for level in levels) + "."
            )
        else:
            del self.fields["request_post_incident_report"]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "subject": data["subject"],
            "body": data["body"],
            "severity_level": data["severity"],
            "category": data.get("category"),
            "channel": data["channel"],
            "attachments": data.get("attachments") or [],
            "request_post_incident_report": bool(data.get("request_post_incident_report")),
        }


class ReplyForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Your reply",
        help_text="Markdown is supported.",
        **long_text("Your reply"),
    )
    attachments = MultipleFileField()


class ReopenForm(forms.Form):
    reason = forms.CharField(
        max_length=1000,
        required=False,
        label="Why reopen?",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EscalationForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Why does this ticket need escalating?",
        **long_text("The reason"),
        help_text="A support manager reads this. Escalations found unwarranted are recorded.",
    )


class AccountForm(forms.ModelForm):
    time_zone = forms.ChoiceField(
        label="Time zone", help_text="Times on every page are shown in this zone."
    )

    class Meta:
        model = UserProfile
        fields = ["time_zone"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["time_zone"]).choices = [
            (z, z) for z in sorted(zoneinfo.available_timezones())
        ]


class InvitationAcceptForm(forms.Form):
    """Accepting an invitation: a person without an account chooses a password."""

    password1 = forms.CharField(label="Choose a password", widget=forms.PasswordInput)
    password2 = forms.CharField(label="The same password again", widget=forms.PasswordInput)

    def __init__(self, *args: Any, new_account: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not new_account:
            del self.fields["password1"], self.fields["password2"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second:
            if first != second:
                self.add_error("password2", "The two passwords differ.")
            else:
                try:
                    password_validation.validate_password(first)
                except ValidationError as error:
                    self.add_error("password1", error)
        return data


class ContactAddForm(forms.Form):
    """An organization admin invites a person by email; they become a contact on accepting."""

    email = forms.EmailField(label="Email address")
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=ContactRole.choices, initial=ContactRole.CONTACT)
