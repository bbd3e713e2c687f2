"""Phase one of a send: resolve the audience and write the delivery ledger."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from newsletter.audience.selection import campaign_audience
from newsletter.bulk import arrays_insert
from newsletter.models import Campaign, Delivery
from newsletter.models.tokens import new_token

from .languages import choose_language, live_translations

logger = logging.getLogger(__name__)

CHUNK = 2000
# Rows after which prepare refreshes the planner's statistics (PostgreSQL).
ANALYZE_AFTER = 5000
CANCELLED_REASON = "The campaign was cancelled before this mail was sent."


def campaign_prepare(*, campaign_id: int) -> list[int]:
    """Create the campaign's Delivery rows and return the ids still to send.

    Idempotent: rows are unique per (campaign, contact) and written with
    conflicts ignored, so running it again (a redelivered task) adds only
    readers who are new to the audience and changes nothing else.

    A segment whose rules stopped being valid since the campaign was started
    (a topic or parliament deleted meanwhile) sends the campaign back to draft
    with nothing written: starting it again shows the segment's error.
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
    try:
        readers = campaign_audience(campaign)
    except ValidationError as exc:
        logger.warning("Campaign %s back to draft, its audience: %s", campaign_id, exc)
        Campaign.objects.filter(
            pk=campaign_id, status=Campaign.Status.PREPARING
        ).update(status=Campaign.Status.DRAFT)
        return []
    audience = readers.order_by("pk").values_list(
        "pk", "preferred_language", "fallback_languages", "country"
    )
    rows: list[Row] = []
    written = 0
    chosen: dict[tuple[str, tuple[str, ...]], str | None] = {}
    for contact_id, preferred, fallbacks, country in audience.iterator(
        chunk_size=CHUNK
    ):
        # Readers share a handful of language preferences: choose once for each.
        key = (preferred, tuple(fallbacks))
        if key not in chosen:
            chosen[key] = choose_language(
                [preferred, *fallbacks], available, source=fallback
            )
        rows.append((contact_id, chosen[key], country))
        if len(rows) >= CHUNK:
            written += _write(campaign_id, rows)
            rows = []
    written += _write(campaign_id, rows)
    if written >= ANALYZE_AFTER:
        _analyze()

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


# One reader's row to write: contact id, language (None: skipped), country.
Row = tuple[int, str | None, str]
NO_TRANSLATION = "No published translation in the reader's languages."


def _write(campaign_id: int, rows: list[Row]) -> int:
    """Write ``rows`` to the ledger, leaving alone readers who have one; return how many."""
    if not rows:
        return 0
    statuses = [
        Delivery.Status.PENDING.value if language else Delivery.Status.SKIPPED.value
        for _, language, _ in rows
    ]
    if connection.vendor != "postgresql":
        with transaction.atomic():
            Delivery.objects.bulk_create(
                [
                    Delivery(
                        campaign_id=campaign_id,
                        contact_id=contact_id,
                        language=language or "",
                        country=country,
                        status=status,
                        reason="" if language else NO_TRANSLATION,
                    )
                    for (contact_id, language, country), status in zip(
                        rows, statuses, strict=True
                    )
                ],
                ignore_conflicts=True,
            )
        return len(rows)
    # A column added to Delivery without a database default must be added
    # here too (tests/newsletter/test_prepare.py checks the rows are complete).
    columns = _columns(campaign_id, rows, statuses)
    constants = {"provider_message_id": "''", "sweeps": "0", "created_at": "now()"}
    try:
        # A plain insert first: skipping conflicts costs PostgreSQL a check of
        # the unique index before each row, which doubled the insert's time.
        with transaction.atomic():
            arrays_insert(Delivery, columns, constants=constants)
    except IntegrityError:
        # Some of these readers have their row already (a prepare run again,
        # or two at once): the chunk again, leaving those rows as they are.
        arrays_insert(Delivery, columns, constants=constants, skip_conflicts=True)
    return len(rows)


def _columns(
    campaign_id: int, rows: list[Row], statuses: list[str]
) -> dict[str, tuple[str, list[object]]]:
    """Return the ledger columns of ``rows`` for ``arrays_insert``."""
    return {
        "campaign": ("bigint", [campaign_id] * len(rows)),
        "contact": ("bigint", [contact_id for contact_id, _, _ in rows]),
        "language": ("text", [language or "" for _, language, _ in rows]),
        "country": ("text", [country for _, _, country in rows]),
        "status": ("text", statuses),
        "reason": (
            "text",
            ["" if language else NO_TRANSLATION for _, language, _ in rows],
        ),
        "token": ("text", [new_token() for _ in rows]),
    }


def _analyze() -> None:
    """Refresh PostgreSQL's statistics of the ledger after a large prepare.

    Until autovacuum gets to it, the planner takes the new campaign, and its
    pending rows, for a few rows at most, and reads a batch's thousand rows
    through the (campaign, status) index instead of by their ids: all of the
    campaign's rows for every batch, ten times the work at 100,000 readers
    (tests/sending/test_batch_queries.py cannot show a plan; bench/send does).
    ANALYZE samples a fixed number of rows, and only the three columns those
    plans turn on are analysed: 50 ms on a ledger of half a million rows
    (the whole table: 180 ms). Without the ids' statistics the planner still
    read the campaign's index for every batch.
    """
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"ANALYZE {quote(Delivery._meta.db_table)} "
                f"({quote('id')}, {quote('campaign_id')}, {quote('status')})"
            )


def deliveries_skip_if_cancelled(*, campaign_id: int) -> int:
    """Mark the pending rows of a cancelled campaign skipped; return how many."""
    return Delivery.objects.filter(
        campaign_id=campaign_id,
        campaign__status=Campaign.Status.CANCELLED,
        status=Delivery.Status.PENDING,
    ).update(status=Delivery.Status.SKIPPED, reason=CANCELLED_REASON)
