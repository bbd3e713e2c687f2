"""Contact import: preview row by row, then all or nothing."""

from __future__ import annotations

import csv
import io
import os
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from django.db import DatabaseError

from newsletter.audience import imports
from newsletter.audience.exports import contacts_export
from newsletter.audience.imports import (
    ContactImportError,
    ContactImportFailed,
    ImportPreview,
    contacts_import_confirm,
    contacts_import_preview,
    contacts_import_store,
)
from newsletter.audience.suppression import is_suppressed, suppression_add
from newsletter.models import (
    ConsentRecord,
    Contact,
    Subscription,
    Suppression,
)
from tests.factories import ContactFactory, MailingListFactory, TopicFactory

HEADERS = [
    "E-mail",
    "First name",
    "last_name",
    "Kind",
    "country",
    "parliament",
    "chamber",
    "party",
    "committees",
    "organisation",
    "is_focal_point",
    "Topics",
    "Preferred language",
    "fallback_languages",
    "notes",
]
KINDS = ["mp", "mep", "ngo", "parliament_staff", "law_enforcement", "other"]
COUNTRIES = ["DE", "RO", "PL", "NL", "BG", "PT", "IT", "GB"]
LANGUAGES = ["en", "de", "ro", "pl", "nl", "bg", "pt", "it"]
FIRST_NAMES = ["Anna", "Bogdan", "Zoë", "Jan", "Maria", "Łukasz", "Ines", "Marco"]
INVALID_ADDRESSES = [
    "not-an-address",
    "two@@example.org",
    "spaces in@example.org",
    "missing-domain@",
    "@example.org",
    "dots..dots@example.org",
    "comma,in@example.org",
    "angle<bracket@example.org",
    "reader@exa mple.org",
    "reader@.example.org",
]
FORMULA_CELLS = [
    ("first_name", '=HYPERLINK("http://evil.example","click")'),
    ("last_name", "+1+1"),
    ("organisation", "-2+3"),
    ("notes", "@SUM(A1:A2)"),
    ("party", "\t=1+1"),
    ("committees", "\r=1+1"),
    ("parliament", "  =1+1"),
    ("chamber", "＝1+1"),
    ("first_name", "=cmd|' /C calc'!A0"),
    ("notes", "-"),
]


def good_row(index: int) -> dict[str, str]:
    return {
        "email": f"reader{index}@example.org",
        "first_name": FIRST_NAMES[index % len(FIRST_NAMES)],
        "last_name": f"Surname {index}",
        "kind": KINDS[index % len(KINDS)],
        "country": COUNTRIES[index % len(COUNTRIES)].lower(),
        "parliament": "Bundestag" if index % 2 else "",
        "chamber": "",
        "party": "Party, with a comma" if index % 3 == 0 else "",
        "committees": 'Justice; "Home affairs"\nand Labour' if index % 5 == 0 else "",
        "organisation": "",
        "is_focal_point": "yes" if index % 10 == 0 else "no",
        "topics": "child-trafficking; Labour exploitation" if index % 4 == 0 else "",
        "preferred_language": LANGUAGES[index % len(LANGUAGES)].upper(),
        "fallback_languages": "en;de",
        "notes": "Met in Berlin." if index % 7 == 0 else "",
    }


