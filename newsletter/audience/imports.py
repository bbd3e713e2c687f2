"""Importing contacts from CSV and XLSX: a preview first, then all or nothing.

The uploaded file is kept under a random token between the preview and the
confirmation, and the confirmation reads it again: row data never makes a round
trip through the browser. Rows are checked here (formulas, duplicates within the
file, language codes, topics) and then by the ``ContactResource`` of
django-import-export, which finds the existing contact, validates the model and
tells whether anything would change.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext
from import_export import resources, widgets
from import_export.fields import Field
from import_export.results import RowResult
from openpyxl import load_workbook

from newsletter.locales import COUNTRY_CODES, language_codes
from newsletter.models import (
    ConsentRecord,
    Contact,
    MailingList,
    Subscription,
    Suppression,
    Topic,
    address_hash,
)

from .consent import subscription_subscribe
from .contacts import normalise_email

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
# An XLSX file is a zip archive: cap what it unpacks to, not only its size.
MAX_XLSX_UNPACKED_BYTES = 50 * 1024 * 1024
STORAGE_FOLDER = "contact-imports"
FILE_FORMATS = ("csv", "xlsx")

COLUMNS = (
    "email",
    "first_name",
    "last_name",
    "kind",
    "country",
    "parliament",
    "chamber",
    "party",
    "committees",
    "organisation",
    "is_focal_point",
    "topics",
    "preferred_language",
    "fallback_languages",
    "notes",
)
HEADER_ALIASES = {
    "e_mail": "email",
    "email_address": "email",
    "e_mail_address": "email",
    "organization": "organisation",
    "focal_point": "is_focal_point",
    "language": "preferred_language",
    "fallback_language": "fallback_languages",
    "topic": "topics",
}
LIST_SEPARATORS = re.compile(r"[;,]")
# Topic names may contain commas.
TOPIC_SEPARATOR = re.compile(";")

# A spreadsheet evaluates a cell that starts with one of these (OWASP "CSV
# injection"); full-width forms are folded to ASCII by some programs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


class ContactImportError(Exception):
    """The file cannot be imported at all; ``message`` says why, for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ContactImportFailed(Exception):
    """The confirmed import failed part-way and nothing was written."""


class RowAction:
    CREATE = "create"
    UPDATE = "update"
    SKIP = "skip"
    ERROR = "error"


@dataclass(frozen=True)
class StoredImport:
    """An uploaded file kept until its import is confirmed or discarded."""

    token: str
    file_format: str


@dataclass(frozen=True)
class RowOutcome:
    """What the import does with one row; ``number`` counts the header as row 1."""

    number: int
    email: str
    action: str
    reasons: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportPreview:
    """What confirming the import would do, row by row."""

    token: str
    file_format: str
    columns: tuple[str, ...]
    ignored_columns: tuple[str, ...]
    rows: tuple[RowOutcome, ...]

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(
            (RowAction.CREATE, RowAction.UPDATE, RowAction.SKIP, RowAction.ERROR), 0
        )
        for row in self.rows:
            counts[row.action] += 1
        return counts

    @property
    def errors(self) -> tuple[RowOutcome, ...]:
        return tuple(row for row in self.rows if row.action == RowAction.ERROR)

    @property
    def importable(self) -> int:
        return len(self.rows) - len(self.errors)


@dataclass(frozen=True)
class ImportResult:
    """What a confirmed import did."""

    created: int
    updated: int
    unchanged: int
    left_out: int
    subscribed: int = 0
    # Contacts who had unsubscribed from the chosen list are not subscribed again.
    kept_unsubscribed: int = 0


# -- the django-import-export resource ---------------------------------------


class ChoiceWidget(widgets.CharWidget):
    """Accept a stored value or its label, in any case; render the stored value."""

    def __init__(self, choices: Iterable[tuple[str, Any]], *, default: str) -> None:
        super().__init__()
        self.default = default
        self.by_text = {}
        for value, label in choices:
            self.by_text[str(value).lower()] = value
            self.by_text[str(label).lower()] = value

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = str(value or "").strip()
        if not text:
            return self.default
        try:
            return self.by_text[text.lower()]
        except KeyError:
            raise ValueError(
                gettext("“%(value)s” is not one of: %(choices)s")
                % {
                    "value": text,
                    "choices": ", ".join(sorted(set(self.by_text.values()))),
                }
            ) from None


