"""The reach figures as CSV and XLSX files, with the definitions printed in them.

Every text that comes from the database (campaign, parliament and chamber
names, filter values) is neutralised, so no spreadsheet reads a cell as a
formula; figures stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, TYPE_STRING
from openpyxl.styles import Font

from newsletter.audience.exports import neutralise_cell
from newsletter.locales import country_name

from .dashboard import Dashboard
from .metrics import ReachFigures, definitions

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period(figures: ReachFigures) -> str:
    start = figures.start.date().isoformat() if figures.start else "the beginning"
    end = figures.end.date().isoformat() if figures.end else "now"
    return f"{start} to {end} (end excluded)"


def target_lines(figures: ReachFigures) -> list[tuple[str, int, int | None]]:
    """Return (figure, value, target) for the figures that have a target."""
    target = figures.target
    return [
        ("Direct reach (MPs)", figures.direct_reach, target.direct_mps),
        ("Engaged direct reach (MPs)", figures.engaged_direct_reach, None),
        ("Countries reached", figures.countries_reached, target.countries),
        (
            "Focal-point parliaments",
            figures.focal_point_parliaments,
            target.focal_point_parliaments,
        ),
        ("Human opens", figures.human_opens, None),
        ("Machine opens", figures.machine_opens, None),
        ("Human clicks", figures.human_clicks, None),
        ("Machine clicks", figures.machine_clicks, None),
        ("Confirmed indirect reach (people)", figures.indirect_reach, target.indirect),
        ("  of which forward readers", figures.forward_readers, None),
        ("  of which shared-link and QR visitors", figures.shared_visitors, None),
        ("Shared-link visitors", figures.link_visitors, None),
        ("QR-code visitors", figures.qr_visitors, None),
        ("Forwards sent through Relay", figures.forwards_sent, None),
        ("Forwarded copies sent", figures.forward_recipients, None),
        ("Machine visits (not counted)", figures.machine_visits, None),
        (
            "Estimated indirect (not in confirmed)",
            figures.indirect_estimated,
            None,
        ),
    ]


def summary_rows(figures: ReachFigures) -> list[list[str | int]]:
    """Return the (figure, value, target) rows both files print, after the header."""
    rows: list[list[str | int]] = [
        [label, value, "" if target is None else target]
        for label, value, target in target_lines(figures)
    ]
    for reason, count in sorted(figures.machine_reasons.items()):
        rows.append([f"Machine events: {reason or 'unclassified'}", count, ""])
    return rows


CAMPAIGN_HEADER = [
    "Campaign",
    "Language",
    "Sent",
    "Delivered",
    "Direct reach (MPs)",
    "Human opens",
    "Machine opens",
    "Human clicks",
    "Machine clicks",
]


def campaign_rows(figures: ReachFigures) -> list[list[str | int]]:
    """Return the per-campaign, per-language rows, campaign names neutralised."""
    return [
        [
            neutralise_cell(row.campaign),
            row.language,
            row.sent,
            row.delivered,
            row.direct_reach,
            row.human_opens,
            row.machine_opens,
            row.human_clicks,
            row.machine_clicks,
        ]
        for row in figures.rows
    ]


def reach_csv(figures: ReachFigures, *, filters: Sequence[tuple[str, str]] = ()) -> str:
    """Return the figures, targets, definitions and per-campaign rows as CSV text.

    ``filters`` are (name, value) lines printed under the period, saying what
    else limited the figures (an event, a campaign).
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Relay reach report", _period(figures)])
    for name, value in filters:
        writer.writerow([name, neutralise_cell(value)])
    writer.writerow([])
    writer.writerow(["Figure", "Value", "Target"])
    writer.writerows(summary_rows(figures))
    writer.writerow([])
    writer.writerow(["Definitions"])
    for text in definitions().values():
        writer.writerow([text])
    writer.writerow([])
    writer.writerow(CAMPAIGN_HEADER)
    writer.writerows(campaign_rows(figures))
    return out.getvalue()


