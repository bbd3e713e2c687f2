"""The reach figures as a CSV file, with the definitions printed in it."""

from __future__ import annotations

import csv
import io

from newsletter.audience.exports import neutralise_cell

from .metrics import ReachFigures, definitions


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


def reach_csv(figures: ReachFigures) -> str:
    """Return the figures, targets, definitions and per-campaign rows as CSV text.

    Campaign names are neutralised so no spreadsheet reads a cell as a formula.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Relay reach report", _period(figures)])
    writer.writerow([])
    writer.writerow(["Figure", "Value", "Target"])
    for label, value, target in target_lines(figures):
        writer.writerow([label, value, "" if target is None else target])
    for reason, count in sorted(figures.machine_reasons.items()):
        writer.writerow([f"Machine events: {reason or 'unclassified'}", count, ""])
    writer.writerow([])
    writer.writerow(["Definitions"])
    for text in definitions().values():
        writer.writerow([text])
    writer.writerow([])
    writer.writerow(
        [
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
    )
    for row in figures.rows:
        writer.writerow(
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
        )
    return out.getvalue()