class CountryWidget(widgets.CharWidget):
    """Accept an ISO 3166 two-letter code in any case."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        code = str(value or "").strip().upper()
        if code and code not in COUNTRY_CODES:
            raise ValueError(
                gettext("“%(code)s” is not a known country code.") % {"code": code}
            )
        return code


class LanguageWidget(widgets.CharWidget):
    """Accept a configured language code in any case; empty means the default."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        code = str(value or "").strip().lower()
        return code or str(Contact._meta.get_field("preferred_language").default)


class LanguageListWidget(widgets.Widget):
    """A ";"-separated list of language codes, kept in order without repeats."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> list[str]:
        return split_list(str(value or ""), lower=True)

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return ";".join(value or [])


class YesNoWidget(widgets.Widget):
    """Read yes/no, true/false, 1/0 or x; an empty cell means no."""

    TRUE = {"1", "true", "yes", "y", "x"}
    FALSE = {"", "0", "false", "no", "n"}

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> bool:
        text = str(value if value is not None else "").strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(
            gettext("“%(value)s” is not yes or no.") % {"value": str(value)}
        )

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "yes" if value else "no"


class TopicsWidget(widgets.ManyToManyWidget):
    """A ";"-separated list of topic slugs or names, in any case."""

    def __init__(self) -> None:
        super().__init__(Topic, separator=";", field="slug")
        self._lookup: dict[str, Topic] | None = None

    def lookup(self) -> dict[str, Topic]:
        if self._lookup is None:
            self._lookup = {}
            for topic in Topic.objects.all():
                self._lookup[topic.slug.lower()] = topic
                self._lookup[topic.name.lower()] = topic
        return self._lookup

    def unknown(self, value: str) -> list[str]:
        """Return the names in ``value`` that match no topic."""
        lookup = self.lookup()
        names = split_list(value, separators=TOPIC_SEPARATOR)
        return [name for name in names if name.lower() not in lookup]

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> list[Topic]:
        names = split_list(str(value or ""), separators=TOPIC_SEPARATOR)
        unknown = self.unknown(str(value or ""))
        if unknown:
            raise ValueError(
                gettext("Unknown topics: %(topics)s") % {"topics": ", ".join(unknown)}
            )
        lookup = self.lookup()
        return list(
            {lookup[name.lower()].pk: lookup[name.lower()] for name in names}.values()
        )


class ContactResource(resources.ModelResource):
    """Contacts in the columns of the import and export files."""

    email = Field(attribute="email", column_name="email", widget=widgets.CharWidget())
    kind = Field(
        attribute="kind",
        column_name="kind",
        widget=ChoiceWidget(Contact.Kind.choices, default=Contact.Kind.OTHER),
    )
    country = Field(attribute="country", column_name="country", widget=CountryWidget())
    is_focal_point = Field(
        attribute="is_focal_point", column_name="is_focal_point", widget=YesNoWidget()
    )
    topics = Field(attribute="topics", column_name="topics", widget=TopicsWidget())
    preferred_language = Field(
        attribute="preferred_language",
        column_name="preferred_language",
        widget=LanguageWidget(),
    )
    fallback_languages = Field(
        attribute="fallback_languages",
        column_name="fallback_languages",
        widget=LanguageListWidget(),
    )

    class Meta:
        model = Contact
        fields = COLUMNS
        import_order = COLUMNS
        export_order = COLUMNS
        import_id_fields = ("email",)
        skip_unchanged = True
        report_skipped = True
        skip_html_diff = True
        clean_model_instances = True
        use_transactions = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Contacts by lower-cased address, loaded in bulk by ``load_existing``.
        self.existing: dict[str, Contact] | None = None
        # Stop at the first row that fails for a reason other than validation.
        self.fail_fast = False

    def load_existing(self, emails: Iterable[str], *, lock: bool = False) -> None:
        """Fetch the contacts with any of ``emails`` in a few queries.

        With ``lock``, hold their rows until the transaction ends, so that an
        edit made meanwhile in the admin is not silently overwritten.
        """
        wanted = sorted({email.lower() for email in emails if email})
        self.existing = {}
        queryset = Contact.objects.all()
        if lock:
            queryset = queryset.select_for_update()
        # In chunks: databases cap the number of parameters in one query.
        for start in range(0, len(wanted), 500):
            contacts = queryset.annotate(email_lower=Lower("email")).filter(
                email_lower__in=wanted[start : start + 500]
            )
            self.existing.update(
                (contact.email.lower(), contact) for contact in contacts
            )

    def get_instance(self, instance_loader: Any, row: dict[str, Any]) -> Contact | None:
        """Find the contact whatever the case of the address."""
        email = row.get("email") or ""
        if not email:
            return None
        if self.existing is not None:
            return self.existing.get(email.lower())
        return Contact.objects.filter(email__iexact=email).first()

    def import_row(
        self, row: dict[str, Any], instance_loader: Any, **kwargs: Any
    ) -> RowResult:
        result = super().import_row(row, instance_loader, **kwargs)
        if self.fail_fast and result.errors:
            raise ContactImportFailed(str(result.errors[-1].error))
        return result

    def import_field(
        self,
        field: Field,
        instance: Contact,
        row: dict[str, Any],
        is_m2m: bool = False,
        **kwargs: Any,
    ) -> None:
        # An existing contact keeps its stored spelling of the address.
        if field.attribute == "email" and instance.pk is not None:
            return
        super().import_field(field, instance, row, is_m2m, **kwargs)


# -- services -----------------------------------------------------------------


def contacts_import_store(*, content: bytes, filename: str) -> StoredImport:
    """Keep an uploaded file under a new random token for preview and confirmation."""
    file_format = file_format_for(filename)
    _check_size(content)
    token = secrets.token_urlsafe(32)
    default_storage.save(_stored_name(token, file_format), ContentFile(content))
    return StoredImport(token=token, file_format=file_format)


def contacts_import_discard(*, token: str, file_format: str) -> None:
    """Delete a stored upload (idempotent)."""
    default_storage.delete(_stored_name(token, file_format))


def contacts_import_purge(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete uploads never confirmed nor cancelled; return how many were deleted.

    They hold personal data, so they are not kept longer than an import takes.
    """
    if not default_storage.exists(STORAGE_FOLDER):
        return 0
    cutoff = timezone.now() - older_than
    deleted = 0
    for name in default_storage.listdir(STORAGE_FOLDER)[1]:
        path = f"{STORAGE_FOLDER}/{name}"
        if default_storage.get_modified_time(path) < cutoff:
            default_storage.delete(path)
            deleted += 1
    return deleted


