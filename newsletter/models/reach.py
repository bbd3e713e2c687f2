"""The reach the network aims for, against which the figures are reported."""

from __future__ import annotations

from django.db import models

from .tokens import new_token


class ReachTarget(models.Model):
    """One set of reach targets; the most recent row is the one in force.

    The defaults are the network's targets: 100 MPs, 15 countries, 1,000 people
    reached indirectly and 8 parliaments with a focal point.
    """

    direct_mps = models.PositiveIntegerField(default=100)
    countries = models.PositiveIntegerField(default=15)
    indirect = models.PositiveIntegerField(default=1000)
    focal_point_parliaments = models.PositiveIntegerField(default=8)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "reach target"
        verbose_name_plural = "reach targets"

    def __str__(self) -> str:
        return (
            f"{self.direct_mps} MPs, {self.countries} countries, "
            f"{self.indirect} indirect, {self.focal_point_parliaments} parliaments"
        )

    @classmethod
    def current(cls) -> ReachTarget:
        """Return the targets in force: the latest row, or the unsaved defaults."""
        return cls.objects.first() or cls()


# Indirect reach: how an MP passes a campaign on (DESIGN.md, "Referral"). The
# tables hold no colleague's address once their copy is handed over, and no
# visitor's IP address or cookie at all: only keyed hashes
# (newsletter.tracking.referrals). Their labels are plain English: they are
# not shown to readers.


class Referral(models.Model):
    """One channel through which an MP passes one campaign on: forwards, a link, a QR code.

    Made on first use, one per (MP delivery, kind). The token of a link or QR
    referral is the short shared link (``/s/<token>/``); it reveals nothing of
    the MP and leads only to the public web version.
    """

    class Kind(models.TextChoices):
        FORWARD = "forward", "Forward through Relay"
        LINK = "link", "Shared link"
        QR = "qr", "QR code"

    delivery = models.ForeignKey(
        "newsletter.Delivery", on_delete=models.CASCADE, related_name="referrals"
    )
    kind = models.CharField(max_length=8, choices=Kind)
    token = models.CharField(
        max_length=32, unique=True, default=new_token, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "kind"], name="uniq_referral_per_delivery_kind"
            ),
        ]
        verbose_name = "referral"
        verbose_name_plural = "referrals"

    def __str__(self) -> str:
        return f"{self.kind} of delivery {self.delivery_id}"


class Forward(models.Model):
    """One request of the forward form: up to a few colleagues and an optional note.

    ``request_key`` comes from the form shown to the MP, so a form submitted
    twice makes one forward, never two.
    """

    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="forwards"
    )
    request_key = models.CharField(max_length=64, unique=True)
    # Plain text, at most 500 characters, links removed; sent escaped.
    note = models.TextField(blank=True)
    language = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "forward"
        verbose_name_plural = "forwards"

    def __str__(self) -> str:
        return f"forward {self.pk} of {self.referral}"


class ForwardRecipient(models.Model):
    """One colleague's copy of a forward: mailed at most once, like a Delivery.

    ``email`` is kept only until the copy is handed over (or given up on);
    ``address_key`` (a keyed hash) stays so that the same MP never sends the
    same pack to the same colleague twice and a colleague's opt-out holds.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Being handed to the provider"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        UNCERTAIN = "uncertain", "Uncertain"

    forward = models.ForeignKey(
        Forward, on_delete=models.CASCADE, related_name="recipients"
    )
    # Repeated from the forward for the uniqueness below.
    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="recipients"
    )
    address_key = models.CharField(max_length=64)
    email = models.EmailField(max_length=254, blank=True)
    # A colleague who is in the directory: their language and tracking consent count.
    contact = models.ForeignKey(
        "newsletter.Contact",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    language = models.CharField(max_length=8)
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    reason = models.CharField(max_length=255, blank=True)
    token = models.CharField(
        max_length=32, unique=True, default=new_token, editable=False
    )
    # Whether the copy carries the open pixel (decided when it is sent).
    tracked = models.BooleanField(default=False)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    # When the row was claimed: a claim older than RELAY_SEND_CLAIM_TIMEOUT
    # belongs to a worker that stopped, and the sweeper takes it over.
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    # The first open by a person, and by a machine: no other open is kept.
    opened_at = models.DateTimeField(null=True, blank=True)
    machine_opened_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "address_key"],
                name="uniq_forward_recipient_per_referral",
            ),
        ]
        verbose_name = "forward recipient"
        verbose_name_plural = "forward recipients"

    def __str__(self) -> str:
        return f"recipient {self.pk} of forward {self.forward_id} ({self.status})"


class ForwardOptOut(models.Model):
    """A colleague who asked never to get forwarded copies again, by keyed address hash."""

    address_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "forward opt-out"
        verbose_name_plural = "forward opt-outs"

    def __str__(self) -> str:
        return f"forward opt-out {self.address_key[:12]}…"


class ReferralVisitor(models.Model):
    """One visitor of a shared link or QR code, and how often they came.

    ``visitor_key`` is a keyed hash of a random first-party cookie, so the
    same browser counts once however often it comes back; it is empty when
    no key may be kept (anonymous mode, Global Privacy Control), and then
    the row only counts visits. Machine visitors are kept apart.
    """

    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="visitors"
    )
    visitor_key = models.CharField(max_length=64, blank=True)
    is_machine = models.BooleanField(default=False)
    machine_reason = models.CharField(max_length=32, blank=True)
    visits = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField(db_index=True)
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["referral", "visitor_key", "is_machine"],
                name="uniq_referral_visitor",
            ),
        ]
        verbose_name = "referral visitor"
        verbose_name_plural = "referral visitors"

    def __str__(self) -> str:
        return f"visitor of {self.referral}: {self.visits} visit(s)"


class OpenDevice(models.Model):
    """A device that loaded one delivery's open pixel, by keyed fingerprint.

    The fingerprint is a keyed hash of the user agent and the client's
    network (IPv4 /24, IPv6 /48); the address itself is never stored. More
    human devices than an MP's own suggest a copy forwarded from a mail
    program: an estimate, never part of the confirmed figure.
    """

    delivery = models.ForeignKey(
        "newsletter.Delivery", on_delete=models.CASCADE, related_name="open_devices"
    )
    fingerprint = models.CharField(max_length=64)
    is_machine = models.BooleanField(default=False)
    first_seen = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "fingerprint"], name="uniq_open_device"
            ),
        ]
        verbose_name = "open device"
        verbose_name_plural = "open devices"

    def __str__(self) -> str:
        return f"device of delivery {self.delivery_id}"