def _sheet(workbook: Workbook, title: str, rows: list[list[str | int]]) -> None:
    sheet = workbook.create_sheet(title)
    for row in rows:
        sheet.append([_cell(value) for value in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    _pin_text(sheet)


def _cell(value: str | int) -> str | int:
    if not isinstance(value, str):
        return value
    # Control characters are not allowed in XLSX and would fail the save.
    return neutralise_cell(ILLEGAL_CHARACTERS_RE.sub("", value))


def _pin_text(sheet: object) -> None:
    # openpyxl turns any string starting with "=" into a formula; the texts are
    # already neutralised, and their type is pinned to text as well.
    for row in sheet.iter_rows():  # type: ignore[attr-defined]
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = TYPE_STRING


def reach_xlsx(board: Dashboard, *, filters: Sequence[tuple[str, str]] = ()) -> bytes:
    """Return the dashboard's figures as an XLSX workbook.

    Sheets: the figures against the targets with the definitions; campaigns
    and languages; countries; parliaments; languages. Per-MP figures are left
    out: the file is for the funder, and names stay in the admin.
    """
    figures = board.figures
    workbook = Workbook()
    summary = workbook.active
    summary.title = "Reach"
    rows: list[list[str | int]] = [["Relay reach report", _period(figures)]]
    rows += [[name, neutralise_cell(value)] for name, value in filters]
    rows += [[], ["Figure", "Value", "Target"], *summary_rows(figures), []]
    rows += [["Definitions"], *[[text] for text in definitions().values()]]
    for row in rows:
        summary.append([_cell(value) for value in row])
    for row_number, row in enumerate(rows, start=1):
        if row and row[0] in ("Figure", "Definitions", "Relay reach report"):
            for cell in summary[row_number]:
                cell.font = Font(bold=True)
    summary.column_dimensions["A"].width = 40
    _pin_text(summary)

    _sheet(
        workbook, "Campaigns and languages", [CAMPAIGN_HEADER, *campaign_rows(figures)]
    )
    _sheet(
        workbook,
        "Countries",
        [
            [
                "Country",
                "Code",
                "Direct reach (MPs)",
                "Engaged direct reach (MPs)",
                "Delivered",
                "Human opens",
                "Machine opens",
                "Human clicks",
                "Machine clicks",
            ],
            *[
                [
                    country_name(row.country, language="en") if row.country else "",
                    row.country,
                    row.direct_reach,
                    row.engaged_direct_reach,
                    row.delivered,
                    row.engagement.human_opens,
                    row.engagement.machine_opens,
                    row.engagement.human_clicks,
                    row.engagement.machine_clicks,
                ]
                for row in board.countries
            ],
        ],
    )
    _sheet(
        workbook,
        "Parliaments",
        [
            [
                "Country",
                "Parliament",
                "Chamber",
                "Direct reach (MPs)",
                "Engaged direct reach (MPs)",
                "Focal point",
            ],
            *[
                [
                    row.country,
                    neutralise_cell(row.parliament),
                    neutralise_cell(row.chamber),
                    row.direct_reach,
                    row.engaged_direct_reach,
                    "yes" if row.has_focal_point else "no",
                ]
                for row in board.parliaments
            ],
        ],
    )
    _sheet(
        workbook,
        "Languages",
        [
            [
                "Language",
                "Sent",
                "Delivered",
                "Direct reach (MPs)",
                "Human opens",
                "Machine opens",
                "Human clicks",
                "Machine clicks",
            ],
            *[
                [
                    row.language,
                    row.sent,
                    row.delivered,
                    row.direct_reach,
                    row.engagement.human_opens,
                    row.engagement.machine_opens,
                    row.engagement.human_clicks,
                    row.engagement.machine_clicks,
                ]
                for row in board.languages
            ],
        ],
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
