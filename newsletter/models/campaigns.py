"""What is sent to whom: campaigns and their delivery ledger."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .audience import Contact, MailingList, Segment
from .tokens import new_token


class Campaign(models.Model):
    """One mailable page sent to an audience, in each reader's best language."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        PREPARING = "preparing", _("Preparing")
        SENDING = "sending", _("Sending")
        PAUSED = "paused", _("Paused")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")

    class LanguagePolicy(models.TextChoices):
        SOURCE = (
            "source",
            _("Send the source language when the reader's languages are missing"),
        )
        SKIP = "skip", _("Skip readers whose languages are missing")
        HOLD = "hold", _("Hold the campaign until the translations are complete")

    name = models.CharField(_("name"), max_length=255)
    # newsletter never imports cms: the page is reached through the mailable protocol.
    page = models.ForeignKey(
        "wagtailcore.Page", on_delete=models.PROTECT, related_name="+"
    )
    # The audience: subscribers of the lists and members of the segments, each
    # reader once (newsletter.audience.selection.campaign_audience).
    lists = models.ManyToManyField(
        MailingList, blank=True, related_name="campaigns", verbose_name=_("lists")
    )
    segments = models.ManyToManyField(
        Segment, blank=True, related_name="campaigns", verbose_name=_("segments")
    )
    language_policy = models.CharField(
        max_length=16, choices=LanguagePolicy, default=LanguagePolicy.SOURCE
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.DRAFT)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Set by a second Secretariat user when RELAY_CAMPAIGN_APPROVAL is on.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    # A scheduled campaign is started by the beat task ``campaigns_start_due``
    # once this time has come (and, when held, once translations are complete).
    scheduled_at = models.DateTimeField(null=True, blank=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # When it was last resumed, or reopened to send failed or uncertain
    # readers again: the sending deadline counts from then, not from the start.
    resumed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("send_campaign", "Can send, schedule, pause, resume and cancel campaigns"),
            ("approve_campaign", "Can approve campaigns of other users"),
        ]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self) -> str:
        return self.name


class Delivery(models.Model):
    """The ledger row of one campaign for one contact: it is mailed at most once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Being handed to the provider")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")
        UNCERTAIN = "uncertain", _("Uncertain")

    TERMINAL = (Status.SENT, Status.FAILED, Status.SKIPPED, Status.UNCERTAIN)

    # No index of its own: the (campaign, status) index below starts with the
    # campaign, and every index is one more write per row version while a
    # campaign sends.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    # No index of its own either: the (contact, campaign) constraint below
    # starts with the contact and serves every lookup by contact.
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, related_name="deliveries", db_index=False
    )
    language = models.CharField(max_length=8, blank=True)
    country = models.CharField(max_length=2, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    reason = models.TextField(blank=True)
    # Unique by a constraint (Meta), not ``unique=True``: on PostgreSQL the
    # field option adds a second, ``LIKE`` index that no query uses.
    token = models.CharField(max_length=32, default=new_token, editable=False)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Set right before the provider call that carries this row. A row left in
    # ``sending`` with this set may have been accepted: it becomes uncertain.
    attempted_at = models.DateTimeField(null=True, blank=True)
    # How often the sweeper took this row back from a worker that stopped
    # before handing it over; bounds a poison-message loop.
    sweeps = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Indexed in Meta for the webhooks' exact lookups (no LIKE index, as above).
    provider_message_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Contact first: by campaign, the (campaign, status) index serves.
            models.UniqueConstraint(
                fields=["contact", "campaign"],
                name="uniq_delivery_per_contact_campaign",
            ),
            models.UniqueConstraint(fields=["token"], name="uniq_delivery_token"),
        ]
        indexes = [
            models.Index(
                fields=["campaign", "status"], name="delivery_campaign_status"
            ),
            # Only rows handed over have one: the rows still to send carry no
            # entry, so writing them costs this index nothing.
            models.Index(
                fields=["provider_message_id"],
                name="delivery_provider_message_id",
                condition=~models.Q(provider_message_id=""),
            ),
        ]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        return f"{self.campaign} → {self.contact_id} ({self.status})"


class RateBucket(models.Model):
    """The token bucket of one provider, for installations without Redis."""

    name = models.CharField(max_length=100, unique=True)
    tokens = models.FloatField()
    updated = models.FloatField()  # seconds since the epoch

    def __str__(self) -> str:
        return self.name
