"""Print the reach figures against their targets, or write them as CSV or XLSX."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from newsletter.reach.dashboard import ReachScope, dashboard
from newsletter.reach.exports import reach_csv, reach_xlsx, target_lines
from newsletter.reach.metrics import definitions, reach_figures


def _day(value: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(value), time.min, tzinfo=UTC)
    except ValueError as exc:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from exc


class Command(BaseCommand):
    help = (
        "Print the reach figures against the targets; --csv or --xlsx writes them "
        "to a file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from", dest="start", help="First day of the period (YYYY-MM-DD, UTC)."
        )
        parser.add_argument(
            "--to", dest="end", help="Day after the period (YYYY-MM-DD, UTC, excluded)."
        )
        parser.add_argument(
            "--csv", metavar="PATH", help="Write the figures as CSV here ('-': stdout)."
        )
        parser.add_argument(
            "--xlsx",
            metavar="PATH",
            help="Write the figures and the dashboard's tables as an XLSX workbook here.",
        )

    def handle(
        self,
        *args: Any,
        start: str | None,
        end: str | None,
        csv: str | None,
        xlsx: str | None = None,
        **options: Any,
    ) -> None:
        scope = ReachScope(
            start=_day(start) if start else None, end=_day(end) if end else None
        )
        if xlsx:
            if xlsx == "-" or csv:
                raise CommandError("--xlsx needs a file path, and no --csv beside it.")
            Path(xlsx).write_bytes(reach_xlsx(dashboard(scope)))
            self.stdout.write(f"Wrote {xlsx}")
            return
        figures = reach_figures(start=scope.start, end=scope.end)
        if csv == "-":
            self.stdout.write(reach_csv(figures), ending="")
            return
        if csv:
            Path(csv).write_text(reach_csv(figures), encoding="utf-8", newline="")
            self.stdout.write(f"Wrote {csv}")
            return
        for label, value, target in target_lines(figures):
            against = f" of {target} ({value * 100 // target}%)" if target else ""
            self.stdout.write(f"{label:<40} {value:>6}{against}")
        for reason, count in sorted(figures.machine_reasons.items()):
            self.stdout.write(f"  machine events, {reason or 'unclassified'}: {count}")
        if figures.rows:
            self.stdout.write("")
            self.stdout.write(
                "Campaign / language: sent, delivered, MPs, opens human|machine, "
                "clicks human|machine"
            )
            for row in figures.rows:
                self.stdout.write(
                    f"{row.campaign} / {row.language or '-'}: {row.sent}, "
                    f"{row.delivered}, {row.direct_reach}, "
                    f"{row.human_opens}|{row.machine_opens}, "
                    f"{row.human_clicks}|{row.machine_clicks}"
                )
        self.stdout.write("")
        for text in definitions().values():
            self.stdout.write(text)
