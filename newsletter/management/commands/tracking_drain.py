"""Write the buffered tracking hits to the database now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from newsletter.tracking.drain import hits_drain


class Command(BaseCommand):
    help = (
        "Write every pixel open and redirect click waiting in the tracking buffer "
        "(RELAY_TRACKING_BUFFER) to the database, after any drain in progress: "
        "when it returns, every hit buffered before it started is written."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--wait",
            type=float,
            default=120,
            help="Seconds to wait for a drain in progress (default 120).",
        )

    def handle(self, *args: Any, wait: float, **options: Any) -> None:
        result = hits_drain(wait=max(wait, 0.001))
        if result.busy:
            raise CommandError(f"Another drain still runs after {wait:g} s.")
        self.stdout.write(
            f"{result.written} events written, {result.dropped} entries dropped."
        )
