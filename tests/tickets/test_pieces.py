"""The pieces pages repeat (`tickets.templatetags.pieces`): the same HTML as Django's template
language writes for them, in the viewer's zone."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from tests.factories import OrganizationFactory, SlaClockFactory, TicketFactory, UserFactory
from tickets import selectors
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


# -- the dashboard's ticket list ---------------------------------------------------------------

# The list's loop bodies as they were written in the template language.
CARD_AS_TEMPLATE = (
    "\n"
    '  <li class="list-group-item py-3" data-ticket="{{ ticket.reference }}">\n'
    '    <div class="d-flex justify-content-between align-items-start gap-2">\n'
    '      <a class="fw-semibold text-decoration-none stretched-link" href="{{'
    ' ticket.get_absolute_url }}">{{ ticket.reference }}</a>\n'
    "      {% status_badge ticket %}\n"
    "    </div>\n"
    '    <div class="my-1">{{ ticket.subject }}</div>\n'
    '    <div class="d-flex flex-wrap align-items-center gap-2 small">\n'
    "      {% severity_pill ticket.severity %}\n"
    "      {% with clock=ticket.next_due %}{% if clock %}\n"
    '      <span><span data-live="label">{{ clock.label }}</span> due {% local_time'
    ' clock.due_at %}{% if clock.business_left_text %} · <span data-live="left">{{'
    " clock.business_left_text }}</span>{% endif %}</span>\n"
    "      {% sla_state clock %}\n"
    "      {% endif %}{% endwith %}\n"
    "    </div>\n"
    "  </li>\n"
    "  "
)
ROW_AS_TEMPLATE = (
    "\n"
    '        <tr data-ticket="{{ ticket.reference }}">\n'
    "          <td>\n"
    '            <a class="fw-semibold text-decoration-none" href="{{'
    ' ticket.get_absolute_url }}">{{ ticket.reference }}</a>\n'
    '            <div class="text-truncate ticket-subject">{{ ticket.subject'
    " }}</div>\n"
    "          </td>\n"
    "          <td>{% severity_pill ticket.severity %}</td>\n"
    "          <td>{% status_badge ticket %}</td>\n"
    '          <td class="d-none d-lg-table-cell">{{'
    " ticket.requester.get_full_name|default:ticket.requester.username }}</td>\n"
    '          <td class="small">\n'
    "            {% with clock=ticket.next_due %}\n"
    "            {% if clock %}\n"
    '              <div data-live="label">{{ clock.label }}</div>\n'
    "              <div>{% local_time clock.due_at %}</div>\n"
    '              {% if clock.business_left_text %}<div class="text-body-secondary"'
    ' data-live="left">{{ clock.business_left_text }}</div>{% endif %}\n'
    "              {% sla_state clock %}\n"
    '            {% else %}<span class="text-body-secondary">-</span>{% endif %}\n'
    "            {% endwith %}\n"
    "          </td>\n"
    '          <td class="d-none d-md-table-cell small">{% local_time'
    " ticket.updated_at %}</td>\n"
    "        </tr>\n"
    "        "
)


@pytest.fixture
def listed_tickets() -> list[Ticket]:
    """Tickets as the dashboard lists them: with a running, a paused, a breached or no clock;
    requesters with and without a name; markup in a subject."""
    now = timezone.now()
    organization = OrganizationFactory.create()
    named = UserFactory.create(first_name="Ann", last_name="O'Neil <ops>")
    running = TicketFactory.create(
        organization=organization, subject="<b>Down</b> & out", requester=named
    )
    SlaClockFactory.create(ticket=running)
    paused = TicketFactory.create(organization=organization)
    SlaClockFactory.create(ticket=paused, state="paused", paused_at=now)
    breached = TicketFactory.create(organization=organization)
    SlaClockFactory.create(
        ticket=breached, due_at=now - dt.timedelta(hours=1), state="breached", breached_at=now
    )
    TicketFactory.create(organization=organization, status=Status.WAITING)
    tickets = list(selectors.portal_tickets(organization=organization, status="all"))
    for ticket in tickets:
        ticket.next_due = selectors.next_due(ticket, now=now)  # type: ignore[attr-defined]
    return tickets


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("tag", "reference"),
    [("ticket_card", CARD_AS_TEMPLATE), ("ticket_row", ROW_AS_TEMPLATE)],
    ids=["card", "row"],
)
def test_a_listed_ticket_is_the_templates(
    listed_tickets: list[Ticket], tag: str, reference: str
) -> None:
    assert any(ticket.next_due for ticket in listed_tickets)  # type: ignore[attr-defined]
    assert any(not ticket.next_due for ticket in listed_tickets)  # type: ignore[attr-defined]
    with timezone.override(ZoneInfo("Europe/London")):
        for ticket in listed_tickets:
            context = {"ticket": ticket, "viewer_tz": "Europe/London"}
            expected = render(reference, **context)
            assert render(f"{{% {tag} ticket %}}", **context) == expected