def contacts_import_preview(*, token: str, file_format: str) -> ImportPreview:
    """Return what importing the stored file would do, row by row; write nothing."""
    sheet = _read_stored(token, file_format)
    outcomes = _classify(sheet)
    return ImportPreview(
        token=token,
        file_format=file_format,
        columns=tuple(sheet.mapping),
        ignored_columns=sheet.ignored,
        rows=tuple(outcomes),
    )


@transaction.atomic(durable=True)
def contacts_import_confirm(
    *,
    token: str,
    file_format: str,
    mailing_list: MailingList | None = None,
    wording: str = "",
) -> ImportResult:
    """Import the valid rows of the stored file in one transaction, or nothing.

    Rows are checked again against the database as it is now; error rows are
    left out. Imported contacts are subscribed to ``mailing_list`` with proof of
    consent, except those who had unsubscribed from it. Suppressed addresses
    stay suppressed. The stored file is deleted once the import is committed.
    """
    sheet = _read_stored(token, file_format)
    checked = _check_rows(sheet)
    valid = [row for _number, row, reasons in checked if not reasons]
    dataset = tablib.Dataset(headers=list(sheet.mapping))
    for row in valid:
        dataset.append([row[column] for column in sheet.mapping])
    resource = ContactResource()
    resource.load_existing((row["email"] for row in valid), lock=True)
    resource.fail_fast = True
    # Rows the model refuses are left out, as in the preview; any other
    # failure raises and rolls the whole import back.
    result = resource.import_data(
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=True,
        retain_instance_in_row_result=True,
    )
    if result.has_errors():
        raise ContactImportFailed(
            "; ".join(str(error.error) for error in result.base_errors)
        )
    contacts = [
        row.instance
        for row in result.rows
        if row.import_type in RowResult.valid_import_types and row.instance is not None
    ]
    subscribed = kept_unsubscribed = 0
    if mailing_list is not None:
        subscribed, kept_unsubscribed = _subscribe(
            contacts, mailing_list=mailing_list, wording=wording
        )
    transaction.on_commit(
        lambda: contacts_import_discard(token=token, file_format=file_format)
    )
    return ImportResult(
        created=result.totals[RowResult.IMPORT_TYPE_NEW],
        updated=result.totals[RowResult.IMPORT_TYPE_UPDATE],
        unchanged=result.totals[RowResult.IMPORT_TYPE_SKIP],
        left_out=len(checked)
        - len(valid)
        + result.totals[RowResult.IMPORT_TYPE_INVALID],
        subscribed=subscribed,
        kept_unsubscribed=kept_unsubscribed,
    )


