"""The pieces pages repeat, one definition each: an instant in the viewer's zone, a severity
pill, a status badge, an SLA state badge. `{% load pieces %}`, then `{% local_time value %}`,
`{% severity_pill severity %}`, `{% status_badge ticket %}`, `{% sla_state clock %}`.

Written in Python rather than as included templates: a ticket list shows them a few times per
row, and an included template with Django's `date` filter costs tens of microseconds a time.
The text is the one the `date` filter writes (`D j M Y, H:i`, the names from Django's
translated tables), in the zone the page is shown in.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django import template
from django.utils import translation
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # not in the stubs

register = template.Library()

NO_TIME = SafeString('<span class="text-body-secondary">-</span>')


@functools.cache
def _date_names(language: str | None) -> tuple[list[str], dict[int, str]]:
    """The day and month abbreviations in `language` (the active one when first asked)."""
    days = [str(WEEKDAYS_ABBR[day]) for day in range(7)]
    return days, {month: str(name).title() for month, name in MONTHS_3.items()}


def day_and_time(local: dt.datetime) -> str:
    """`Fri 20 Nov 2026, 14:05`: the `date` filter's `D j M Y, H:i`."""
    days, months = _date_names(translation.get_language())
    day, month = days[local.weekday()], months[local.month]
    return f"{day} {local.day} {month} {local.year:04d}, {local.hour:02d}:{local.minute:02d}"


@register.simple_tag(takes_context=True)
def local_time(context: template.Context, value: dt.datetime | None) -> SafeString:
    """An instant in the viewer's zone, with the zone named; a dash for none."""
    if not value:
        return NO_TIME
    local = template_localtime(value, context.use_tz)
    zone = escape(context.get("viewer_tz", ""))
    return SafeString(
        f'<time datetime="{escape(local.isoformat())}">{escape(day_and_time(local))} '
        f'<span class="text-body-secondary">{zone}</span></time>'
    )


@register.simple_tag
def severity_pill(severity: Any) -> SafeString:
    """A severity (`plans.Severity`) as a coloured pill, its definition as the title."""
    level = escape(getattr(severity, "level", ""))
    title = escape(getattr(severity, "definition", ""))
    name = escape(getattr(severity, "name", ""))
    return SafeString(
        f'<span class="badge rounded-pill sev-pill sev-{level}" title="{title}">'
        f"{level} \u00b7 {name}</span>"
    )


@register.simple_tag
def status_badge(ticket: Any) -> SafeString:
    """A ticket's status as a badge."""
    status = escape(getattr(ticket, "status", ""))
    label = escape(ticket.get_status_display()) if ticket is not None else ""
    return SafeString(f'<span class="badge status-badge status-{status}">{label}</span>')


@register.simple_tag
def sla_state(clock: Any) -> SafeString:
    """An SLA clock's state (`tickets.selectors.ClockView`) as a badge that the page's script
    keeps current."""
    state = escape(getattr(clock, "state", ""))
    label = escape(getattr(clock, "state_label", ""))
    return SafeString(f'<span class="badge sla-badge sla-{state}" data-live="state">{label}</span>')


# -- the dashboard's ticket list: a card per ticket on phones, a table row on wider screens ----
# Each written whole (the markup the list's loops had, whitespace and all): the list shows up
# to 25 tickets twice, and the template language spends a few microseconds on each of the
# sixty-odd nodes of a ticket.


TICKET_PARTS = "pieces.ticket_parts"
"""Where a page's render keeps the parts of the tickets it has written."""


def _ticket_parts(context: template.Context, ticket: Any) -> dict[str, Any]:
    """The pieces a ticket's card and row share, written once per page."""
    written: dict[Any, dict[str, Any]] | None = context.render_context.get(TICKET_PARTS)
    if written is None:
        written = context.render_context[TICKET_PARTS] = {}
    if ticket.pk not in written:
        written[ticket.pk] = _write_ticket_parts(context, ticket)
    return written[ticket.pk]


def _write_ticket_parts(context: template.Context, ticket: Any) -> dict[str, Any]:
    clock = getattr(ticket, "next_due", None)
    left = clock.business_left_text if clock else None
    return {
        "ref": escape(ticket.reference),
        "url": escape(ticket.get_absolute_url()),
        "subject": escape(ticket.subject),
        "status": status_badge(ticket),
        "pill": severity_pill(ticket.severity),
        "clock": clock,
        "label": escape(clock.label) if clock else "",
        "due": local_time(context, clock.due_at) if clock else "",
        "left": escape(left) if left else "",
        "state": sla_state(clock) if clock else "",
    }


@register.simple_tag(takes_context=True)
def ticket_card(context: template.Context, ticket: Any) -> SafeString:
    """A ticket as a card (`ticket.next_due`: its most urgent live clock's view, if any)."""
    p = _ticket_parts(context, ticket)
    due = ""
    if p["clock"]:
        left = f' · <span data-live="left">{p["left"]}</span>' if p["left"] else ""
        due = (
            f'\n      <span><span data-live="label">{p["label"]}</span> due {p["due"]}{left}'
            f"</span>\n      {p['state']}\n      "
        )
    return SafeString(
        f'\n  <li class="list-group-item py-3" data-ticket="{p["ref"]}">'
        '\n    <div class="d-flex justify-content-between align-items-start gap-2">'
        f'\n      <a class="fw-semibold text-decoration-none stretched-link" href="{p["url"]}">'
        f"{p['ref']}</a>"
        f"\n      {p['status']}"
        "\n    </div>"
        f'\n    <div class="my-1">{p["subject"]}</div>'
        '\n    <div class="d-flex flex-wrap align-items-center gap-2 small">'
        f"\n      {p['pill']}"
        f"\n      {due}"
        "\n    </div>"
        "\n  </li>"
        "\n  "
    )


@register.simple_tag(takes_context=True)
def ticket_row(context: template.Context, ticket: Any) -> SafeString:
    """A ticket as a table row (`ticket.next_due` as for `ticket_card`)."""
    p = _ticket_parts(context, ticket)
    requester = ticket.requester
    if p["clock"]:
        left = (
            f'<div class="text-body-secondary" data-live="left">{p["left"]}</div>'
            if p["left"]
            else ""
        )
        due = (
            f'\n              <div data-live="label">{p["label"]}</div>'
            f"\n              <div>{p['due']}</div>"
            f"\n              {left}"
            f"\n              {p['state']}"
            "\n            "
        )
    else:
        due = '<span class="text-body-secondary">-</span>'
    return SafeString(
        f'\n        <tr data-ticket="{p["ref"]}">'
        "\n          <td>"
        f'\n            <a class="fw-semibold text-decoration-none" href="{p["url"]}">'
        f"{p['ref']}</a>"
        f'\n            <div class="text-truncate ticket-subject">{p["subject"]}</div>'
        "\n          </td>"
        f"\n          <td>{p['pill']}</td>"
        f"\n          <td>{p['status']}</td>"
        '\n          <td class="d-none d-lg-table-cell">'
        f"{escape(requester.get_full_name() or requester.username)}</td>"
        '\n          <td class="small">'
        "\n            "
        f"\n            {due}"
        "\n            "
        "\n          </td>"
        '\n          <td class="d-none d-md-table-cell small">'
        f"{local_time(context, ticket.updated_at)}</td>"
        "\n        </tr>"
        "\n        "
    )
