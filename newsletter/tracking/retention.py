"""Retention of tracking data: per-person events are kept for a limited time.

Every TrackingEvent (an open, a click, a bounce... of one reader's delivery)
older than ``settings.RELAY_TRACKING_RETENTION_DAYS`` (default 395 days,
thirteen months) is deleted. Before it goes, it is counted into the anonymous
``TrackingDaily`` row of its (campaign, day, kind, machine flag) in the same
transaction, so that a campaign's figures stay true without any per-person row.
Delivery outcomes (sent, delivered, bounced) live on their own tables and are
not touched.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F
from django.db.models.functions import TruncDate
from django.utils import timezone

from newsletter.models import TrackingDaily, TrackingEvent

CHUNK = 5000


def tracking_purge(*, now: datetime | None = None) -> int:
    """Delete tracking events past the retention period, keeping their counts; return how many.

    Works in chunks, each in its own transaction: a run stopped midway has
    counted exactly the rows it deleted, and the next run goes on from there.
    """
    cutoff = (now or timezone.now()) - timedelta(
        days=settings.RELAY_TRACKING_RETENTION_DAYS
    )
    purged = 0
    while True:
        deleted = _purge_chunk(cutoff)
        purged += deleted
        if deleted < CHUNK:
            return purged


@transaction.atomic(durable=True)
def _purge_chunk(cutoff: datetime) -> int:
    ids = list(
        TrackingEvent.objects.select_for_update()
        .filter(occurred_at__lt=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)[:CHUNK]
    )
    if not ids:
        return 0
    groups = (
        TrackingEvent.objects.filter(pk__in=ids)
        .annotate(day=TruncDate("occurred_at"))
        .values("delivery__campaign_id", "day", "kind", "is_machine")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for group in groups:
        row, _created = TrackingDaily.objects.get_or_create(
            campaign_id=group["delivery__campaign_id"],
            day=group["day"],
            kind=group["kind"],
            is_machine=group["is_machine"],
        )
        TrackingDaily.objects.filter(pk=row.pk).update(count=F("count") + group["n"])
    TrackingEvent.objects.filter(pk__in=ids).delete()
    return len(ids)
