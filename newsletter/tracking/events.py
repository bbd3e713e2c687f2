"""Recording what happens to mail after it was sent."""

from __future__ import annotations

from django.utils import timezone

from newsletter.models import Delivery, TrackingEvent


def open_record(*, delivery: Delivery, user_agent: str = "") -> TrackingEvent | None:
    """Record an open of ``delivery`` seen through the pixel; return the event.

    Returns None, recording nothing, when the reader has not consented to
    tracking (the pixel is not sent to them, but an old mail may still load it).
    """
    if not delivery.contact.tracking_consent:
        return None
    return TrackingEvent.objects.create(
        delivery=delivery,
        kind=TrackingEvent.Kind.OPENED,
        source=TrackingEvent.Source.PIXEL,
        occurred_at=timezone.now(),
        user_agent_family=_agent_family(user_agent),
    )


def _agent_family(user_agent: str) -> str:
    """Return a coarse client family: the full agent string is not kept."""
    return user_agent.split("/", 1)[0].strip()[:64]
