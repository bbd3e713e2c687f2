"""What happened to the mail after it left: an append-only event log."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .campaigns import Delivery


class TrackingEvent(models.Model):
    """One thing that happened to a delivery. Rows are never edited."""

    class Kind(models.TextChoices):
        DELIVERED = "delivered", _("Delivered")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Complained")
        OPENED = "opened", _("Opened")
        CLICKED = "clicked", _("Clicked")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        FORWARDED = "forwarded", _("Forwarded")
        REFERRAL_VIEW = "referral_view", _("Shared-link visit")

    class Source(models.TextChoices):
        PIXEL = "pixel", _("Open pixel")
        REDIRECT = "redirect", _("Click redirect")
        PROVIDER = "provider", _("Provider webhook")
        WEB = "web", _("Web page")

    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=16, choices=Kind)
    source = models.CharField(max_length=16, choices=Source)
    occurred_at = models.DateTimeField(db_index=True)
    provider_event_id = models.CharField(max_length=255, blank=True)
    is_machine = models.BooleanField(default=False)
    user_agent_family = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider_event_id"],
                condition=~models.Q(provider_event_id=""),
                name="uniq_tracking_provider_event",
            ),
        ]
        indexes = [
            models.Index(fields=["delivery", "kind"], name="tracking_delivery_kind")
        ]
        verbose_name = _("tracking event")
        verbose_name_plural = _("tracking events")

    def __str__(self) -> str:
        return f"{self.kind} for delivery {self.delivery_id}"
