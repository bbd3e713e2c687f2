"""Where a campaign stands while it is sent: counts, rate and the time left."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Min, Q
from django.utils import timezone

from newsletter.models import Campaign, Delivery

# The send rate is measured over the mails sent in this last stretch of time.
RATE_WINDOW = timedelta(minutes=2)


@dataclass(frozen=True)
class Progress:
    status: str
    prepared: int  # ledger rows written so far: the audience once prepared
    pending: int
    sending: int
    sent: int
    failed: int
    skipped: int
    uncertain: int
    percent: int  # of prepared rows in a final state
    rate: float | None  # mails per second, recently
    seconds_left: int | None

    @property
    def done(self) -> int:
        """Return how many readers are in a final state."""
        return self.sent + self.failed + self.skipped + self.uncertain

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"done": self.done}


def campaign_progress(*, campaign_id: int, now: datetime | None = None) -> Progress:
    """Return the ledger counts of a campaign and the time left at the recent rate.

    One aggregate query over the ledger (plus the campaign's status): the rate
    is the mails sent within ``RATE_WINDOW`` divided by the time since the
    first of them, and the time left is what is still open at that rate.
    """
    now = now or timezone.now()
    since = now - RATE_WINDOW
    status = Campaign.objects.values_list("status", flat=True).get(pk=campaign_id)
    counts = Delivery.objects.filter(campaign_id=campaign_id).aggregate(
        prepared=Count("pk"),
        **{
            value: Count("pk", filter=Q(status=value))
            for value in Delivery.Status.values
        },
        recent=Count("pk", filter=Q(sent_at__gte=since)),
        first_recent=Min("sent_at", filter=Q(sent_at__gte=since)),
    )
    prepared = counts["prepared"]
    final = sum(counts[value] for value in Delivery.TERMINAL)
    open_rows = counts[Delivery.Status.PENDING] + counts[Delivery.Status.SENDING]
    rate = None
    if counts["recent"] and counts["first_recent"] is not None:
        elapsed = max((now - counts["first_recent"]).total_seconds(), 1.0)
        rate = counts["recent"] / elapsed
    seconds_left = None
    if open_rows == 0:
        seconds_left = 0
    elif rate and status == Campaign.Status.SENDING:
        seconds_left = round(open_rows / rate)
    return Progress(
        status=status,
        prepared=prepared,
        pending=counts[Delivery.Status.PENDING],
        sending=counts[Delivery.Status.SENDING],
        sent=counts[Delivery.Status.SENT],
        failed=counts[Delivery.Status.FAILED],
        skipped=counts[Delivery.Status.SKIPPED],
        uncertain=counts[Delivery.Status.UNCERTAIN],
        percent=(100 * final // prepared) if prepared else 0,
        rate=rate,
        seconds_left=seconds_left,
    )
