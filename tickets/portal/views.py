"""Customer portal views: parse input, check access (outsiders get 404), call one service,
render or redirect. Reads come from `tickets.selectors`, writes from the services."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from helpdesk.http import AuthenticatedHttpRequest, int_param
from plans.models import ContactInvitation, ContactRole, UserProfile
from plans.selectors import (
    account_team,
    contract_active,
    contract_conditions,
    effective_plan,
    support_refused,
)
from plans.services import (
    contact_invitation_accept,
    contact_invitation_resend,
    contact_invitation_send,
    invitation_for_token,
    named_contact_remove,
    user_time_zone_set,
)
from tickets import selectors, services
from tickets.entitlements import (
    allowed_channels,
    can_request_escalation,
    can_request_post_incident_report,
    entitlement_for,
)
from tickets.hours.ledger import plan_hours_summary
from tickets.kb import selectors as kb_selectors
from tickets.models import Ticket
from tickets.portal.contact_change_views import contact_change_context
from tickets.portal.forms import (
    AccountForm,
    ContactAddForm,
    EscalationForm,
    InvitationAcceptForm,
    ReopenForm,
    ReplyForm,
    TicketForm,
    apply_errors,
)
from tickets.services.submission import served_content_type
from tickets.unwarranted import unwarranted_summary

PAGE_SIZE = 25

View = Callable[..., HttpResponseBase]


def contact_required(view: View) -> View:
    """Signed in and a named contact of a customer organization; anyone else gets 404."""

    @login_required
    @wraps(view)
    def wrapper(request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        selectors.organization_for(user=request.user)
        return view(request, *args, **kwargs)

    return wrapper


# -- dashboard --------------------------------------------------------------------------------


@login_required
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    contact = selectors.contact_for(user=request.user)
    if contact is None:
        return render(request, "portal/not_a_contact.html", status=200)
    organization = contact.organization
    status = request.GET.get("status", "open")
    if status not in selectors.STATUS_FILTERS:
        status = "open"
    severity = int_param(request.GET, "severity", max_digits=4)
    search = request.GET.get("q", "")[:100]
    tickets = selectors.portal_tickets(
        organization=organization, status=status, severity=severity, search=search
    )
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    page.object_list = list(page.object_list)
    for ticket in page.object_list:
        ticket.next_due = selectors.next_due(ticket, now=now)  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/dashboard.html",
        {
            "organization": organization,
            "page": page,
            "status": status,
            "status_filters": selectors.STATUS_FILTERS,
            "severity": severity,
            "severities": selectors.severities_for(organization=organization),
            "q": search,
            "query": query.urlencode(),
        },
    )


# -- new ticket -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def ticket_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        entitlement = entitlement_for(user=request.user)
    except ValidationError as error:
        return render(request, "portal/not_entitled.html", {"reasons": error.messages}, status=403)
    plan = entitlement.plan
    posted = request.method == "POST"
    form = TicketForm(
        request.POST if posted else None, request.FILES if posted else None, plan=plan
    )
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_create(
                requester=request.user, entitlement=entitlement, **form.service_kwargs()
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{ticket.reference} is open. We have emailed you a copy.")
            return redirect(ticket)
    channel_map = {c.pk: allowed_channels(plan=plan, category=c) for c in form.categories}
    subject = request.POST.get("subject", "") if posted else request.GET.get("subject", "")
    # Each severity's targets under the plan, shown on its card before the customer submits.
    targets: dict[int, list[selectors.TargetRow]] = {}
    for row in selectors.response_times(plan=plan, time_zone=entitlement.organization.time_zone):
        targets.setdefault(row.severity.level, []).append(row)
    # Paired, not set on the severities: those rows are shared by every request of the process
    # (`plans.policy_cache`) and must not change.
    severity_cards = [(severity, targets.get(severity.level, [])) for severity in form.severities]
    return render(
        request,
        "portal/new.html",
        {
            "form": form,
            "entitlement": entitlement,
            "plan": plan,
            "channel_map": channel_map,
            "severity_cards": severity_cards,
            "refused": support_refused(contract=entitlement.contract),
            "suggestions": kb_selectors.suggestions(user=request.user, subject=subject),
        },
        status=400 if form.errors else 200,
    )


# -- ticket page and its actions ---------------------------------------------------------------


def _detail(request: AuthenticatedHttpRequest, ticket: Ticket, **forms: Any) -> HttpResponse:
    level = ticket.severity.level
    context = {
        "ticket": ticket,
        "conversation": selectors.ticket_conversation(ticket=ticket),
        "loose_attachments": selectors.ticket_loose_attachments(ticket=ticket),
        "timeline": selectors.ticket_timeline(ticket=ticket),
        "clocks": selectors.ticket_clocks(ticket=ticket, now=timezone.now()),
        "can_pir": can_request_post_incident_report(plan=ticket.plan, severity_level=level),
        "can_escalate": ticket.is_open
        and can_request_escalation(plan=ticket.plan, severity_level=level),
        "reply_form": forms.get("reply_form") or ReplyForm(),
        "reopen_form": forms.get("reopen_form") or ReopenForm(),
        "escalation_form": forms.get("escalation_form") or EscalationForm(),
        "escalation_open": "escalation_form" in forms,
    }
    status = 400 if any(f.errors for f in forms.values()) else 200
    return render(request, "portal/detail.html", context, status=status)


@contact_required
def ticket_detail(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_for_viewer(user=request.user, reference=reference)
    return _detail(request, ticket)


@contact_required
@require_POST
def ticket_reply(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_for_viewer(user=request.user, reference=reference)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.ticket_reply(
                ticket=ticket,
                author=request.user,
                body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Your reply was added.")
            return redirect(ticket)
    return _detail(request, ticket, reply_form=form)


def _action(
    request: AuthenticatedHttpRequest, ticket: Ticket, call: Callable[[], object], done: str
) -> HttpResponse:
    try:
        call()
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, done)
    return redirect(ticket)


@contact_required
@require_POST
def ticket_close(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_for_viewer(user=request.user, reference=reference)
    return _action(
        request,
        ticket,
        lambda: services.ticket_close(ticket=ticket, by=request.user),
        f"{ticket.reference} is closed.",
    )


@contact_required
@require_POST
def ticket_reopen(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_for_viewer(user=request.user, reference=reference)
    form = ReopenForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _action(
        request,
        ticket,
        lambda: services.ticket_reopen(ticket=ticket, by=request.user, reason=reason),
        f"{ticket.reference} is open again.",
    )


@contact_required
@require_POST
def ticket_request_pir(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_for_viewer(user=request.user, reference=reference)
    return _action(
        request,
        ticket,
        lambda: services.ticket_request_post_incident_report(ticket=ticket, by=request.user),
        "Post-incident report requested.",
    )


@contact_required
@require_POST
def ticket_escalate(request: AuthenticatedHttpRequest, reference: str) -> HttpResponse:
    ticket = selectors.ticket_for_viewer(user=request.user, reference=reference)
    form = EscalationForm(request.POST)
    if form.is_valid():
        try:
            services.ticket_request_escalation(
                ticket=ticket, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            if not hasattr(error, "error_dict"):  # not allowed at all: nothing to correct
                for message in error.messages:
                    messages.error(request, message)
                return redirect(ticket)
            apply_errors(form, error)
        else:
            messages.success(request, "Escalation requested: a support manager has been told.")
            return redirect(ticket)
    return _detail(request, ticket, escalation_form=form)


@contact_required
def attachment_download(request: AuthenticatedHttpRequest, reference: str, pk: int) -> FileResponse:
    attachment = selectors.attachment_for_viewer(user=request.user, reference=reference, pk=pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as missing:
        raise Http404("The file is no longer stored.") from missing
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.name,
        content_type=served_content_type(attachment.content_type),
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# -- plan -------------------------------------------------------------------------------------


def _plan_context(
    request: AuthenticatedHttpRequest, add_form: ContactAddForm | None = None
) -> dict[str, Any]:
    contact = selectors.contact_for(user=request.user)
    assert contact is not None
    organization = contact.organization
    contract = contract_active(organization=organization)
    context: dict[str, Any] = {
        "organization": organization,
        "contract": contract,
        "me": contact,
        "is_admin": contact.role == ContactRole.ADMIN,
        "contacts": list(selectors.organization_contacts(organization=organization)),
        "add_form": add_form or ContactAddForm(),
        "invitations": list(
            ContactInvitation.objects.filter(
                organization=organization, accepted_at__isnull=True
            ).order_by("email")
        )
        if contact.role == ContactRole.ADMIN
        else [],
        "now": timezone.now(),
        "hours": None,
    }
    if contract is None:
        return context
    contract.organization = organization  # already read with the contact
    plan = contract.plan
    applies = effective_plan(contract=contract)
    context.update(
        plan=plan,
        applies=applies,
        onboarding_pending=applies.pk != plan.pk,
        response_times=selectors.response_times(plan=plan, time_zone=organization.time_zone),
        applies_response_times=(
            selectors.response_times(plan=applies, time_zone=organization.time_zone)
            if applies.pk != plan.pk
            else None
        ),
        severities=list(plan.policy.severities.order_by("level")),
        categories=selectors.plan_categories(plan=plan),
        not_covered=plan.policy.not_covered,
        limit=plan.named_contacts,
        account_team=account_team(contract=contract),
        conditions=contract_conditions(contract=contract),
    )
    context["unwarranted"] = unwarranted_summary(contract=contract, today=timezone.localdate())
    context["hours"] = plan_hours_summary(organization=organization, today=timezone.localdate())
    return context


@contact_required
def plan(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "portal/plan.html", _plan_context(request))


def _require_org_admin(request: AuthenticatedHttpRequest) -> None:
    contact = selectors.contact_for(user=request.user)
    if contact is None or contact.role != ContactRole.ADMIN:
        raise Http404("Only an organization admin manages named contacts.")


@contact_required
@require_POST
def contact_add(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_org_admin(request)
    organization = selectors.organization_for(user=request.user)
    form = ContactAddForm(request.POST)
    if form.is_valid():
        try:
            invitation = contact_invitation_send(
                organization=organization,
                by=request.user,
                site_url=settings.SITE_URL,
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_errors(form, error, aliases={"user": "email"})
        else:
            messages.success(
                request,
                f"Invitation sent to {invitation.email}. They become a named contact when they "
                "accept it.",
            )
            return redirect("tickets:plan")
    return render(request, "portal/plan.html", _plan_context(request, add_form=form), status=400)


@contact_required
@require_POST
def contact_remove(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_org_admin(request)
    organization = selectors.organization_for(user=request.user)
    contact = selectors.contact_of_organization(organization=organization, pk=pk)
    if contact.user_id == request.user.pk:
        messages.error(request, "You cannot remove yourself; ask another organization admin.")
        return redirect("tickets:plan")
    named_contact_remove(contact=contact, changed_by=request.user, reason="Removed in the portal")
    messages.success(request, f"{contact.user.email or contact.user} is no longer a named contact.")
    return redirect("tickets:plan")


@contact_required
@require_POST
def invitation_resend(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_org_admin(request)
    organization = selectors.organization_for(user=request.user)
    invitation = ContactInvitation.objects.filter(
        organization=organization, pk=pk, accepted_at__isnull=True
    ).first()
    if invitation is None:
        raise Http404("No such invitation.")
    contact_invitation_resend(invitation=invitation, by=request.user, site_url=settings.SITE_URL)
    messages.success(request, f"Invitation sent again to {invitation.email}.")
    return redirect("tickets:plan")


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invited person's link: accept signed in, or choose a password for a new account."""
    invitation = invitation_for_token(token)
    if invitation is None:
        return render(request, "portal/invitation.html", {"gone": True}, status=404)
    signed_in = request.user.is_authenticated
    form = InvitationAcceptForm(
        request.POST if request.method == "POST" else None, new_account=not signed_in
    )
    context: dict[str, Any] = {"invitation": invitation, "form": form, "errors": []}
    if request.method == "POST" and form.is_valid():
        try:
            contact = contact_invitation_accept(
                invitation=invitation,
                user=request.user if isinstance(request.user, User) else None,
                password=form.cleaned_data.get("password1", ""),
            )
        except ValidationError as error:
            context["errors"] = error.messages
        else:
            if not signed_in:
                login(request, contact.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"You are now a named contact of {contact.organization}.")
            return redirect("tickets:dashboard")
    status = 400 if context["errors"] or form.errors else 200
    return render(request, "portal/invitation.html", context, status=status)


# -- account ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def account(request: AuthenticatedHttpRequest) -> HttpResponse:
    profile = UserProfile.objects.filter(user=request.user).first() or UserProfile(
        user=request.user, time_zone=timezone.get_current_timezone_name()
    )
    form = AccountForm(request.POST if request.method == "POST" else None, instance=profile)
    if request.method == "POST" and form.is_valid():
        user_time_zone_set(user=request.user, time_zone=form.cleaned_data["time_zone"])
        messages.success(request, f"Times are now shown in {form.cleaned_data['time_zone']}.")
        return redirect("tickets:account")
    return render_account(request, form=form, status=400 if form.errors else 200)


def render_account(
    request: AuthenticatedHttpRequest,
    *,
    form: AccountForm | None = None,
    contact_change_form: Any = None,
    status: int = 200,
) -> HttpResponse:
    """The account page: time zone, and (for named contacts) the contact change request."""
    if form is None:
        profile = UserProfile.objects.filter(user=request.user).first() or UserProfile(
            user=request.user, time_zone=timezone.get_current_timezone_name()
        )
        form = AccountForm(instance=profile)
    context = {"form": form, **contact_change_context(request, contact_change_form)}
    return render(request, "portal/account.html", context, status=status)
