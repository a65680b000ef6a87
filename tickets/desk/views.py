"""The ticket admin's custom views and actions: each parses a form and calls one service.

`TicketWorkMixin` adds the views behind the forms on the ticket's change page (reply, severity,
clarification, assignment, tier, status, out of scope, time, unwarranted escalations) and the
context that page shows (conversation, clocks with their logs, escalations fired, time, events).
`TicketActionsMixin` holds the changelist's actions. A service's `ValidationError` is shown on
the form that caused it (the change page is rendered again with that form bound), never a 500.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from helpdesk.formatting import minutes_duration, policy_duration
from helpdesk.http import AuthenticatedHttpRequest
from sla.selectors import standing_for
from tickets import services
from tickets.allowances import enablement_status, time_warning
from tickets.desk.forms import (
    AssignForm,
    ClarifyForm,
    MoveToTierForm,
    OutOfScopeForm,
    QueueForm,
    ReplyForm,
    ServiceForm,
    SeverityForm,
    StatusForm,
    TimeEntryForm,
    UnwarrantedForm,
)
from tickets.kb.admin import article_links, draft_article
from tickets.models import CustomerEscalation, Status, Ticket
from tickets.releases.admin import plan_for_release

Run = Callable[[Ticket, Any, AuthenticatedHttpRequest], str]

# name in the URL and the context -> the form class; the page shows them in this order.
WORK_FORMS: dict[str, type[ServiceForm]] = {
    "reply": ReplyForm,
    "assign": AssignForm,
    "status": StatusForm,
    "queue": QueueForm,
    "severity": SeverityForm,
    "clarify": ClarifyForm,
    "out_of_scope": OutOfScopeForm,
    "time": TimeEntryForm,
}


def policy_reasons(tickets: Iterable[Ticket]) -> list[str]:
    """The "support does not include" texts of the tickets' policies, each once, in order."""
    seen: dict[str, None] = {}
    for ticket in tickets:
        for reason in ticket.plan.policy.not_covered:
            seen.setdefault(reason, None)
    return list(seen)


def error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