def _subscribe(
    contacts: Sequence[Contact], *, mailing_list: MailingList, wording: str
) -> tuple[int, int]:
    # Unsubscribing is a withdrawal of consent that an old spreadsheet must not undo.
    withdrawn = set(
        Subscription.objects.filter(
            mailing_list=mailing_list, status=Subscription.Status.UNSUBSCRIBED
        ).values_list("contact_id", flat=True)
    )
    subscribed = kept_unsubscribed = 0
    for contact in contacts:
        if contact.pk in withdrawn:
            kept_unsubscribed += 1
            continue
        subscription_subscribe(
            contact=contact,
            mailing_list=mailing_list,
            source=ConsentRecord.Source.IMPORT,
            wording=wording,
        )
        subscribed += 1
    return subscribed, kept_unsubscribed


# -- reading files --------------------------------------------------------------


def file_format_for(filename: str) -> str:
    """Return "csv" or "xlsx" from a file name, or raise ContactImportError."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in FILE_FORMATS:
        raise ContactImportError(
            gettext("Choose a CSV or XLSX file (its name ends in .csv or .xlsx).")
        )
    return extension


def _check_size(content: bytes) -> None:
    if len(content) > MAX_FILE_BYTES:
        raise ContactImportError(
            gettext(
                "The file is larger than %(size)d MB. Split it and import the parts."
            )
            % {"size": MAX_FILE_BYTES // (1024 * 1024)}
        )
    if not content:
        raise ContactImportError(gettext("The file is empty."))


def _stored_name(token: str, file_format: str) -> str:
    if not _TOKEN.match(token) or file_format not in FILE_FORMATS:
        raise ContactImportError(
            gettext("This import has expired. Upload the file again.")
        )
    return f"{STORAGE_FOLDER}/{token}.{file_format}"


@dataclass(frozen=True)
class _Sheet:
    headers: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    # Column name -> index in the file, in COLUMNS order.
    mapping: dict[str, int] = field(default_factory=dict)
    ignored: tuple[str, ...] = ()


def _read_stored(token: str, file_format: str) -> _Sheet:
    name = _stored_name(token, file_format)
    if not default_storage.exists(name):
        raise ContactImportError(
            gettext("This import has expired. Upload the file again.")
        )
    with default_storage.open(name, "rb") as stored:
        content = stored.read(MAX_FILE_BYTES + 1)
    _check_size(content)
    records = _read_csv(content) if file_format == "csv" else _read_xlsx(content)
    return _map_columns(records)


def _read_csv(content: bytes) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ContactImportError(
            gettext(
                "The file is not UTF-8 text. Save it as “CSV UTF-8” and upload it again."
            )
        ) from None
    if "\x00" in text:
        raise ContactImportError(gettext("The file is not a CSV file."))
    first_line = text.split("\n", 1)[0]
    # Spreadsheets in many European locales separate CSV columns with ";".
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[list[str]] = []
    try:
        for record in reader:
            records.append(record)
            if len(records) > MAX_ROWS + 1:
                raise _too_many_rows()
    except csv.Error:
        raise ContactImportError(
            gettext("The file is not valid CSV: check the quotes near row %(row)d.")
            % {"row": len(records) + 1}
        ) from None
    return records


def _read_xlsx(content: bytes) -> list[list[str]]:
    invalid = ContactImportError(gettext("The file is not a valid XLSX workbook."))
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise invalid from None
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise ContactImportError(
            gettext(
                "The workbook is too large once unpacked. Split it and import the parts."
            )
        )
    records: list[list[str]] = []
    try:
        # data_only=False: a formula is read as its text ("=...") and rejected,
        # rather than as the value it last computed.
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
        try:
            sheet = workbook.worksheets[0]
            for values in sheet.iter_rows(values_only=True):
                records.append([_cell_text(value) for value in values])
                if len(records) > MAX_ROWS + 1:
                    raise _too_many_rows()
        finally:
            workbook.close()
    except ContactImportError:
        raise
    # A damaged workbook can fail anywhere in openpyxl's zip and XML parsing,
    # with many exception types; each one means the same to the person uploading.
    except Exception:  # noqa: BLE001
        raise invalid from None
    return records


def _too_many_rows() -> ContactImportError:
    return ContactImportError(
        gettext("The file has more than %(rows)d rows. Split it and import the parts.")
        % {"rows": MAX_ROWS}
    )


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _column_name(header: str) -> str:
    key = re.sub(r"[\s\-]+", "_", unicodedata.normalize("NFKC", header).strip().lower())
    return HEADER_ALIASES.get(key, key)


def _map_columns(records: list[list[str]]) -> _Sheet:
    while records and not any(cell.strip() for cell in records[-1]):
        records.pop()
    if not records:
        raise ContactImportError(gettext("The file is empty."))
    headers = tuple(records[0])
    found: dict[str, int] = {}
    ignored: list[str] = []
    for index, header in enumerate(headers):
        name = _column_name(header)
        if name in COLUMNS:
            if name in found:
                raise ContactImportError(
                    gettext("The column “%(column)s” appears twice.") % {"column": name}
                )
            found[name] = index
        elif header.strip():
            ignored.append(header.strip())
    if "email" not in found:
        raise ContactImportError(
            gettext(
                "The first row must name the columns, and one of them must be “email”."
            )
        )
    rows = tuple(
        (number, tuple(record))
        for number, record in enumerate(records[1:], start=2)
        if any(cell.strip() for cell in record)
    )
    if not rows:
        raise ContactImportError(gettext("The file has no rows to import."))
    mapping = {name: found[name] for name in COLUMNS if name in found}
    return _Sheet(headers=headers, rows=rows, mapping=mapping, ignored=tuple(ignored))


# -- checking rows ----------------------------------------------------------------


def split_list(
    value: str, *, lower: bool = False, separators: re.Pattern[str] = LIST_SEPARATORS
) -> list[str]:
    """Split a ";"-separated cell into its items, without blanks or repeats."""
    items = (item.strip() for item in separators.split(value))
    return list(
        dict.fromkeys(item.lower() if lower else item for item in items if item)
    )


def is_formula_like(value: str) -> bool:
    """Return whether a spreadsheet program would evaluate ``value``."""
    return value.startswith(FORMULA_PREFIXES) or value.lstrip(" ").startswith(
        FORMULA_PREFIXES
    )


def _formula_reason(column: str, value: str) -> str:
    first = value[0] if value.startswith(("\t", "\r")) else value.lstrip(" ")[0]
    shown = {"\t": gettext("a tab"), "\r": gettext("a carriage return")}.get(
        first, f"“{first}”"
    )
    return gettext(
        "The “%(column)s” cell begins with %(character)s: spreadsheet formulas are not accepted."
    ) % {"column": column, "character": shown}


def _clean_cell(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


def _check_rows(sheet: _Sheet) -> list[tuple[int, dict[str, str], list[str]]]:
    """Return each row's number, cleaned cells and the problems found in the file alone."""
    topics = TopicsWidget()
    known_languages = set(language_codes())
    first_seen: dict[str, int] = {}
    checked = []
    for number, cells in sheet.rows:
        row = {
            column: _clean_cell(cells[index]) if index < len(cells) else ""
            for column, index in sheet.mapping.items()
        }
        email = normalise_email(row["email"])
        row["email"] = email
        reasons = _row_reasons(
            cells, row, sheet=sheet, known_languages=known_languages, topics=topics
        )
        if email:
            key = email.lower()
            if key in first_seen:
                reasons.append(
                    gettext(
                        "Duplicate of row %(row)d: addresses are compared ignoring case, surrounding spaces and Unicode form."
                    )
                    % {"row": first_seen[key]}
                )
            else:
                first_seen[key] = number
        checked.append((number, row, reasons))
    return checked


