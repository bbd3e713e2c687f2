"""Exporting contacts to CSV and XLSX that spreadsheet programs cannot execute.

A cell whose text begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is taken for a formula by Excel, LibreOffice and Google Sheets (OWASP
"CSV injection"), so every such cell is prefixed with a single quote. The
columns are those of the import, so an export can be imported again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, TYPE_STRING

from newsletter.models import Contact

from .imports import ContactResource, is_formula_like

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class ExportFile:
    """A file ready to be sent to the browser."""

    content: bytes
    content_type: str
    filename: str


def neutralise_cell(value: object) -> str:
    """Return ``value`` as text a spreadsheet shows verbatim and never evaluates."""
    text = "" if value is None else str(value)
    return f"'{text}" if is_formula_like(text) else text


def contacts_export(*, contacts: QuerySet[Contact], file_format: str) -> ExportFile:
    """Return ``contacts`` as a CSV or XLSX file in the import's columns."""
    if file_format not in CONTENT_TYPES:
        raise ValueError(f"Unknown export format: {file_format!r}")
    dataset = ContactResource().export(
        queryset=contacts.prefetch_related("topics").order_by("pk")
    )
    headers = [str(header) for header in dataset.headers or []]
    rows = [[neutralise_cell(value) for value in row] for row in dataset]
    if file_format == "csv":
        content = _csv_bytes(headers, rows)
    else:
        content = _xlsx_bytes(headers, rows)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    return ExportFile(
        content=content,
        content_type=CONTENT_TYPES[file_format],
        filename=f"contacts-{stamp}.{file_format}",
    )


def _csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL)
    writer.writerow(headers)
    writer.writerows(rows)
    # The byte-order mark makes Excel read the file as UTF-8.
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx_bytes(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    workbook = Workbook(write_only=False)
    sheet = workbook.active
    sheet.title = "Contacts"
    for row_number, row in enumerate([headers, *rows], start=1):
        for column_number, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_number, column=column_number)
            # Control characters are not allowed in XLSX and would fail the save.
            cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
            # openpyxl turns any string starting with "=" into a formula; the
            # values are already neutralised, and the type is pinned to text.
            cell.data_type = TYPE_STRING
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
