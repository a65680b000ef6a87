"""The agents' desk for the email channel and logged calls: every inbound email with what it
became (failed ones first to the eye, with their error and a retry action), the automatic
replies sent, and the form to log a phone call or chat on behalf of a named contact."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from helpdesk.http import signed_in_user
from plans.admin import EMPTY, admin_link
from plans.admin.customers import SERVICE_ERROR, ServiceErrorAdminMixin, ServiceErrorForm
from plans.models import Channel, NamedContact, TicketCategory
from tickets.inbound.processing import inbound_retry
from tickets.models import AutoReply, InboundMail, InboundStatus, LoggedContact, Ticket
from tickets.services import contact_log

STATUS_CSS: dict[str, str] = {
    InboundStatus.FAILED: "sla-breached",
    InboundStatus.RECEIVED: "sla-amber",
    InboundStatus.REFUSED: "sla-amber",
}


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = "attention"
    parameter_name = "attention"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [("yes", "Failed or not processed yet")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[InboundMail]) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(status__in=[InboundStatus.FAILED, InboundStatus.RECEIVED])
        return queryset


@admin.register(InboundMail)
class InboundMailAdmin(admin.ModelAdmin):
    list_display = [
        "received_at",
        "sender",
        "subject",
        "status_badge",
        "detail",
        "ticket_link",
        "mailbox",
        "attempts",
    ]
    list_select_related = ["ticket"]
    list_filter = [NeedsAttentionFilter, "status", "mailbox"]
    search_fields = ["sender", "subject", "message_id", "ticket__reference"]
    date_hierarchy = "received_at"
    actions = ["retry"]
    fields = (
        "message_id",
        "mailbox",
        "sender",
        "subject",
        "status",
        "detail",
        "ticket_link",
        "received_at",
        "processed_at",
        "attempts",
        "next_attempt_at",
        "error",
        "size",
        "headers",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[InboundMail]:
        # The whole message stays in the database; lists never read it.
        return super().get_queryset(request).defer("raw")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: InboundMail | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: InboundMail | None = None) -> bool:
        return False

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj: InboundMail) -> SafeString:
        css = STATUS_CSS.get(obj.status, "sla-ok")
        return format_html('<span class="sla-badge {}">{}</span>', css, obj.get_status_display())

    @admin.display(description="ticket", ordering="ticket__reference")
    def ticket_link(self, obj: InboundMail) -> SafeString | str:
        return admin_link(obj.ticket, obj.ticket.reference) if obj.ticket else EMPTY

    @admin.display(description="headers")
    def headers(self, obj: InboundMail) -> str:
        raw = bytes(InboundMail.objects.values_list("raw", flat=True).get(pk=obj.pk))
        head, _, _ = raw.partition(b"\r\n\r\n")
        return head.decode("utf-8", errors="replace")[:5000]

    @admin.action(description="Retry the selected failed emails now")
    def retry(self, request: HttpRequest, queryset: QuerySet[InboundMail]) -> None:
        results = [inbound_retry(mail=mail) for mail in queryset.filter(status="failed")]
        done = sum(1 for status in results if status and status != InboundStatus.FAILED)
        failed = sum(1 for status in results if status == InboundStatus.FAILED)
        level = messages.WARNING if failed else messages.SUCCESS
        self.message_user(request, f"{done} processed, {failed} failed again.", level)


@admin.register(AutoReply)
class AutoReplyAdmin(admin.ModelAdmin):
    list_display = ["created_at", "sender", "kind", "inbound_link"]
    list_select_related = ["inbound"]
    list_filter = ["kind"]
    search_fields = ["sender"]
    fields = ("sender", "day", "kind", "text", "inbound_link", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AutoReply | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AutoReply | None = None) -> bool:
        return False

    @admin.display(description="in answer to")
    def inbound_link(self, obj: AutoReply) -> SafeString:
        return admin_link(obj.inbound, obj.inbound.subject or obj.inbound.message_id)


class LogContactForm(ServiceErrorForm):
    """A call or chat to record: on an existing ticket (its reference), or a new one."""

    contact = forms.ModelChoiceField(
        queryset=NamedContact.objects.select_related("user", "organization"),
        help_text="The named contact who called or chatted.",
    )
    channel = forms.ChoiceField(choices=[(Channel.PHONE, "Phone"), (Channel.CHAT, "Live chat")])
    occurred_at = forms.SplitDateTimeField(
        label="When", widget=AdminSplitDateTime, initial=timezone.now
    )
    reference = forms.CharField(
        label="Existing ticket",
        required=False,
        help_text="HD-000123 to add to that ticket; empty to open a new one.",
    )
    subject = forms.CharField(required=False, max_length=200, help_text="For a new ticket.")
    severity_level = forms.IntegerField(
        label="Severity", required=False, min_value=1, help_text="For a new ticket."
    )
    category = forms.ModelChoiceField(
        queryset=TicketCategory.objects.select_related("plan"), required=False
    )
    body = forms.CharField(label="What was said", widget=forms.Textarea(attrs={"rows": 6}))

    class Meta:
        model = LoggedContact
        fields: list[str] = []

    def _post_clean(self) -> None:
        """No model validation: the row is written by `contact_log`, which validates it."""

    def clean_reference(self) -> Ticket | None:
        reference = self.cleaned_data["reference"].strip().upper()
        if not reference:
            return None
        ticket = Ticket.objects.select_related("plan", "category").filter(reference=reference)
        found = ticket.first()
        if found is None:
            raise ValidationError(f"No ticket {reference}.")
        return found


@admin.register(LoggedContact)
class LoggedContactAdmin(ServiceErrorAdminMixin):
    """Logging is the service `contact_log`; a refusal (say, phone on a plan without phone)
    rolls the admin's transaction back and shows the form again with the reason."""

    list_display = ["occurred_at", "channel", "contact", "ticket_link", "opened_ticket"]
    list_select_related = ["contact", "ticket", "recorded_by"]
    list_filter = ["channel", "opened_ticket"]
    search_fields = ["contact__email", "contact__username", "ticket__reference"]
    date_hierarchy = "occurred_at"
    form = LogContactForm
    readonly_fields = (
        "channel",
        "contact",
        "occurred_at",
        "ticket_link",
        "opened_ticket",
        "recorded_by",
        "recorded_at",
    )

    def get_fields(self, request: HttpRequest, obj: LoggedContact | None = None) -> tuple[str, ...]:
        if obj is None:
            return (
                "contact",
                "channel",
                "occurred_at",
                "reference",
                "subject",
                "severity_level",
                "category",
                "body",
            )
        return self.readonly_fields

    def get_readonly_fields(
        self, request: HttpRequest, obj: LoggedContact | None = None
    ) -> tuple[str, ...]:
        return () if obj is None else self.readonly_fields

    def get_form(
        self,
        request: HttpRequest,
        obj: LoggedContact | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm]:
        if obj is not None:
            kwargs["form"] = forms.ModelForm
            return super().get_form(request, obj, change, **kwargs)
        kwargs["fields"] = []
        form = super().get_form(request, obj, change, **kwargs)
        error = getattr(request, SERVICE_ERROR, None)
        if error is None:
            return form
        return type(form.__name__, (form,), {"service_error": error})

    def has_change_permission(self, request: HttpRequest, obj: LoggedContact | None = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: LoggedContact | None = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: LoggedContact, form: forms.ModelForm, change: bool
    ) -> None:
        data = form.cleaned_data
        logged = contact_log(
            agent=signed_in_user(request),
            contact_user=data["contact"].user,
            channel=data["channel"],
            occurred_at=data["occurred_at"],
            body=data["body"],
            ticket=data["reference"],
            subject=data["subject"],
            severity_level=data["severity_level"],
            category=data["category"],
        )
        # The admin goes on with `obj` (its change message, the redirect): make it the row saved.
        obj.__dict__.update(logged.__dict__)
        verb = "opened" if logged.opened_ticket else "added to"
        messages.info(request, f"{logged.get_channel_display()} logged: {verb} {logged.ticket}.")

    @admin.display(description="ticket", ordering="ticket__reference")
    def ticket_link(self, obj: LoggedContact) -> SafeString:
        return admin_link(obj.ticket, obj.ticket.reference)
