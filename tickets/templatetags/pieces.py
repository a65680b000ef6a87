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
from typing import Any

from django import template
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # not in the stubs

register = template.Library()

NO_TIME = SafeString('<span class="text-body-secondary">-</span>')


def day_and_time(local: dt.datetime) -> str:
    """`Fri 20 Nov 2026, 14:05`: the `date` filter's `D j M Y, H:i`."""
    day = WEEKDAYS_ABBR[local.weekday()]
    month = str(MONTHS_3[local.month]).title()
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
