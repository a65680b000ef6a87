"""The SLA report pages: access, filters in the URL, the CSV equals the page, the statement."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from plans.models import Organization
from tests.builders.sla_report import NOW, build_report_dataset, make_manager
from tests.factories import AgentFactory, UserFactory

pytestmark = pytest.mark.django_db

NOVEMBER = {"start": "2026-11-01", "end": "2026-11-30"}


@pytest.fixture(autouse=True)
def frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def data() -> SimpleNamespace:
    return build_report_dataset()


@pytest.fixture
def manager(client: Client) -> Client:
    client.force_login(make_manager())
    return client


def statement_url(org: str = "acme", month: str = "2026-11") -> str:
    return reverse("reports:statement", args=[org, month])


class Tables(HTMLParser):
    """The text of every cell of tables marked `data-section`, by section."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, list[list[str]]] = {}
        self.current: list[list[str]] | None = None
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "table" and attributes.get("data-section"):
            self.current = self.sections.setdefault(str(attributes["data-section"]), [])
        elif tag == "tr" and self.current is not None:
            self.current.append([])
        elif tag in ("td", "th") and self.current is not None:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None and self.current is not None:
            self.current[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "table":
            self.current = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def page_tables(html: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.sections


def csv_blocks(text: str) -> list[list[list[str]]]:
    blocks: list[list[list[str]]] = [[]]
    for row in csv.reader(io.StringIO(text)):
        if row:
            blocks[-1].append(row)
        else:
            blocks.append([])
    return [block for block in blocks if block]


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["report", "export"])
def test_anonymous_visitors_are_sent_to_sign_in(client: Client, name: str) -> None:
    response = client.get(reverse(f"reports:{name}"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_visitors_are_sent_to_sign_in_from_a_statement(client: Client) -> None:
    response = client.get(statement_url())
    assert response.status_code == 302


@pytest.mark.parametrize("name", ["report", "export"])
def test_agents_who_are_not_managers_are_refused(client: Client, name: str) -> None:
    client.force_login(AgentFactory.create())
    assert client.get(reverse(f"reports:{name}")).status_code == 403


def test_customers_are_refused_a_statement(client: Client, data: SimpleNamespace) -> None:
    client.force_login(UserFactory.create())
    assert client.get(statement_url()).status_code == 403


def test_support_managers_see_the_report(manager: Client) -> None:
    response = manager.get(reverse("reports:report"))
    assert response.status_code == 200
    assert "SLA report" in response.text


def test_superusers_see_the_report(client: Client, django_user_model: Any) -> None:
    client.force_login(django_user_model.objects.create_superuser("root", "r@example.com", "pw"))
    response = client.get(reverse("reports:report"))
    assert response.status_code == 200
    assert "SLA report" in response.text


# --- period and filters ----------------------------------------------------------------------


def test_the_default_period_is_the_last_30_days_in_the_managers_zone(manager: Client) -> None:
    filters = manager.get(reverse("reports:report")).context["report"].filters
    # 12:00 UTC on 10 December is 07:00 in New York: 11 November to 10 December, local midnights.
    assert (filters.start, filters.end) == (
        dt.datetime(2026, 11, 11, 5, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 11, 5, tzinfo=dt.UTC),
    )


def test_the_page_counts_a_breach_on_the_managers_last_local_day(
    manager: Client, data: SimpleNamespace
) -> None:
    response = manager.get(reverse("reports:report"), {**NOVEMBER, "metric": "resolution"})
    rows = page_tables(response.content.decode())["achievement"]
    assert rows[1] == ["Resolution", "0", "1", "1", "0%"]


def test_the_page_states_the_denominator(manager: Client, data: SimpleNamespace) -> None:
    response = manager.get(reverse("reports:report"), NOVEMBER)
    assert "2 met on time of 3 counted" in response.content.decode()


def test_filters_are_read_from_the_url(manager: Client, data: SimpleNamespace) -> None:
    query = {**NOVEMBER, "plan": "gold", "organization": "acme", "severity": "2", "queue": "l2"}
    query |= {"agent": "bob", "metric": "first_response"}
    rows = page_tables(manager.get(reverse("reports:report"), query).content.decode())["by_plan"]
    assert rows[1:] == [["Gold", "0", "1", "1", "0%"]]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("plan", "no-such-plan"),
        ("organization", "nobody"),
        ("severity", "nine"),
        ("queue", "l9"),
        ("agent", "mallory"),
        ("metric", "happiness"),
        ("start", "yesterday"),
        ("end", "2026-13-45"),
    ],
)
def test_a_bad_filter_is_a_form_error_naming_the_field(
    manager: Client, field: str, value: str
) -> None:
    response = manager.get(reverse("reports:report"), {field: value})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert f"({field})" in response.content.decode()


def test_an_end_before_the_start_is_refused(manager: Client) -> None:
    response = manager.get(reverse("reports:report"), {"start": "2026-11-30", "end": "2026-11-01"})
    assert response.context["form"].errors["end"] == [
        "The end date must be on or after the start date."
    ]


def test_a_bad_filter_in_the_csv_url_is_a_form_error(manager: Client) -> None:
    response = manager.get(reverse("reports:export"), {"plan": "no-such-plan"})
    assert response.status_code == 400


# --- what the page shows ---------------------------------------------------------------------


def test_live_lists_link_to_the_ticket_in_the_admin(manager: Client, data: SimpleNamespace) -> None:
    html = manager.get(reverse("reports:report"), NOVEMBER).content.decode()
    assert f'href="/admin/tickets/ticket/{data.r1.ticket_id}/change/"' in html


def test_charts_are_inline_svg_with_a_title_and_a_description(
    manager: Client, data: SimpleNamespace
) -> None:
    html = manager.get(reverse("reports:report"), NOVEMBER).content.decode()
    assert html.count('role="img"') == 2
    assert "<title" in html and "Severity 2: 2 breached of 3" in html


def test_the_page_names_the_plan_that_breached_most(manager: Client, data: SimpleNamespace) -> None:
    html = manager.get(reverse("reports:report"), NOVEMBER).content.decode()
    assert "<strong>Gold</strong> breached most" in html


# --- CSV -------------------------------------------------------------------------------------


def zip_tables(content: bytes) -> dict[str, list[list[str]]]:
    """Each CSV file of the export's zip, by name, as rows."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {
            name: list(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
            for name in archive.namelist()
        }


def test_the_export_is_one_csv_per_table_with_the_pages_rows(
    manager: Client, data: SimpleNamespace
) -> None:
    page = page_tables(manager.get(reverse("reports:report"), NOVEMBER).content.decode())
    response = manager.get(reverse("reports:export"), NOVEMBER)
    assert response["Content-Type"] == "application/zip"
    assert 'filename="sla-report-2026-11-01-to-2026-11-30.zip"' in response["Content-Disposition"]
    files = zip_tables(response.content)
    assert list(files) == [f"{n:02d}-{key}.csv" for n, key in enumerate(page, start=1)]
    assert list(files.values()) == list(page.values())


def test_one_table_is_a_csv_file_whose_first_row_is_its_header(
    manager: Client, data: SimpleNamespace
) -> None:
    page = page_tables(manager.get(reverse("reports:report"), NOVEMBER).content.decode())
    response = manager.get(reverse("reports:export"), {**NOVEMBER, "table": "by_plan"})
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].endswith('-by_plan.csv"')
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffPlan,Met on time,")  # the BOM tells spreadsheets it is UTF-8
    assert list(csv.reader(io.StringIO(text.removeprefix("\ufeff")))) == page["by_plan"]


def test_an_unknown_table_names_the_tables(manager: Client, data: SimpleNamespace) -> None:
    response = manager.get(reverse("reports:export"), {**NOVEMBER, "table": "nope"})
    assert response.status_code == 400
    assert "choose one of achievement, by_plan" in response.content.decode()


def test_the_page_links_each_tables_csv(manager: Client, data: SimpleNamespace) -> None:
    html = manager.get(reverse("reports:report"), NOVEMBER).content.decode()
    export = reverse("reports:export")
    assert f'href="{export}?start=2026-11-01&amp;end=2026-11-30&amp;table=by_agent"' in html


def test_format_csv_on_the_page_url_gives_the_same_file(
    manager: Client, data: SimpleNamespace
) -> None:
    export = manager.get(reverse("reports:export"), NOVEMBER)
    inline = manager.get(reverse("reports:report"), {**NOVEMBER, "format": "csv"})
    assert inline["Content-Type"] == "application/zip"
    assert inline.content == export.content


def test_report_tables_scroll_in_a_keyboard_reachable_region(
    manager: Client, data: SimpleNamespace
) -> None:
    html = manager.get(reverse("reports:report"), NOVEMBER).content.decode()
    assert html.count('tabindex="0" role="region" aria-label="') == html.count("<table")


# --- the statement picker --------------------------------------------------------------------


def test_the_statement_picker_opens_the_chosen_statement(
    manager: Client, data: SimpleNamespace
) -> None:
    response = manager.get(
        reverse("reports:statement_pick"), {"organization": "acme", "month": "2026-11"}
    )
    assert response.status_code == 302
    assert response["Location"] == statement_url("acme", "2026-11")


def test_the_statement_picker_names_what_is_missing(manager: Client, data: SimpleNamespace) -> None:
    response = manager.get(reverse("reports:statement_pick"), {"organization": "acme"})
    assert response.status_code == 400
    assert "Choose the month of the statement." in response.content.decode()


def test_the_report_offers_the_statement_picker_set_to_its_filters(
    manager: Client, data: SimpleNamespace
) -> None:
    html = manager.get(
        reverse("reports:report"), {**NOVEMBER, "organization": "acme"}
    ).content.decode()
    assert f'action="{reverse("reports:statement_pick")}"' in html
    assert '<option value="acme" selected>' in html
    assert 'type="month" name="month" id="id_month" class="form-control" value="2026-11"' in html


# --- statement -------------------------------------------------------------------------------


def test_statement_totals(manager: Client, data: SimpleNamespace) -> None:
    tables = page_tables(manager.get(statement_url()).content.decode())
    assert tables["statement-summary"] == [
        ["Metric", "Met on time", "Breached", "Counted", "Achievement"],
        ["Acknowledge", "1", "0", "1", "100.0%"],
        ["First response", "1", "1", "2", "50.0%"],
        ["Resolution", "0", "0", "0", "—"],
        ["All metrics", "2", "1", "3", "66.7%"],
    ]


def test_statement_lists_each_ticket_with_target_due_and_outcome(
    manager: Client, data: SimpleNamespace
) -> None:
    tables = page_tables(manager.get(statement_url()).content.decode())
    # Times in the organization's zone (New York): C was due 13:00 UTC, breached 15:00 UTC.
    assert [
        "First response",
        "2 – Major",
        "4h",
        "2026-11-10 04:00",
        "2026-11-10 08:00",
        "Met late breached 2026-11-10 10:00 · met 2026-11-10 13:00",
    ] in tables["statement-ticket"]


def test_statement_agrees_with_the_report_for_that_organization_and_month(
    client: Client, data: SimpleNamespace
) -> None:
    # A manager in the organization's zone sees the same month the statement covers.
    client.force_login(make_manager())
    report = page_tables(
        client.get(reverse("reports:report"), {**NOVEMBER, "organization": "acme"}).content.decode()
    )["achievement"]
    summary = page_tables(client.get(statement_url()).content.decode())["statement-summary"]
    assert [row[:4] for row in report[1:]] == [row[:4] for row in summary[1:]]


def test_a_statement_month_that_is_not_a_month_names_the_field(
    manager: Client, data: SimpleNamespace
) -> None:
    response = manager.get(statement_url(month="2026-13"))
    assert response.status_code == 400
    assert "Month:" in response.content.decode()


def test_a_statement_for_an_unknown_organization_is_not_found(manager: Client) -> None:
    assert manager.get(statement_url(org="nobody")).status_code == 404


def test_the_page_says_on_which_metric_that_plan_breached_most(
    manager: Client, data: SimpleNamespace
) -> None:
    html = manager.get(reverse("reports:report"), NOVEMBER).content.decode()
    assert "<strong>Gold · First response</strong>" in html


def test_the_csv_neutralizes_names_a_spreadsheet_would_run(
    manager: Client, data: SimpleNamespace
) -> None:
    Organization.objects.update(name="@SUM(1+1)")
    response = manager.get(reverse("reports:export"), {**NOVEMBER, "table": "escalations"})
    text = response.content.decode("utf-8").removeprefix("\ufeff")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert "'@SUM(1+1)" in cells
    assert not [cell for cell in cells if cell.startswith(("=", "+", "@", "\t", "\r"))]
