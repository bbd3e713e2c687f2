"""Creating and starting campaigns."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from wagtail.models import Page

from newsletter.models import Campaign, MailingList

from .mailable import Mailable


@transaction.atomic(durable=True)
def campaign_create(
    *,
    page: Page,
    mailing_list: MailingList,
    name: str = "",
    language_policy: str = Campaign.LanguagePolicy.SOURCE,
) -> Campaign:
    """Create a draft campaign that sends ``page`` to a list; its locale is the source."""
    page = page.specific
    if not isinstance(page, Mailable):
        raise ValueError(f"{type(page).__name__} pages cannot be sent as mail.")
    return Campaign.objects.create(
        page=page,
        mailing_list=mailing_list,
        name=name or page.title,
        language_policy=language_policy,
    )


def campaign_start(*, campaign: Campaign) -> None:
    """Queue the preparation of ``campaign`` once committed; sending follows by itself."""
    from newsletter.tasks import campaign_prepare_task  # tasks import this module

    campaign_prepare_task.delay_on_commit(campaign.pk)


@transaction.atomic(durable=True)
def campaign_schedule(*, campaign: Campaign, at: datetime) -> Campaign:
    """Have the draft ``campaign`` started at ``at`` by the beat task; return it.

    No countdown task is queued: a beat task started every minute picks the
    due drafts from the database, so a schedule survives broker restarts and
    can be changed until it is due.
    """
    if campaign.status != Campaign.Status.DRAFT:
        raise ValueError("Only a draft campaign can be scheduled.")
    campaign.scheduled_at = at
    campaign.save(update_fields=["scheduled_at"])
    return campaign


def campaigns_start_due(*, now: datetime | None = None) -> list[int]:
    """Start every draft whose scheduled time has come; return their ids.

    Each is taken with a conditional UPDATE (draft → preparing), so two beat
    runs, or two beat schedulers by mistake, start a campaign once.
    """
    from newsletter.tasks import campaign_prepare_task  # tasks import this module

    due = Campaign.objects.filter(
        status=Campaign.Status.DRAFT,
        scheduled_at__isnull=False,
        scheduled_at__lte=now or timezone.now(),
    ).values_list("pk", flat=True)
    started = []
    for campaign_id in list(due):
        if Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.DRAFT).update(
            status=Campaign.Status.PREPARING
        ):
            campaign_prepare_task.delay(campaign_id)
            started.append(campaign_id)
    return started