def _classify(sheet: _Sheet) -> list[RowOutcome]:
    """Return what importing each row would do, writing nothing."""
    checked = _check_rows(sheet)
    resource = ContactResource()
    resource.load_existing(
        row["email"] for _number, row, reasons in checked if not reasons
    )
    outcomes = [
        RowOutcome(number, row["email"], RowAction.ERROR, tuple(reasons))
        if reasons
        else _resource_outcome(resource, number, row)
        for number, row, reasons in checked
    ]
    return _with_suppression_notes(outcomes)


def _row_reasons(
    cells: Sequence[str],
    row: dict[str, str],
    *,
    sheet: _Sheet,
    known_languages: set[str],
    topics: TopicsWidget,
) -> list[str]:
    reasons: list[str] = []
    if any(cell.strip() for cell in cells[len(sheet.headers) :]):
        reasons.append(gettext("The row has more cells than the file has columns."))
    for index, cell in enumerate(cells):
        if is_formula_like(cell):
            column = sheet.headers[index].strip() if index < len(sheet.headers) else ""
            reasons.append(_formula_reason(column or str(index + 1), cell))
    email = row["email"]
    if not email:
        reasons.append(gettext("The email address is missing."))
    else:
        try:
            validate_email(email)
        except ValidationError:
            reasons.append(
                gettext("“%(email)s” is not a valid email address.") % {"email": email}
            )
    languages = [row.get("preferred_language", "").lower()]
    languages += split_list(row.get("fallback_languages", ""), lower=True)
    unknown = [
        code
        for code in dict.fromkeys(languages)
        if code and code not in known_languages
    ]
    if unknown:
        reasons.append(
            gettext("Unknown language codes: %(codes)s") % {"codes": ", ".join(unknown)}
        )
    unknown_topics = topics.unknown(row.get("topics", ""))
    if unknown_topics:
        reasons.append(
            gettext("Unknown topics: %(topics)s")
            % {"topics": ", ".join(unknown_topics)}
        )
    return reasons