def thousand_rows() -> tuple[list[dict[str, str]], dict[int, str]]:
    """Return 1,000 rows with 50 bad ones, and the reason expected for each bad row."""
    rows = [good_row(index) for index in range(1000)]
    expected: dict[int, str] = {}
    bad_indexes = list(range(19, 1000, 20))
    kinds = (
        ["invalid"] * 10
        + ["case"] * 10
        + ["spaces"] * 5
        + ["unicode"] * 5
        + ["language"] * 10
        + ["formula"] * 10
    )
    for position, (index, kind) in enumerate(zip(bad_indexes, kinds, strict=True)):
        row = rows[index]
        earlier = rows[index - 1]
        earlier_number = index - 1 + 2  # the header is row 1
        if kind == "invalid":
            row["email"] = INVALID_ADDRESSES[position]
            expected[index + 2] = "not a valid email address"
        elif kind == "case":
            row["email"] = earlier["email"].upper()
            expected[index + 2] = f"Duplicate of row {earlier_number}"
        elif kind == "spaces":
            row["email"] = f"   {earlier['email']}  "
            expected[index + 2] = f"Duplicate of row {earlier_number}"
        elif kind == "unicode":
            earlier["email"] = unicodedata.normalize(
                "NFC", f"zoe{index}@müller-straße.example"
            )
            row["email"] = unicodedata.normalize("NFD", earlier["email"])
            assert row["email"] != earlier["email"]
            expected[index + 2] = f"Duplicate of row {earlier_number}"
        elif kind == "language":
            if position % 2:
                row["preferred_language"] = "xx"
            else:
                row["fallback_languages"] = "de;zz"
            expected[index + 2] = "Unknown language code"
        else:
            column, value = FORMULA_CELLS[position - 40]
            row[column] = value
            expected[index + 2] = "spreadsheet formulas are not accepted"
    return rows, expected


