"""Who can receive mail: contacts, mailing lists and subscriptions."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from newsletter.locales import country_choices, language_choices, language_codes


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

    def deliverable_for(self, mailing_list: MailingList) -> ContactQuerySet:
        """Return the active, subscribed audience of ``mailing_list``."""
        return self.active().subscribed_to(mailing_list)


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
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind, default=Kind.OTHER)
    country = models.CharField(
        _("country"), max_length=2, choices=country_choices, blank=True
    )
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