class TicketWorkMixin(admin.ModelAdmin):
    change_form_template = "admin/tickets/ticket/change_form.html"
    change_list_template = "admin/tickets/ticket/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        urls = [
            path(
                f"<path:object_id>/{name.replace('_', '-')}/",
                self.admin_site.admin_view(self._work_view(name)),
                name=f"tickets_ticket_{name}",
            )
            for name in WORK_FORMS
        ]
        urls.append(
            path(
                "<path:object_id>/escalations/<int:escalation_id>/unwarranted/",
                self.admin_site.admin_view(self.unwarranted_view),
                name="tickets_ticket_unwarranted",
            )
        )
        return urls + super().get_urls()

    # -- the change page ---------------------------------------------------------------------

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        ticket = self.get_object(request, unquote(object_id))
        context: dict[str, Any] = {}
        if ticket is not None and self.has_view_permission(request, ticket):
            context = self.work_context(request, ticket, bound=extra_context or {})
        context.update(extra_context or {})
        return super().change_view(request, object_id, form_url, context)

    def work_context(
        self, request: HttpRequest, ticket: Ticket, *, bound: dict[str, Any]
    ) -> dict[str, Any]:
        clocks = list(
            ticket.sla_clocks.select_related("calendar")
            .prefetch_related("events", "firings")
            .order_by("cycle", "metric")
        )
        now = timezone.now()
        for clock in clocks:
            # Display values for the template, set on the rows it iterates.
            clock.standing = standing = standing_for(clock, now=now)  # type: ignore[attr-defined]
            left = standing.business_left
            word = "over" if left is not None and left < dt.timedelta(0) else "left"
            clock.left_text = None if left is None else f"{policy_duration(abs(left))} {word}"  # type: ignore[attr-defined]
            clock.target_text = policy_duration(clock.target) if clock.target else "no guarantee"  # type: ignore[attr-defined]
            clock.paused_text = (  # type: ignore[attr-defined]
                policy_duration(clock.paused_business) if clock.paused_business else "\u2013"
            )
        firings = sorted(
            (firing for clock in clocks for firing in clock.firings.all()),
            key=lambda firing: (firing.fired_at, firing.pk),
        )
        for firing in firings:
            firing.metric_label = next(  # type: ignore[attr-defined]
                c for c in clocks if c.pk == firing.clock_id
            ).get_metric_display()
        time_entries = list(ticket.time_entries.select_related("agent"))
        context: dict[str, Any] = {
            "ticket": ticket,
            "can_work": self.has_change_permission(request, ticket),
            "conversation": ticket.messages.select_related("author").prefetch_related(
                "attachments"
            ),
            "loose_attachments": ticket.attachments.filter(message__isnull=True),
            "clocks": clocks,
            "firings": firings,
            "escalations": ticket.escalations.select_related("requested_by", "reviewed_by"),
            "events": ticket.events.select_related("actor"),
            "time_entries": time_entries,
            "time_total": minutes_duration(sum(e.minutes for e in time_entries)),
            "time_billable": minutes_duration(sum(e.minutes for e in time_entries if e.billable)),
            "clarification_allowed": ticket.plan.policy.severity_clarification,
            "enablement_status": enablement_status(ticket=ticket, on=timezone.localdate()),
            "unwarranted_form": UnwarrantedForm(),
            **article_links(ticket),
        }
        for name, form_class in WORK_FORMS.items():
            key = f"{name}_form"
            if key in bound:
                continue
            context[key] = self._unbound_form(name, form_class, request, ticket)
        for name in WORK_FORMS:
            context[f"{name}_url"] = reverse(f"admin:tickets_ticket_{name}", args=[ticket.pk])
        # The ticket's fields are read-only: no save buttons.
        context.update(show_save=False, show_save_and_continue=False)
        return context

    def _unbound_form(
        self, name: str, form_class: type[ServiceForm], request: HttpRequest, ticket: Ticket
    ) -> Any:
        if name == "out_of_scope":
            return OutOfScopeForm(ticket=ticket, reasons=policy_reasons([ticket]))
        if name == "time":
            return TimeEntryForm(ticket=ticket, initial={"agent": request.user.pk})
        if name == "queue":
            return QueueForm(ticket=ticket, initial={"queue": ticket.queue_id})
        return form_class(ticket=ticket)

    # -- the work views ----------------------------------------------------------------------

    def _work_view(self, name: str) -> Callable[..., HttpResponse]:
        def view(request: AuthenticatedHttpRequest, object_id: str) -> HttpResponse:
            return self.work(request, object_id, name)

        view.__name__ = f"{name}_view"
        return view

    def _ticket_for_work(self, request: HttpRequest, object_id: str) -> Ticket:
        ticket = self.get_object(request, unquote(object_id))
        if ticket is None:
            raise Http404("No such ticket.")
        if not self.has_change_permission(request, ticket):
            raise PermissionDenied
        return ticket

    def work(self, request: AuthenticatedHttpRequest, object_id: str, name: str) -> HttpResponse:
        ticket = self._ticket_for_work(request, object_id)
        change_url = reverse("admin:tickets_ticket_change", args=[ticket.pk])
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        extra = {"reasons": policy_reasons([ticket])} if name == "out_of_scope" else {}
        form = WORK_FORMS[name](request.POST, request.FILES, ticket=ticket, **extra)
        if form.is_valid():
            try:
                text = getattr(self, f"do_{name}")(ticket, form.cleaned_data, request)
            except ValidationError as error:
                form.add_service_error(error)
            else:
                self.message_user(request, text, messages.SUCCESS)
                return HttpResponseRedirect(f"{change_url}#{name.replace('_', '-')}")
        return self.render_with_errors(request, ticket, {f"{name}_form": form})

    def render_with_errors(
        self, request: HttpRequest, ticket: Ticket, bound: dict[str, Any]
    ) -> HttpResponse:
        self.message_user(request, "Nothing was changed: correct the form below.", messages.ERROR)
        # Render the change page (a GET of it) with the bound form and its errors.
        request.method = "GET"
        return self.change_view(request, str(ticket.pk), extra_context=bound)

    def do_reply(
        self, ticket: Ticket, data: dict[str, Any], request: AuthenticatedHttpRequest
    ) -> str:
        internal = data["kind"] == "internal"
        services.ticket_reply(
            ticket=ticket,
            author=request.user,
            body=data["body"],
            internal=internal,
            attachments=data["attachments"],
        )
        return "Internal note added." if internal else "Reply sent to the customer."

    def do_assign(
        self, ticket: Ticket, data: dict[str, Any], request: AuthenticatedHttpRequest
    ) -> str:
        assignee = data["assignee"]
        services.ticket_assign(ticket=ticket, assignee=assignee, by=request.user)
        return f"Assigned to {assignee.get_username()}." if assignee else "Unassigned."

    def do_status(
        self, ticket: Ticket, data: dict[str, Any], request: AuthenticatedHttpRequest
    ) -> str:
        move, reason, by = data["move"], data["reason"], request.user
        if move == "acknowledge":
            services.ticket_acknowledge(ticket=ticket, by=by)
        elif move == "resolve":
            services.ticket_resolve(ticket=ticket, by=by, note=reason)
        elif move == "close":
            services.ticket_close(ticket=ticket, by=by)
        elif move == "reopen":
            services.ticket_reopen(ticket=ticket, by=by, reason=reason)
        else:
            services.ticket_set_status(ticket=ticket, status=move, by=by, reason=reason)
        ticket.refresh_from_db(fields=["status"])
        return f"{ticket.reference} is now {ticket.get_status_display().lower()}."

    def do_queue(
        self, ticket: Ticket, data: dict[str, Any], request: AuthenticatedHttpRequest
    ) -> str:
        queue = data["queue"]
        services.ticket_move_to_queue(
            ticket=ticket, queue=queue, by=request.user, reason=data["reason"]
        )
        return f"Moved to {queue.name}."

    def do_severity(
        self, ticket: Ticket, data: dict[str, Any], request: AuthenticatedHttpRequest
    ) -> str:
        services.ticket_change_severity(
            ticket=ticket, level=data["level"], by=request.user, reason=data["reason"]
        )
        return f"Severity changed to {data['level']}; the customer was told why."

    def do_clarify(
        self, ticket: Ticket, data: dict[str, Any], request: AuthenticatedHttpRequest
    ) -> str:
        services.ticket_request_clarification(
            ticket=ticket, by=request.user, question=data["question"]
        )
        return "The customer was asked to clarify the severity."

    def do_out_of_scope(
        self, ticket: Ticket, data: dict[str, Any], request: AuthenticatedHttpRequest
    ) -> str:
        services.ticket_close_out_of_scope(ticket=ticket, by=request.user, reason=data["reason"])
        return f"{ticket.reference} closed as out of scope."

    def do_time(
        self, ticket: Ticket, data: dict[str, Any], request: AuthenticatedHttpRequest
    ) -> str:
        entry = services.time_entry_log(
            ticket=ticket,
            agent=data["agent"],
            minutes=data["minutes"],
            date=data["date"],
            billable=data["billable"],
            note=data["note"],
        )
        kind = "billable" if entry.billable else "non-billable"
        warning = time_warning(ticket=ticket, date=entry.date) if entry.billable else ""
        if warning:
            self.message_user(request, warning, messages.WARNING)
        return f"Logged {entry.minutes} {kind} minutes for {entry.date:%d %b %Y}."

    def unwarranted_view(
        self, request: AuthenticatedHttpRequest, object_id: str, escalation_id: int
    ) -> HttpResponse:
        ticket = self._ticket_for_work(request, object_id)
        escalation = get_object_or_404(CustomerEscalation, pk=escalation_id, ticket=ticket)
        change_url = reverse("admin:tickets_ticket_change", args=[ticket.pk])
        if request.method != "POST":
            return HttpResponseRedirect(change_url)
        form = UnwarrantedForm(request.POST, ticket=ticket)
        if form.is_valid():
            try:
                services.escalation_mark_unwarranted(
                    escalation=escalation, by=request.user, note=form.cleaned_data["note"]
                )
            except ValidationError as error:
                form.add_service_error(error)
            else:
                self.message_user(request, "Escalation marked unwarranted.", messages.SUCCESS)
                return HttpResponseRedirect(f"{change_url}#escalations")
        return self.render_with_errors(request, ticket, {"unwarranted_form": form})