def csv_bytes(rows: list[dict[str, str]], headers: list[str] = HEADERS) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(row.values())
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(records: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for record in records:
        sheet.append(record)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def topics(db: None) -> None:
    TopicFactory(name="Child trafficking", slug="child-trafficking")
    TopicFactory(name="Labour exploitation", slug="labour-exploitation")


@pytest.fixture
def preview_of(db: None) -> Callable[..., ImportPreview]:
    def preview(content: bytes, filename: str = "contacts.csv") -> ImportPreview:
        stored = contacts_import_store(content=content, filename=filename)
        return contacts_import_preview(
            token=stored.token, file_format=stored.file_format
        )

    return preview


def test_thousand_row_import_reports_each_bad_row_and_imports_exactly_the_good_ones(
    topics: None, preview_of: Callable[..., ImportPreview]
) -> None:
    rows, expected = thousand_rows()
    mailing_list = MailingListFactory()

    preview = preview_of(csv_bytes(rows))

    assert len(preview.rows) == 1000
    assert preview.counts == {"create": 950, "update": 0, "skip": 0, "error": 50}
    errors = {row.number: " ".join(row.reasons) for row in preview.errors}
    assert set(errors) == set(expected)
    for number, fragment in expected.items():
        assert fragment in errors[number], (number, errors[number])
    assert Contact.objects.count() == 0

    result = contacts_import_confirm(
        token=preview.token,
        file_format=preview.file_format,
        mailing_list=mailing_list,
        wording="Signed the attendance sheet in Berlin.",
    )

    good = [row for index, row in enumerate(rows) if index + 2 not in expected]
    assert (result.created, result.left_out, result.subscribed) == (950, 50, 950)
    assert set(Contact.objects.values_list("email", flat=True)) == {
        unicodedata.normalize("NFC", row["email"]) for row in good
    }
    contact = Contact.objects.get(email="reader0@example.org")
    assert contact.kind == "mp"
    assert contact.country == "DE"
    assert contact.preferred_language == "en"
    assert contact.fallback_languages == ["en", "de"]
    assert contact.is_focal_point is True
    assert contact.committees == 'Justice; "Home affairs"\nand Labour'
    assert sorted(contact.topics.values_list("slug", flat=True)) == [
        "child-trafficking",
        "labour-exploitation",
    ]
    assert (
        ConsentRecord.objects.filter(
            source=ConsentRecord.Source.IMPORT,
            mailing_list=mailing_list,
            wording="Signed the attendance sheet in Berlin.",
        ).count()
        == 950
    )

    export = contacts_export(contacts=Contact.objects.all(), file_format="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert len(cells) == 951 * len(HEADERS)
    assert all(cell.data_type != "f" for cell in cells)
    assert not any(
        isinstance(cell.value, str) and imports.is_formula_like(cell.value)
        for cell in cells
    )


def test_failure_in_the_middle_of_the_import_leaves_the_database_as_it_was(
    topics: None, preview_of: Callable[..., ImportPreview], monkeypatch
) -> None:
    existing = ContactFactory(email="reader1@example.org", first_name="Old")
    rows, _expected = thousand_rows()
    preview = preview_of(csv_bytes(rows))
    assert preview.counts["update"] == 1
    saves = 0
    original_save = Contact.save

    def failing_save(self: Contact, *args: object, **kwargs: object) -> None:
        nonlocal saves
        saves += 1
        if saves == 500:
            raise DatabaseError("disk full")
        original_save(self, *args, **kwargs)

    monkeypatch.setattr(Contact, "save", failing_save)

    with pytest.raises(ContactImportFailed):
        contacts_import_confirm(token=preview.token, file_format=preview.file_format)

    assert saves == 500
    assert list(Contact.objects.values_list("pk", "first_name")) == [
        (existing.pk, "Old")
    ]
    assert not Contact.topics.through.objects.exists()


def test_failure_while_subscribing_undoes_the_contacts_already_imported(
    preview_of: Callable[..., ImportPreview], monkeypatch
) -> None:
    mailing_list = MailingListFactory()
    rows = [good_row(index) for index in range(1, 40) if index % 4]
    preview = preview_of(csv_bytes(rows))
    calls = 0
    subscribe = imports.subscription_subscribe

    def failing_subscribe(**kwargs: object) -> Subscription:
        nonlocal calls
        calls += 1
        if calls == 10:
            raise DatabaseError("connection lost")
        return subscribe(**kwargs)

    monkeypatch.setattr(imports, "subscription_subscribe", failing_subscribe)

    with pytest.raises(DatabaseError):
        contacts_import_confirm(
            token=preview.token,
            file_format=preview.file_format,
            mailing_list=mailing_list,
            wording="Agreed at the Warsaw meeting.",
        )

    assert not Contact.objects.exists()
    assert not Subscription.objects.exists()
    assert not ConsentRecord.objects.exists()


def test_preview_writes_nothing(preview_of: Callable[..., ImportPreview]) -> None:
    ContactFactory(email="reader1@example.org", first_name="Old")

    preview = preview_of(csv_bytes([good_row(1), good_row(2)]))

    assert [row.action for row in preview.rows] == ["update", "create"]
    assert list(Contact.objects.values_list("email", "first_name")) == [
        ("reader1@example.org", "Old")
    ]


def test_existing_address_in_another_case_is_updated_and_keeps_its_spelling(
    preview_of: Callable[..., ImportPreview],
) -> None:
    contact = ContactFactory(email="Reader1@Example.org", first_name="Old")
    row = good_row(1)
    row["email"] = " READER1@example.ORG "

    preview = preview_of(csv_bytes([row]))
    contacts_import_confirm(token=preview.token, file_format=preview.file_format)

    assert [row.action for row in preview.rows] == ["update"]
    contact.refresh_from_db()
    assert (contact.email, contact.first_name) == ("Reader1@Example.org", "Bogdan")
    assert Contact.objects.count() == 1


def test_row_that_changes_nothing_is_skipped(
    topics: None, preview_of: Callable[..., ImportPreview]
) -> None:
    first = preview_of(csv_bytes([good_row(4)]))
    contacts_import_confirm(token=first.token, file_format=first.file_format)
    changed = good_row(4)
    changed["topics"] = "child-trafficking"

    again = preview_of(csv_bytes([good_row(4), changed]))

    assert [(row.action, row.reasons) for row in again.rows] == [
        ("skip", ()),
        (
            "error",
            (
                "Duplicate of row 2: addresses are compared ignoring case, surrounding spaces and Unicode form.",
            ),
        ),
    ]
    assert preview_of(csv_bytes([changed])).rows[0].action == "update"


def test_topics_are_matched_by_slug_or_name_and_unknown_topics_are_errors(
    topics: None, preview_of: Callable[..., ImportPreview]
) -> None:
    by_name = good_row(1) | {"topics": "CHILD TRAFFICKING;labour-exploitation"}
    unknown = good_row(2) | {"topics": "child-trafficking; Organ removal"}

    preview = preview_of(csv_bytes([by_name, unknown]))

    assert preview.rows[0].action == "create"
    assert preview.rows[1].reasons == ("Unknown topics: Organ removal",)


def test_unknown_kind_and_country_are_reported_by_column(
    preview_of: Callable[..., ImportPreview],
) -> None:
    row = good_row(1) | {"kind": "senator", "country": "ZZ", "is_focal_point": "maybe"}

    preview = preview_of(csv_bytes([row]))

    reasons = " ".join(preview.rows[0].reasons)
    assert preview.rows[0].action == "error"
    assert "kind: “senator” is not one of" in reasons
    assert "country: “ZZ” is not a known country code." in reasons
    assert "is_focal_point: “maybe” is not yes or no." in reasons


def test_missing_email_cell_is_a_row_error(
    preview_of: Callable[..., ImportPreview],
) -> None:
    preview = preview_of(csv_bytes([good_row(1) | {"email": "  "}, good_row(2)]))

    assert preview.rows[0].reasons == ("The email address is missing.",)
    assert preview.rows[1].action == "create"


def test_unknown_columns_are_ignored_and_named(
    preview_of: Callable[..., ImportPreview],
) -> None:
    content = b"Email;Phone\nanna@example.org;+49 30 1234\n"

    preview = preview_of(content)

    assert preview.columns == ("email",)
    assert preview.ignored_columns == ("Phone",)
    # Even an ignored cell is refused when a spreadsheet would run it.
    assert "spreadsheet formulas are not accepted" in preview.rows[0].reasons[0]


def test_xlsx_formulas_are_rejected_and_other_rows_imported(
    preview_of: Callable[..., ImportPreview],
) -> None:
    content = xlsx_bytes(
        [
            ["email", "first_name", "is_focal_point", "notes"],
            ["anna@example.org", "Anna", True, 12],
            ["bogdan@example.org", "=1+1", False, None],
        ]
    )

    preview = preview_of(content, "people.xlsx")
    contacts_import_confirm(token=preview.token, file_format=preview.file_format)

    assert [row.action for row in preview.rows] == ["create", "error"]
    assert "spreadsheet formulas are not accepted" in preview.rows[1].reasons[0]
    anna = Contact.objects.get()
    assert (anna.email, anna.is_focal_point, anna.notes) == (
        "anna@example.org",
        True,
        "12",
    )


def test_suppressed_address_is_imported_subscribed_and_still_suppressed(
    preview_of: Callable[..., ImportPreview],
) -> None:
    mailing_list = MailingListFactory()
    suppression_add(email="reader1@example.org", reason=Suppression.Reason.COMPLAINT)

    preview = preview_of(csv_bytes([good_row(1)]))
    contacts_import_confirm(
        token=preview.token,
        file_format=preview.file_format,
        mailing_list=mailing_list,
        wording="Agreed in writing.",
    )

    assert preview.rows[0].notes == (
        "This address is suppressed: it is imported but not mailed.",
    )
    assert is_suppressed("reader1@example.org")
    assert not Contact.objects.deliverable_for(mailing_list).exists()


def test_contact_who_unsubscribed_from_the_list_is_not_subscribed_again(
    preview_of: Callable[..., ImportPreview],
) -> None:
    mailing_list = MailingListFactory()
    contact = ContactFactory(email="reader1@example.org")
    Subscription.objects.create(
        contact=contact,
        mailing_list=mailing_list,
        status=Subscription.Status.UNSUBSCRIBED,
    )

    preview = preview_of(csv_bytes([good_row(1), good_row(2)]))
    result = contacts_import_confirm(
        token=preview.token,
        file_format=preview.file_format,
        mailing_list=mailing_list,
        wording="Agreed in writing.",
    )

    assert (result.subscribed, result.kept_unsubscribed) == (1, 1)
    assert Subscription.objects.get(contact=contact).status == "unsubscribed"
    assert list(
        ConsentRecord.objects.values_list("contact__email", "source", "action")
    ) == [("reader2@example.org", "import", "subscribed")]


def test_confirm_deletes_the_stored_file_and_cannot_run_twice(
    preview_of: Callable[..., ImportPreview],
    media_root: Path,
    django_capture_on_commit_callbacks,
) -> None:
    preview = preview_of(csv_bytes([good_row(1)]))
    assert len(list(media_root.rglob("*.csv"))) == 1

    with django_capture_on_commit_callbacks(execute=True):
        contacts_import_confirm(token=preview.token, file_format=preview.file_format)

    assert not list(media_root.rglob("*.csv"))
    with pytest.raises(ContactImportError, match="expired"):
        contacts_import_confirm(token=preview.token, file_format=preview.file_format)


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        (b"email\nanna@example.org\n", "contacts.txt", "Choose a CSV or XLSX file"),
        (b"", "contacts.csv", "The file is empty."),
        ("email\nzoë@example.org\n".encode("latin-1"), "contacts.csv", "not UTF-8"),
        (b"PK\x03\x04 not really a zip", "contacts.xlsx", "not a valid XLSX"),
        (b"email\x00\nanna@example.org\n", "contacts.csv", "not a CSV file"),
        (b"name,organisation\nAnna,NGO\n", "contacts.csv", "must be “email”"),
        (b"email,E-mail\na@example.org,b@example.org\n", "contacts.csv", "twice"),
        (b'email\n"anna@example.org\n', "contacts.csv", "not valid CSV"),
        (b"email\n\n\n", "contacts.csv", "no rows to import"),
    ],
)
def test_file_that_cannot_be_read_is_refused_with_a_clear_message(
    preview_of: Callable[..., ImportPreview],
    content: bytes,
    filename: str,
    message: str,
) -> None:
    existing = ContactFactory()

    with pytest.raises(ContactImportError, match=message):
        preview_of(content, filename)

    assert list(Contact.objects.all()) == [existing]


