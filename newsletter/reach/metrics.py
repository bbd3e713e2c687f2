"""Figures read from the ledger and the event log."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from newsletter.models import Delivery, TrackingEvent


@dataclass(frozen=True)
class CampaignSummary:
    deliveries: int
    by_status: dict[str, int]
    by_language: dict[str, int]
    opened: int

    @property
    def finished(self) -> bool:
        return not (
            self.by_status.get(Delivery.Status.PENDING, 0)
            or self.by_status.get(Delivery.Status.SENDING, 0)
        )


def campaign_summary(*, campaign_id: int) -> CampaignSummary:
    """Return delivery counts by status and language, and distinct human opens."""
    rows = Delivery.objects.filter(campaign_id=campaign_id)
    by_status = dict(rows.values_list("status").annotate(n=Count("pk")).order_by())
    by_language = dict(
        rows.filter(status=Delivery.Status.SENT)
        .values_list("language")
        .annotate(n=Count("pk"))
        .order_by()
    )
    opened = (
        TrackingEvent.objects.filter(
            delivery__campaign_id=campaign_id,
            kind=TrackingEvent.Kind.OPENED,
            is_machine=False,
        )
        .values("delivery_id")
        .distinct()
        .count()
    )
    return CampaignSummary(
        deliveries=sum(by_status.values()),
        by_status=by_status,
        by_language=by_language,
        opened=opened,
    )