# --------------------------------------------------------------------------------------------
# The changelist's actions


class TicketActionsMixin(admin.ModelAdmin):
    actions = [
        "assign_to_me",
        "acknowledge",
        "move_to_tier",
        "waiting_on_customer",
        "resolve",
        "close_out_of_scope",
        plan_for_release,
        draft_article,
    ]

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Ticket],
        done_text: str,
        call: Callable[[Ticket], object],
    ) -> None:
        """Apply one service to each ticket; a refusal is reported and the others go on."""
        done = 0
        for ticket in queryset.select_related("plan__policy", "organization"):
            try:
                call(ticket)
            except ValidationError as error:
                self.message_user(
                    request, f"{ticket.reference}: {error_text(error)}", messages.ERROR
                )
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} ticket(s) {done_text}.", messages.SUCCESS)

    def _action_page(
        self,
        request: HttpRequest,
        queryset: QuerySet[Ticket],
        *,
        action: str,
        title: str,
        form: Any,
        button: str,
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "tickets": queryset.select_related("organization"),
            "form": form,
            "action": action,
            "button": button,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/tickets/ticket/action_form.html", context)

    @admin.action(description="Assign to me", permissions=["change"])
    def assign_to_me(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Ticket]) -> None:
        self._each(
            request,
            queryset,
            "assigned to you",
            lambda t: services.ticket_assign(ticket=t, assignee=request.user, by=request.user),
        )

    @admin.action(description="Acknowledge", permissions=["change"])
    def acknowledge(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Ticket]) -> None:
        self._each(
            request,
            queryset,
            "acknowledged",
            lambda t: services.ticket_acknowledge(ticket=t, by=request.user),
        )

    @admin.action(description="Move to a tier\u2026", permissions=["change"])
    def move_to_tier(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[Ticket]
    ) -> TemplateResponse | None:
        form = MoveToTierForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            queue, reason = form.cleaned_data["queue"], form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                f"moved to {queue.name}",
                lambda t: services.ticket_move_to_queue(
                    ticket=t, queue=queue, by=request.user, reason=reason
                ),
            )
            return None
        return self._action_page(
            request,
            queryset,
            action="move_to_tier",
            title="Move tickets to a tier",
            form=form,
            button="Move",
        )

    @admin.action(description="Waiting on customer", permissions=["change"])
    def waiting_on_customer(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[Ticket]
    ) -> None:
        self._each(
            request,
            queryset,
            "waiting on the customer",
            lambda t: services.ticket_set_status(ticket=t, status=Status.WAITING, by=request.user),
        )

    @admin.action(description="Resolve", permissions=["change"])
    def resolve(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Ticket]) -> None:
        self._each(
            request,
            queryset,
            "resolved",
            lambda t: services.ticket_resolve(ticket=t, by=request.user),
        )

    @admin.action(description="Close as out of scope\u2026", permissions=["change"])
    def close_out_of_scope(
        self, request: AuthenticatedHttpRequest, queryset: QuerySet[Ticket]
    ) -> TemplateResponse | None:
        reasons = policy_reasons(queryset.select_related("plan__policy"))
        form = OutOfScopeForm(request.POST if "apply" in request.POST else None, reasons=reasons)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                "closed as out of scope",
                lambda t: services.ticket_close_out_of_scope(
                    ticket=t, by=request.user, reason=reason
                ),
            )
            return None
        return self._action_page(
            request,
            queryset,
            action="close_out_of_scope",
            title="Close as out of scope",
            form=form,
            button="Close the tickets",
        )
