"""The managers' overage page and CSV, and the hours partial the /plan/ page includes."""

import csv
import datetime as dt
import io
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.template.loader import render_to_string
from django.test import Client

from plans.models import PooledMonths
from tests.factories import (
    AgentFactory,
    CategoryFactory,
    ContractFactory,
    OrganizationFactory,
    PlanFactory,
    TicketFactory,
    TimeEntryFactory,
    UserFactory,
)
from tickets.hours.ledger import plan_hours_summary

pytestmark = pytest.mark.django_db

URL = "/reports/hours/"
CSV_URL = "/reports/hours/overage.csv"
RANGE = {"start": "2027-01", "end": "2027-03"}


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(dt.datetime(2027, 4, 10, 9, 0, tzinfo=dt.UTC), tick=False):
        yield


def _over_package(name: str, *, starts_on: dt.date = dt.date(2027, 1, 1)):
    plan = PlanFactory.create(
        monthly_support_hours=Decimal("1"), overage_billed=True, poolable_months=2
    )
    contract = ContractFactory.create(
        organization=OrganizationFactory.create(name=name, time_zone="Europe/Kyiv"),
        plan=plan,
        starts_on=starts_on,
        overage_hourly_rate=Decimal("75.50"),
    )
    ticket = TicketFactory.create(organization=contract.organization, plan=plan)
    for month in (1, 2, 3):
        TimeEntryFactory.create(ticket=ticket, date=dt.date(2027, month, 10), minutes=100)
    return contract


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def manager():
    user = AgentFactory.create(username="morgan")
    user.groups.add(Group.objects.get_or_create(name="support managers")[0])
    return user


class _Table(HTMLParser):
    """The text of every row of table#overage."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._inside = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table" and ("id", "overage") in attrs:
            self._inside = True
        elif self._inside and tag == "tr":
            self.rows.append([])
        elif self._inside and tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._inside = False
        elif self._inside and tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _page_rows(html: str) -> list[list[str]]:
    parser = _Table()
    parser.feed(html)
    return parser.rows


# -- access -----------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in() -> None:
    response = Client().get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_agents_who_are_not_managers_are_refused() -> None:
    assert _client(AgentFactory.create()).get(URL).status_code == 403


def test_customers_cannot_download_the_billing_csv() -> None:
    assert _client(UserFactory.create()).get(CSV_URL, RANGE).status_code == 403


def test_support_managers_see_the_page(manager) -> None:
    response = _client(manager).get(URL)
    assert response.status_code == 200
    assert "Support-hour billing" in response.text


def test_superusers_see_the_page() -> None:
    admin = UserFactory.create(username="root", is_superuser=True, is_staff=True)
    response = _client(admin).get(URL)
    assert response.status_code == 200
    assert "Support-hour billing" in response.text


# -- content ----------------------------------------------------------------------------------


def test_the_page_lists_overage_by_organization_and_month(manager) -> None:
    contract = _over_package("Acme")
    rows = _page_rows(_client(manager).get(URL, RANGE).content.decode())
    assert rows[0][0] == "Organization"
    # 100 minutes on a 1-hour package: 40 minutes over, at 75.50 an hour.
    assert rows[1:] == [
        [
            "Acme",
            contract.plan.name,
            f"2027-0{m}-01",
            rows[m][3],
            "1",
            "1.00",
            "1.67",
            "0.67",
            "75.50",
            "50.33",
            "closed",
            "Hours beyond the package",
            "0.00",
            "50.33",
        ]
        for m in (1, 2, 3)
    ]


def test_the_csv_equals_the_page(manager) -> None:
    _over_package("Acme")
    _over_package("Bravo, Ltd")
    contract = _over_package("Charlie")
    PooledMonths.objects.create(contract=contract, first_month=dt.date(2027, 2, 1), months=2)
    client = _client(manager)
    page = _page_rows(client.get(URL, RANGE).content.decode())
    response = client.get(CSV_URL, RANGE)
    assert response["Content-Type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(response.content.decode()))) == page
    assert len(page) == 1 + 3 + 3 + 2


def test_a_month_that_is_not_a_month_is_refused_naming_the_field(manager) -> None:
    response = _client(manager).get(URL, {"start": "January", "end": "2027-03"})
    assert response.status_code == 400
    assert "Enter a month as YYYY-MM" in response.content.decode()


def test_the_csv_names_the_bad_field(manager) -> None:
    response = _client(manager).get(CSV_URL, {"start": "2027-03", "end": "2027-01"})
    assert response.status_code == 400
    assert response.content.decode().startswith("To billing month:")


@pytest.mark.parametrize("organizations", [1, 10])
def test_the_page_runs_a_fixed_number_of_queries(
    django_assert_num_queries, manager, organizations: int
) -> None:
    for number in range(organizations):
        _over_package(f"Org {number}")
    client = _client(manager)
    client.get(URL, RANGE)  # warm the session and the viewer's zone
    # session, user, viewer zone, the manager check (cached for the navigation too),
    # contracts, pools, entries, the contracts billed as used or charged for escalations
    with django_assert_num_queries(8):
        response = client.get(URL, RANGE)
    assert len(_page_rows(response.content.decode())) == 1 + 3 * organizations


# -- the /plan/ partial -----------------------------------------------------------------------


def test_the_partial_shows_used_left_and_overage_this_period() -> None:
    contract = _over_package("Acme", starts_on=dt.date(2027, 1, 1))
    TimeEntryFactory.create(
        ticket=TicketFactory.create(organization=contract.organization, plan=contract.plan),
        date=dt.date(2027, 4, 2),
        minutes=75,
        note="Cache warm-up",
    )
    summary = plan_hours_summary(organization=contract.organization, today=dt.date(2027, 4, 10))
    html = render_to_string("portal/_hours.html", {"hours": summary})
    assert "1.25" in html  # used
    assert "0.25" in html  # overage
    assert "Cache warm-up" in html
    assert "Past periods" in html


def test_the_partial_shows_enablement_hours_left() -> None:
    plan = PlanFactory.create(monthly_support_hours=None, enablement_hours_per_year=Decimal("8"))
    contract = ContractFactory.create(plan=plan, starts_on=dt.date(2027, 1, 1))
    category = CategoryFactory.create(plan=plan, draws_enablement_hours=True)
    ticket = TicketFactory.create(organization=contract.organization, plan=plan, category=category)
    TimeEntryFactory.create(ticket=ticket, date=dt.date(2027, 2, 2), minutes=150)
    summary = plan_hours_summary(organization=contract.organization, today=dt.date(2027, 4, 10))
    html = render_to_string("portal/_hours.html", {"hours": summary})
    assert "Enablement sessions" in html
    assert "5.50" in html


def test_rendering_the_partial_runs_no_queries(django_assert_num_queries) -> None:
    contract = _over_package("Acme")
    summary = plan_hours_summary(organization=contract.organization, today=dt.date(2027, 4, 10))
    with django_assert_num_queries(0):
        render_to_string("portal/_hours.html", {"hours": summary})


def test_the_partial_renders_nothing_without_hours() -> None:
    assert render_to_string("portal/_hours.html", {"hours": None}).strip() == ""


def test_the_csv_neutralizes_a_name_a_spreadsheet_would_run(manager) -> None:
    _over_package('=HYPERLINK("http://evil.example")')
    rows = list(csv.reader(io.StringIO(_client(manager).get(CSV_URL, RANGE).content.decode())))
    assert {row[0] for row in rows[1:]} == {'\'=HYPERLINK("http://evil.example")'}
    assert all(not cell.startswith("'") for row in rows[1:] for cell in row[1:])
