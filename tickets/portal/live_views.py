"""Time left, refreshed on the page: tiny JSON answers the portal's script asks for every minute.

The pages are correct without JavaScript (the server renders the business time left); with it,
`static/js/time-left.js` replaces that text by what the server computes now, so the standing and
the business time left (which stops outside support hours) never drift from the server's clock.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from helpdesk.http import AuthenticatedHttpRequest
from tickets import selectors
from tickets.portal.views import contact_required
from tickets.selectors import ClockView

MAX_REFERENCES = 100
REFRESH_SECONDS = 60


def clock_json(clock: ClockView) -> dict[str, str]:
    return {
        "metric": clock.metric,
        "label": clock.label,
        "state": clock.state,
        "state_label": clock.state_label,
        "left": clock.business_left_text or "",
    }


@require_GET
@contact_required
def ticket_time_left(request: AuthenticatedHttpRequest, reference: str) -> JsonResponse:
    """Each metric's standing and business time left on one ticket of the viewer's organization."""
    ticket = selectors.ticket_for_viewer(user=request.user, reference=reference)
    clocks = selectors.ticket_clocks(ticket=ticket, now=timezone.now())
    return JsonResponse(
        {
            "clocks": {clock.metric: clock_json(clock) for clock in clocks},
            "refresh_seconds": REFRESH_SECONDS,
        }
    )


@require_GET
@contact_required
def dashboard_time_left(request: AuthenticatedHttpRequest) -> JsonResponse:
    """The next due clock of each ticket named by `ref` (the dashboard's rows), in one read."""
    organization = selectors.organization_for(user=request.user)
    references = request.GET.getlist("ref")[:MAX_REFERENCES]
    tickets = selectors.portal_tickets(organization=organization, status="all").filter(
        reference__in=references
    )
    now = timezone.now()
    answer: dict[str, dict[str, str] | None] = {}
    for ticket in tickets:
        clock = selectors.next_due(ticket, now=now)
        answer[str(ticket.reference)] = clock_json(clock) if clock else None
    return JsonResponse({"tickets": answer, "refresh_seconds": REFRESH_SECONDS})
