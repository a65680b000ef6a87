"""The pieces pages repeat (`tickets.templatetags.pieces`): the same HTML as Django's template
language writes for them, in the viewer's zone."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from tickets.models import Status, Ticket

# What the pieces were as included templates, written with Django's own filters.
TIME_AS_TEMPLATE = (
    '{% if value %}<time datetime="{{ value|date:\'c\' }}">{{ value|date:"D j M Y, H:i" }} '
    '<span class="text-body-secondary">{{ viewer_tz }}</span></time>'
    '{% else %}<span class="text-body-secondary">-</span>{% endif %}'
)
PILL_AS_TEMPLATE = (
    '<span class="badge rounded-pill sev-pill sev-{{ severity.level }}" '
    'title="{{ severity.definition }}">{{ severity.level }} · {{ severity.name }}</span>'
)
STATUS_AS_TEMPLATE = (
    '<span class="badge status-badge status-{{ ticket.status }}">'
    "{{ ticket.get_status_display }}</span>"
)
STATE_AS_TEMPLATE = (
    '<span class="badge sla-badge sla-{{ clock.state }}" data-live="state">'
    "{{ clock.state_label }}</span>"
)


def render(source: str, **context: object) -> str:
    return Template("{% load pieces %}" + source).render(Context(context))


INSTANTS = [
    dt.datetime(2026, 3, 29, 0, 59, tzinfo=dt.UTC),  # London's clocks go forward at 01:00
    dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 10, 4, 16, 5, 7, 123456, tzinfo=dt.UTC),  # Sydney's, at 02:00 local
    dt.datetime(2027, 1, 1, 23, 30, tzinfo=dt.UTC),
    dt.datetime(999, 12, 31, 23, 0, tzinfo=dt.UTC),  # a year below 1000: four digits
]
ZONES = ["UTC", "Europe/London", "Australia/Sydney", "Asia/Kolkata", "America/St_Johns"]


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("instant", INSTANTS, ids=str)
def test_an_instant_reads_as_the_date_filter_writes_it(zone: str, instant: dt.datetime) -> None:
    with timezone.override(ZoneInfo(zone)):
        expected = Template(TIME_AS_TEMPLATE).render(Context({"value": instant, "viewer_tz": zone}))
        assert render("{% local_time value %}", value=instant, viewer_tz=zone) == expected


def test_an_instant_reads_in_the_pages_language() -> None:
    instant = dt.datetime(2026, 5, 6, 7, 8, tzinfo=dt.UTC)
    with translation.override("de"):
        expected = Template(TIME_AS_TEMPLATE).render(Context({"value": instant}))
        assert render("{% local_time value %}", value=instant) == expected


def test_no_instant_reads_as_a_dash() -> None:
    assert render("{% local_time value %}", value=None) == (
        '<span class="text-body-secondary">-</span>'
    )


def test_a_severity_pill_is_the_templates() -> None:
    severity = SimpleNamespace(level=2, name="High <b>", definition='"Major" & urgent')
    expected = Template(PILL_AS_TEMPLATE).render(Context({"severity": severity}))
    assert render("{% severity_pill severity %}", severity=severity) == expected


def test_a_status_badge_is_the_templates() -> None:
    ticket = Ticket(status=Status.WAITING)
    expected = Template(STATUS_AS_TEMPLATE).render(Context({"ticket": ticket}))
    assert render("{% status_badge ticket %}", ticket=ticket) == expected


def test_an_sla_state_badge_is_the_templates() -> None:
    clock = SimpleNamespace(state="at_risk", state_label="At risk <soon>")
    expected = Template(STATE_AS_TEMPLATE).render(Context({"clock": clock}))
    assert render("{% sla_state clock %}", clock=clock) == expected