def test_file_larger_than_the_cap_is_refused(
    preview_of: Callable[..., ImportPreview],
) -> None:
    content = b"email\n" + b"a@example.org\n" * (5 * 1024 * 1024 // 14 + 1)

    with pytest.raises(ContactImportError, match="larger than 5 MB"):
        preview_of(content)


def test_file_with_too_many_rows_is_refused(
    preview_of: Callable[..., ImportPreview],
) -> None:
    content = b"email\n" + b"".join(
        b"r%d@example.org\n" % index for index in range(20_001)
    )

    with pytest.raises(ContactImportError, match="more than 20000 rows"):
        preview_of(content)


def test_token_that_is_not_ours_is_refused(db: None) -> None:
    with pytest.raises(ContactImportError, match="expired"):
        contacts_import_preview(token="../../settings", file_format="csv")


def test_purge_deletes_only_uploads_older_than_a_day(
    db: None, media_root: Path
) -> None:
    old = contacts_import_store(content=b"email\na@example.org\n", filename="old.csv")
    fresh = contacts_import_store(content=b"email\nb@example.org\n", filename="new.csv")
    folder = media_root / "contact-imports"
    two_days_ago = time.time() - 2 * 86400
    os.utime(folder / f"{old.token}.csv", (two_days_ago, two_days_ago))

    deleted = imports.contacts_import_purge()

    assert deleted == 1
    assert [path.name for path in folder.iterdir()] == [f"{fresh.token}.csv"]


def test_the_beat_schedule_purges_stale_uploads_hourly(
    db: None, media_root: Path
) -> None:
    from cms.celery import app
    from newsletter.tasks import contacts_import_purge_task

    old = contacts_import_store(content=b"email\na@example.org\n", filename="old.csv")
    folder = media_root / "contact-imports"
    two_days_ago = time.time() - 2 * 86400
    os.utime(folder / f"{old.token}.csv", (two_days_ago, two_days_ago))

    assert contacts_import_purge_task.apply().get() == 1
    assert not list(folder.iterdir())
    entry = app.conf.beat_schedule["contacts-import-purge"]
    assert entry["task"] == "newsletter.contacts_import_purge"
    assert (entry["schedule"].minute, entry["schedule"].hour) == ({41}, set(range(24)))
