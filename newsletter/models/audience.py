"""Who can receive mail: contacts, lists, consent, suppression and segments."""

from __future__ import annotations

import hashlib
import unicodedata

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from newsletter.locales import country_choices, language_choices, language_codes

from .tokens import new_token


def address_hash(email: str) -> str:
    """Return the SHA-256 of a normalised address: how suppression knows an address.

    Suppression outlives erasure, so it keeps this hash and never the address.
    """
    normalised = unicodedata.normalize("NFC", email.strip()).lower()
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


class ContactQuerySet(models.QuerySet["Contact"]):
    def active(self) -> ContactQuerySet:
        """Return contacts who may be mailed at all."""
        return self.filter(status=Contact.Status.ACTIVE)

    def subscribed_to(self, mailing_list: MailingList) -> ContactQuerySet:
        """Return contacts with a confirmed subscription to ``mailing_list``."""
        return self.filter(
            subscriptions__mailing_list=mailing_list,
            subscriptions__status=Subscription.Status.SUBSCRIBED,
        )

    def not_suppressed(self) -> ContactQuerySet:
        """Return contacts whose address is on no active suppression."""
        return self.filter(
            ~Exists(
                Suppression.objects.active().filter(
                    address_hash=OuterRef("address_hash")
                )
            )
        )

    def deliverable(self) -> ContactQuerySet:
        """Return contacts who may be mailed: active and not suppressed."""
        return self.active().not_suppressed()

    def deliverable_for(self, mailing_list: MailingList) -> ContactQuerySet:
        """Return the deliverable, subscribed audience of ``mailing_list``."""
        return self.deliverable().subscribed_to(mailing_list)


class Topic(models.Model):
    """A subject contacts follow, such as child trafficking."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A person in the network's directory."""

    class Kind(models.TextChoices):
        MP = "mp", _("Member of a national parliament")
        MEP = "mep", _("Member of the European Parliament")
        PARLIAMENT_STAFF = "parliament_staff", _("Parliament staff")
        NGO = "ngo", _("NGO")
        LAW_ENFORCEMENT = "law_enforcement", _("Law enforcement")
        BUSINESS = "business", _("Business")
        GOVERNMENT = "government", _("Government or international body")
        SECRETARIAT = "secretariat", _("Secretariat")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed from everything")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Complained")
        ERASED = "erased", _("Erased")

    email = models.EmailField(_("email address"), max_length=254)
    address_hash = models.CharField(
        max_length=64, db_index=True, editable=False, default=""
    )
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind, default=Kind.OTHER)
    country = models.CharField(
        _("country"), max_length=2, choices=country_choices, blank=True
    )
    parliament = models.CharField(
        _("parliament"),
        max_length=150,
        blank=True,
        help_text=_("For example: Bundestag, Sejm."),
    )
    chamber = models.CharField(
        _("chamber"),
        max_length=150,
        blank=True,
        help_text=_(
            "For example: Senatul României. Leave empty for single-chamber parliaments."
        ),
    )
    party = models.CharField(_("party"), max_length=150, blank=True)
    committees = models.TextField(_("committees"), blank=True)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    is_focal_point = models.BooleanField(
        _("focal point"),
        default=False,
        help_text=_(
            "This person is their parliament's focal point on human trafficking."
        ),
    )
    listed_as_country_contact = models.BooleanField(
        _("listed as a contact in their country"),
        default=False,
        help_text=_("Agreed to be listed in report-back packs sent to their country."),
    )
    topics = models.ManyToManyField(
        Topic, blank=True, related_name="contacts", verbose_name=_("topics")
    )
    notes = models.TextField(_("notes"), blank=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=8, choices=language_choices, default="en"
    )
    fallback_languages = models.JSONField(
        _("fallback languages"),
        default=list,
        blank=True,
        help_text=_(
            "Language codes to try, in order, when the preferred one is missing."
        ),
    )
    tracking_consent = models.BooleanField(
        _("consents to tracking"),
        default=False,
        help_text=_("Opens and clicks are recorded for this person only with consent."),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status, default=Status.ACTIVE
    )
    preferences_token = models.CharField(
        max_length=32, unique=True, default=new_token, editable=False
    )
    confirmation_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="uniq_contact_email_ci"),
        ]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self) -> str:
        name = self.full_name
        return f"{name} <{self.email}>" if name else self.email

    def save(self, *args: object, **kwargs: object) -> None:
        self.address_hash = address_hash(self.email)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "email" in update_fields:
            kwargs["update_fields"] = {*update_fields, "address_hash"}  # type: ignore[misc]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def clean(self) -> None:
        self.email = self.email.strip()
        known = set(language_codes())
        if not isinstance(self.fallback_languages, list) or not all(
            isinstance(code, str) for code in self.fallback_languages
        ):
            raise ValidationError(
                {"fallback_languages": gettext("Give a list of language codes.")}
            )
        unknown = [code for code in self.fallback_languages if code not in known]
        if unknown:
            raise ValidationError(
                {
                    "fallback_languages": gettext("Unknown language codes: %(codes)s")
                    % {"codes": ", ".join(unknown)}
                }
            )

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def languages(self) -> list[str]:
        """Return the reader's languages in order of preference, without repeats."""
        return list(dict.fromkeys([self.preferred_language, *self.fallback_languages]))


