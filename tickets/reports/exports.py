"""The SLA report's tables as files: one CSV per table, or every table's CSV in one zip.

Each CSV holds one table: a single header row, then its rows, so a spreadsheet opens it with the
right columns. The files start with a UTF-8 byte order mark, which spreadsheet programs read as
"this is UTF-8" (the report writes "—" and "·").
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from typing import Protocol

from django.http import HttpResponse

from helpdesk.exports import csv_writer

BOM = "\ufeff"


class Table(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def columns(self) -> list[str]: ...
    @property
    def rows(self) -> Sequence[object]: ...


def table_csv(table: Table) -> str:
    """One table as CSV text: the header row, then its rows' cells."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv_writer(buffer)
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(row.cells)  # type: ignore[attr-defined]
    return buffer.getvalue()


def csv_file_response(table: Table, stem: str) -> HttpResponse:
    response = HttpResponse(table_csv(table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{stem}-{table.key}.csv"'
    return response


def zip_response(tables: Sequence[Table], stem: str, stamp: dt.date) -> HttpResponse:
    """Every table as `NN-key.csv` in one zip; entries dated `stamp`, so the same report gives
    the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for number, table in enumerate(tables, start=1):
            info = zipfile.ZipInfo(
                f"{number:02d}-{table.key}.csv",
                date_time=(stamp.year, stamp.month, stamp.day, 0, 0, 0),
            )
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, table_csv(table).encode("utf-8"))
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{stem}.zip"'
    return response
