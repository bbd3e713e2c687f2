"""Phase one of a send: resolve the audience and write the delivery ledger."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from newsletter.audience.selection import campaign_audience
from newsletter.models import Campaign, Delivery

from .languages import choose_language, live_translations

CHUNK = 2000
CANCELLED_REASON = "The campaign was cancelled before this mail was sent."


def campaign_prepare(*, campaign_id: int) -> list[int]:
    """Create the campaign's Delivery rows and return the ids still to send.

    Idempotent: rows are unique per (campaign, contact), created with
    ``bulk_create(ignore_conflicts=True)``, so running it again (a redelivered
    task) adds only readers who are new to the audience and changes nothing else.
    """
    updated = Campaign.objects.filter(
        pk=campaign_id, status__in=[Campaign.Status.DRAFT, Campaign.Status.PREPARING]
    ).update(status=Campaign.Status.PREPARING)
    campaign = (
        Campaign.objects.select_related("page__locale")
        .prefetch_related("lists", "segments")
        .get(pk=campaign_id)
    )
    if not updated and campaign.status != Campaign.Status.SENDING:
        return []

    available = live_translations(campaign.page)
    source_language = campaign.page.locale.language_code
    # A held campaign starts once its translations are complete; readers of
    # languages nobody translates into then get the source, as under "source".
    fallback = (
        None
        if campaign.language_policy == Campaign.LanguagePolicy.SKIP
        else source_language
    )
    audience = (
        campaign_audience(campaign)
        .order_by("pk")
        .values_list("pk", "preferred_language", "fallback_languages", "country")
    )
    rows: list[Delivery] = []
    for contact_id, preferred, fallbacks, country in audience.iterator(
        chunk_size=CHUNK
    ):
        language = choose_language([preferred, *fallbacks], available, source=fallback)
        rows.append(
            Delivery(
                campaign_id=campaign_id,
                contact_id=contact_id,
                language=language or "",
                country=country,
                status=Delivery.Status.PENDING if language else Delivery.Status.SKIPPED,
                reason=""
                if language
                else "No published translation in the reader's languages.",
            )
        )
        if len(rows) >= CHUNK:
            _write(rows)
            rows = []
    _write(rows)

    Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.PREPARING).update(
        status=Campaign.Status.SENDING, started_at=timezone.now()
    )
    # Cancelled while preparing: the rows written since are skipped too.
    deliveries_skip_if_cancelled(campaign_id=campaign_id)
    return list(
        Delivery.objects.filter(campaign_id=campaign_id, status=Delivery.Status.PENDING)
        .order_by("language", "country", "pk")
        .values_list("pk", flat=True)
    )


def _write(rows: list[Delivery]) -> None:
    with transaction.atomic():
        Delivery.objects.bulk_create(rows, ignore_conflicts=True)


def deliveries_skip_if_cancelled(*, campaign_id: int) -> int:
    """Mark the pending rows of a cancelled campaign skipped; return how many."""
    return Delivery.objects.filter(
        campaign_id=campaign_id,
        campaign__status=Campaign.Status.CANCELLED,
        status=Delivery.Status.PENDING,
    ).update(status=Delivery.Status.SKIPPED, reason=CANCELLED_REASON)
