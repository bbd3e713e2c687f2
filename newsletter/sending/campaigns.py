"""Creating and starting campaigns."""

from __future__ import annotations

from django.db import transaction
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
