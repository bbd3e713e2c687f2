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

    # No index of its own: the (delivery, kind) index serves every lookup by
    # delivery, and each index is one more write per event.
    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=16, choices=Kind)
    source = models.CharField(max_length=16, choices=Source)
    occurred_at = models.DateTimeField(db_index=True)
    provider_event_id = models.CharField(max_length=255, blank=True)
    is_machine = models.BooleanField(default=False)
    # How the event was classified as a machine's (newsletter.tracking.machine).
    machine_reason = models.CharField(max_length=32, blank=True)
    # For bounces: hard, soft or block (newsletter.tracking.bounces).
    bounce_class = models.CharField(max_length=8, blank=True)
    # For clicks: the link followed (never a per-reader URL).
    link = models.URLField(max_length=2000, blank=True)
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


# The tables below are not shown to readers or translators: their labels are
# plain English, so they add nothing to the catalogues.


class ProviderEvent(models.Model):
    """One event a provider posted to a webhook, stored before it is processed.

    Unique on (provider, event_id), so a duplicate or replayed post is dropped
    at insert. ``event_id`` is the provider's own id, or a digest of the event
    for providers that give none (Brevo, most Postmark events).
    """

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=16)
    occurred_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    recipient_hash = models.CharField(max_length=64, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # The provider's raw event, with client IP addresses replaced by keyed hashes.
    payload = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    delivery = models.ForeignKey(
        Delivery,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="provider_events",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="uniq_provider_event"
            ),
        ]
        verbose_name = "provider event"
        verbose_name_plural = "provider events"

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"


class DeliveryOutcome(models.Model):
    """What the provider reported about one delivery; it only ever moves forward.

    ``rank`` orders the states, and updates are conditional on a lower rank, so
    events arriving out of order never move a delivery backwards.
    """

    class State(models.TextChoices):
        DEFERRED = "deferred", "Deferred"
        SOFT_BOUNCED = "soft_bounced", "Soft bounce"
        DELIVERED = "delivered", "Delivered"
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Complained"

    RANKS = {
        State.DEFERRED: 10,
        State.SOFT_BOUNCED: 20,
        State.DELIVERED: 30,
        State.BOUNCED: 40,
        State.COMPLAINED: 50,
    }

    delivery = models.OneToOneField(
        Delivery, on_delete=models.CASCADE, primary_key=True, related_name="outcome"
    )
    state = models.CharField(max_length=16, choices=State)
    rank = models.PositiveSmallIntegerField()
    occurred_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "delivery outcome"
        verbose_name_plural = "delivery outcomes"

    def __str__(self) -> str:
        return f"delivery {self.delivery_id}: {self.state}"


class Link(models.Model):
    """One http(s) link of a campaign's mails: the only targets a click may go to.

    Rows are made when a variant is rendered (newsletter.tracking.links); the
    click redirect looks one up by id and campaign and answers with its
    ``url``, never with anything taken from the request.
    """

    campaign = models.ForeignKey(
        "newsletter.Campaign", on_delete=models.CASCADE, related_name="links"
    )
    url = models.URLField(max_length=2000)
    # Order of first appearance in the first variant rendered.
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "url"], name="uniq_link_per_campaign_url"
            ),
        ]
        verbose_name = "link"
        verbose_name_plural = "links"

    def __str__(self) -> str:
        return f"link {self.pk} of campaign {self.campaign_id}"


class TrackingDaily(models.Model):
    """Anonymous daily counts of tracking events, kept when the events are purged.

    The retention purge (newsletter.tracking.retention) folds each expired
    TrackingEvent into the count of its (campaign, day, kind, is_machine)
    before deleting it, so no per-person row outlives the retention period
    while the campaign's figures stay true.
    """

    campaign = models.ForeignKey(
        "newsletter.Campaign", on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    kind = models.CharField(max_length=16, choices=TrackingEvent.Kind)
    is_machine = models.BooleanField(default=False)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "day", "kind", "is_machine"],
                name="uniq_tracking_daily",
            ),
        ]
        verbose_name = "daily tracking count"
        verbose_name_plural = "daily tracking counts"

    def __str__(self) -> str:
        return f"{self.kind} of campaign {self.campaign_id} on {self.day}: {self.count}"
