"""Contact export: CSV and XLSX that spreadsheets show but never evaluate."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from newsletter.audience.exports import contacts_export
from newsletter.audience.imports import (
    COLUMNS,
    contacts_import_preview,
    contacts_import_store,
    is_formula_like,
)
from newsletter.models import Contact
from tests.factories import ContactFactory, TopicFactory

DANGEROUS = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "  =1",
    "＝1",
]


@pytest.fixture
def dangerous_contacts(db: None) -> None:
    for index, value in enumerate(DANGEROUS):
        ContactFactory(
            email=f"reader{index}@example.org",
            first_name=value,
            last_name="Plain",
            notes=value,
            parliament=value,
        )


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def test_csv_export_neutralises_every_cell_a_spreadsheet_would_evaluate(
    dangerous_contacts: None,
) -> None:
    export = contacts_export(contacts=Contact.objects.all(), file_format="csv")

    rows = csv_rows(export.content)
    assert rows[0] == list(COLUMNS)
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(is_formula_like(cell) for cell in cells)
    first_names = {row[1] for row in rows[1:]}
    assert first_names == {f"'{value}" for value in DANGEROUS}
    assert export.content_type == "text/csv; charset=utf-8"
    assert export.filename.endswith(".csv")


def test_xlsx_export_has_no_formula_cells(dangerous_contacts: None) -> None:
    export = contacts_export(contacts=Contact.objects.all(), file_format="xlsx")

    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    assert cells
    assert all(cell.data_type != "f" for cell in cells)
    assert not any(
        isinstance(cell.value, str) and is_formula_like(cell.value) for cell in cells
    )
    # XML turns a carriage return into a line feed when the workbook is read.
    assert {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)} == {
        f"'{value}".replace("\r", "\n") for value in DANGEROUS
    }
    assert export.filename.endswith(".xlsx")


def test_export_writes_the_import_columns_and_can_be_imported_again(db: None) -> None:
    TopicFactory(name="Child trafficking", slug="child-trafficking")
    contact = ContactFactory(
        email="anna@example.org",
        kind=Contact.Kind.NGO,
        country="RO",
        is_focal_point=True,
        preferred_language="ro",
        fallback_languages=["en", "de"],
        committees="Justice, home affairs",
        notes="Line one\nline two",
    )
    contact.topics.set([TopicFactory(name="Labour exploitation", slug="labour")])

    for file_format in ("csv", "xlsx"):
        export = contacts_export(
            contacts=Contact.objects.all(), file_format=file_format
        )
        stored = contacts_import_store(
            content=export.content, filename=f"again.{file_format}"
        )
        preview = contacts_import_preview(
            token=stored.token, file_format=stored.file_format
        )
        assert [(row.email, row.action) for row in preview.rows] == [
            ("anna@example.org", "skip")
        ], file_format

    rows = csv_rows(
        contacts_export(contacts=Contact.objects.all(), file_format="csv").content
    )
    exported = dict(zip(rows[0], rows[1], strict=True))
    assert exported["kind"] == "ngo"
    assert exported["topics"] == "labour"
    assert exported["fallback_languages"] == "en;de"
    assert exported["is_focal_point"] == "yes"


def test_export_refuses_unknown_formats(db: None) -> None:
    with pytest.raises(ValueError, match="Unknown export format"):
        contacts_export(contacts=Contact.objects.none(), file_format="ods")
