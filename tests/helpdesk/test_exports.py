"""Every CSV export neutralizes cells a spreadsheet would run as a formula."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from helpdesk.exports import csv_writer, safe_cell


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", "=HYPERLINK()"])
def test_it_quotes_text_that_would_run_as_a_formula(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", [-5, -1.5, Decimal("-2.50"), "-12.50", "+3", "Acme", "", None])
def test_it_keeps_numbers_and_plain_text_as_they_are(value: object) -> None:
    assert safe_cell(value) == value


def test_the_writer_applies_it_to_every_cell() -> None:
    out = io.StringIO()
    csv_writer(out).writerow(["=cmd|' /C calc'!A0", -3, "ok"])
    assert out.getvalue() == "'=cmd|' /C calc'!A0,-3,ok\r\n"