def _resource_outcome(
    resource: ContactResource, number: int, row: dict[str, str]
) -> RowOutcome:
    # Without a transaction, a dry run neither saves the instance nor its topics.
    result = resource.import_row(
        dict(row), None, dry_run=True, using_transactions=False, row_number=number
    )
    actions = {
        RowResult.IMPORT_TYPE_NEW: RowAction.CREATE,
        RowResult.IMPORT_TYPE_UPDATE: RowAction.UPDATE,
        RowResult.IMPORT_TYPE_SKIP: RowAction.SKIP,
    }
    if result.import_type in actions:
        return RowOutcome(number, row["email"], actions[result.import_type])
    if result.validation_error is not None:
        reasons = _validation_reasons(result.validation_error)
    else:
        reasons = [str(error.error) for error in result.errors]
    return RowOutcome(number, row["email"], RowAction.ERROR, tuple(reasons))


def _validation_reasons(error: ValidationError) -> list[str]:
    if not hasattr(error, "error_dict"):
        return list(error.messages)
    reasons = []
    for name, errors in error.message_dict.items():
        for message in errors:
            if name == NON_FIELD_ERRORS:
                reasons.append(message)
            else:
                reasons.append(
                    gettext("%(column)s: %(message)s")
                    % {"column": name, "message": message}
                )
    return reasons


def _with_suppression_notes(outcomes: list[RowOutcome]) -> list[RowOutcome]:
    hashes = {
        outcome.email: address_hash(outcome.email)
        for outcome in outcomes
        if outcome.action != RowAction.ERROR
    }
    wanted = sorted(set(hashes.values()))
    suppressed: set[str] = set()
    # In chunks: databases cap the number of parameters in one query.
    for start in range(0, len(wanted), 500):
        suppressed.update(
            Suppression.objects.active()
            .filter(address_hash__in=wanted[start : start + 500])
            .values_list("address_hash", flat=True)
        )
    if not suppressed:
        return outcomes
    note = gettext("This address is suppressed: it is imported but not mailed.")
    return [
        RowOutcome(
            outcome.number, outcome.email, outcome.action, outcome.reasons, (note,)
        )
        if hashes.get(outcome.email) in suppressed
        else outcome
        for outcome in outcomes
    ]