class MailingList(models.Model):
    """A list people subscribe to; campaigns are sent to lists."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_public = models.BooleanField(
        _("public"),
        default=False,
        help_text=_(
            "Anyone can subscribe to a public list with the form on the website."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailing list")
        verbose_name_plural = _("mailing lists")

    def __str__(self) -> str:
        return self.name


class Subscription(models.Model):
    """A contact's membership of a mailing list."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        SUBSCRIBED = "subscribed", _("Subscribed")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")

    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="subscriptions"
    )
    mailing_list = models.ForeignKey(
        MailingList, on_delete=models.CASCADE, related_name="subscriptions"
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    # Single-use: set when a confirmation mail is sent, cleared when used.
    confirm_token = models.CharField(
        max_length=32, blank=True, db_index=True, editable=False
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "mailing_list"],
                name="uniq_subscription_contact_list",
            ),
        ]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")

    def __str__(self) -> str:
        return f"{self.contact} → {self.mailing_list} ({self.status})"


class ConsentRecord(models.Model):
    """Append-only proof of one consent change: what, when, how, and the words shown.

    Rows are never edited or deleted; the current state lives on Contact and
    Subscription and is derived from these events by the consent services.
    """

    class Action(models.TextChoices):
        SUBSCRIBE_REQUESTED = "subscribe_requested", _("Asked to subscribe")
        SUBSCRIBED = "subscribed", _("Subscribed")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed from a list")
        UNSUBSCRIBED_ALL = "unsubscribed_all", _("Unsubscribed from everything")
        TRACKING_GRANTED = "tracking_granted", _("Agreed to tracking")
        TRACKING_WITHDRAWN = "tracking_withdrawn", _("Withdrew agreement to tracking")

    class Source(models.TextChoices):
        FORM = "form", _("Subscribe form")
        CONFIRMATION = "confirmation", _("Confirmation link")
        IMPORT = "import", _("Import")
        ADMIN = "admin", _("Admin")
        ONE_CLICK = "one_click", _("One-click unsubscribe")
        UNSUBSCRIBE_PAGE = "unsubscribe_page", _("Unsubscribe page")
        PREFERENCES = "preferences", _("Preference centre")
        PROVIDER = "provider", _("Provider event")

    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, related_name="consent_records"
    )
    mailing_list = models.ForeignKey(
        MailingList, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=24, choices=Action)
    source = models.CharField(max_length=24, choices=Source)
    wording = models.TextField(
        blank=True, help_text=_("The text the person was shown.")
    )
    language = models.CharField(max_length=8, blank=True)
    client_hash = models.CharField(
        max_length=64, blank=True, help_text=_("Keyed hash of the client address.")
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")

    def __str__(self) -> str:
        return f"{self.action} ({self.source}) for contact {self.contact_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("Consent records are append-only.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class SuppressionQuerySet(models.QuerySet["Suppression"]):
    def active(self) -> SuppressionQuerySet:
        return self.filter(lifted_at__isnull=True)


class Suppression(models.Model):
    """An address that is never mailed again, until its owner opts in anew."""

    class Reason(models.TextChoices):
        HARD_BOUNCE = "hard_bounce", _("Hard bounce")
        COMPLAINT = "complaint", _("Complaint")
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed from everything")
        MANUAL = "manual", _("Added by the secretariat")

    address_hash = models.CharField(max_length=64, editable=False)
    reason = models.CharField(max_length=16, choices=Reason)
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)

    objects = SuppressionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["address_hash"],
                condition=models.Q(lifted_at__isnull=True),
                name="uniq_active_suppression",
            ),
        ]
        verbose_name = _("suppression")
        verbose_name_plural = _("suppressions")

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({self.address_hash[:12]}…)"


class Segment(models.Model):
    """A saved filter over the directory; its rules are validated, never raw SQL."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    rules = models.JSONField(_("rules"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.name
