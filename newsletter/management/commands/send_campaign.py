"""Send a newsletter issue to mailing lists and segments from the command line."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from wagtail.models import Page

from newsletter.models import MailingList, Segment
from newsletter.reach.metrics import campaign_summary
from newsletter.sending.campaigns import campaign_create, campaign_start


class Command(BaseCommand):
    help = (
        "Create a campaign for a page, mailing lists and segments, and start "
        "sending it."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "page", help="The page id, or the slug of the source-language page."
        )
        parser.add_argument(
            "lists", nargs="*", metavar="LIST", help="Slugs of mailing lists."
        )
        parser.add_argument(
            "--segment",
            action="append",
            default=[],
            dest="segments",
            metavar="NAME",
            help="The name of a segment (repeat for several).",
        )
        parser.add_argument(
            "--wait",
            type=int,
            default=0,
            metavar="SECONDS",
            help="Wait up to this long for the worker to finish, then print the result.",
        )

    def handle(
        self,
        *args: Any,
        page: str,
        lists: list[str],
        segments: list[str],
        wait: int,
        **options: Any,
    ) -> None:
        lookup = {"pk": int(page)} if page.isdigit() else {"slug": page}
        source = Page.objects.filter(**lookup).order_by("pk").first()
        if source is None:
            raise CommandError(f"No page {page!r}.")
        targets = list(MailingList.objects.filter(slug__in=lists))
        unknown = set(lists) - {target.slug for target in targets}
        if unknown:
            raise CommandError(f"No mailing list {', '.join(sorted(unknown))!r}.")
        chosen = list(Segment.objects.filter(name__in=segments))
        unknown = set(segments) - {segment.name for segment in chosen}
        if unknown:
            raise CommandError(f"No segment {', '.join(sorted(unknown))!r}.")
        try:
            campaign = campaign_create(page=source, lists=targets, segments=chosen)
            status = campaign_start(campaign=campaign)
        except ValueError as exc:  # CampaignActionError is a ValueError
            raise CommandError(str(exc)) from exc
        audience = ", ".join([t.name for t in targets] + [s.name for s in chosen])
        self.stdout.write(
            f"Campaign {campaign.pk} {status}: {campaign.name!r} to {audience}."
        )
        deadline = time.monotonic() + wait
        while wait:
            summary = campaign_summary(campaign_id=campaign.pk)
            if summary.deliveries and summary.finished:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"Done: {summary.by_status}, languages {summary.by_language}."
                    )
                )
                return
            if time.monotonic() > deadline:
                raise CommandError(
                    f"Not finished after {wait}s: {summary.by_status}. Is the worker running?"
                )
            time.sleep(0.5)
