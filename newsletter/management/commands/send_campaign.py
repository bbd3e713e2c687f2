"""Send a newsletter issue to a mailing list from the command line."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from wagtail.models import Page

from newsletter.models import MailingList
from newsletter.reach.metrics import campaign_summary
from newsletter.sending.campaigns import campaign_create, campaign_start


class Command(BaseCommand):
    help = "Create a campaign for a page and a mailing list, and start sending it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "page", help="The page id, or the slug of the source-language page."
        )
        parser.add_argument("mailing_list", help="The slug of the mailing list.")
        parser.add_argument(
            "--wait",
            type=int,
            default=0,
            metavar="SECONDS",
            help="Wait up to this long for the worker to finish, then print the result.",
        )

    def handle(
        self, *args: Any, page: str, mailing_list: str, wait: int, **options: Any
    ) -> None:
        lookup = {"pk": int(page)} if page.isdigit() else {"slug": page}
        source = Page.objects.filter(**lookup).order_by("pk").first()
        if source is None:
            raise CommandError(f"No page {page!r}.")
        target = MailingList.objects.filter(slug=mailing_list).first()
        if target is None:
            raise CommandError(f"No mailing list {mailing_list!r}.")
        try:
            campaign = campaign_create(page=source, mailing_list=target)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        campaign_start(campaign=campaign)
        self.stdout.write(
            f"Campaign {campaign.pk} queued: {campaign.name!r} to {target.name!r}."
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
