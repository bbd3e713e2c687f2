"""Page types. Issues and report-back packs implement the mailable protocol."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail_localize.fields import SynchronizedField

from cms.blocks import FactsBlock, NewsletterBodyBlock, PointBlock
from cms.briefing import briefing_pdf
from newsletter.audience.directory import country_contacts
from newsletter.locales import country_choices, country_name
from newsletter.models import Referral
from newsletter.tracking.referrals import shared_referral_for_token, shared_url


class AlternatesMixin:
    """Link each page to its published translations (hreflang, sitemap)."""

    def language_alternates(
        self: Any, request: HttpRequest | None = None
    ) -> list[dict[str, str]]:
        """Return {"lang_code", "location"} for this page and each live translation."""
        pages = (
            self.get_translations(inclusive=True)
            .live()
            .public()
            .select_related("locale")
        )
        return [
            {
                "lang_code": page.locale.language_code,
                "location": page.get_full_url(request),
            }
            for page in pages.order_by("locale__language_code")
        ]

    def get_sitemap_urls(
        self: Any, request: HttpRequest | None = None
    ) -> list[dict[str, Any]]:
        urls = super().get_sitemap_urls(request)  # type: ignore[misc]
        alternates = self.language_alternates(request)
        for url in urls:
            url["alternates"] = alternates
        return urls


class HomePage(AlternatesMixin, Page):
    intro = RichTextField(blank=True, features=["bold", "italic", "link"])

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    subpage_types = [
        "cms.NewsletterIssuePage",
        "cms.ReportBackPackPage",
        "cms.EventPage",
        "cms.ArchivePage",
    ]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        context["issues"] = mailable_pages(self)[:10]
        context["archive"] = ArchivePage.objects.live().child_of(self).first()
        return context


def mailable_pages(home: Page) -> list[Page]:
    """Return the live issues and packs under ``home``, newest first."""
    pages = (
        Page.objects.live()
        .child_of(home)
        .type(NewsletterIssuePage, ReportBackPackPage)
        .specific()
        .order_by("-first_published_at")
    )
    return list(pages)


class ArchivePage(AlternatesMixin, Page):
    """Every issue and report-back pack published in this page's language."""

    intro = RichTextField(blank=True, features=["bold", "italic", "link"])

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types: list[str] = []
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("archive")

    def get_context(self, request: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        context["pages"] = mailable_pages(self.get_parent())
        return context


class EventPage(AlternatesMixin, Page):
    """One of the network's activities: a meeting, a visit, a conference."""

    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, choices=country_choices)
    start_date = models.DateField(_("starts"))
    end_date = models.DateField(_("ends"), null=True, blank=True)
    description = RichTextField(
        _("description"), blank=True, features=["bold", "italic", "link", "ul"]
    )
    topics = ParentalManyToManyField(
        "newsletter.Topic", blank=True, verbose_name=_("topics")
    )
    participants = ParentalManyToManyField(
        "newsletter.Contact",
        blank=True,
        related_name="events",
        verbose_name=_("participants"),
    )

    content_panels = [
        *Page.content_panels,
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("city"), FieldPanel("country")]),
                FieldRowPanel([FieldPanel("start_date"), FieldPanel("end_date")]),
            ],
            heading=_("Where and when"),
        ),
        FieldPanel("description"),
        FieldPanel("topics"),
        FieldPanel("participants"),
    ]
    override_translatable_fields = [
        SynchronizedField("country", overridable=False),
        SynchronizedField("start_date", overridable=False),
        SynchronizedField("end_date", overridable=False),
        SynchronizedField("topics", overridable=False),
        SynchronizedField("participants", overridable=False),
    ]
    parent_page_types = ["cms.HomePage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("event")

    @property
    def country_label(self) -> str:
        return country_name(self.country, language=self.locale.language_code)


class MailablePage(AlternatesMixin, Page):
    """Fields every page that can be sent as a mail has."""

    subject = models.CharField(
        _("subject"),
        max_length=150,
        help_text=_("The subject line of the mail. Keep it short enough for phones."),
    )
    preheader = models.CharField(
        _("preheader"),
        max_length=200,
        blank=True,
        help_text=_("The line mail programs show after the subject."),
    )

    parent_page_types = ["cms.HomePage"]
    subpage_types: list[str] = []

    class Meta:
        abstract = True

    # The mailable protocol (newsletter.sending.mailable.Mailable).
    email_template = ""

    def get_email_subject(self) -> str:
        return self.subject

    def get_email_context(self, *, language: str, country: str) -> dict[str, Any]:
        return {"page": self, "preheader": self.preheader}


class NewsletterIssuePage(MailablePage):
    """A newsletter issue: a web page and, through a campaign, a mail."""

    body = StreamField(NewsletterBodyBlock(), use_json_field=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("subject"),
        FieldPanel("preheader"),
        FieldPanel("body"),
    ]
    email_template = "emails/newsletter_issue"

    class Meta:
        verbose_name = _("newsletter issue")

    def get_email_context(self, *, language: str, country: str) -> dict[str, Any]:
        return {
            **super().get_email_context(language=language, country=country),
            "body": self.body,
        }


class ReportBackPackPage(RoutablePageMixin, MailablePage):
    """What an MP needs to report back to their parliament after an event."""

    event = models.ForeignKey(
        "cms.EventPage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("event"),
    )
    summary = RichTextField(_("summary"), features=["bold", "italic", "link", "ul"])
    key_messages = StreamField(
        PointBlock(), blank=True, use_json_field=True, verbose_name=_("key messages")
    )
    recommendations = StreamField(
        PointBlock(),
        blank=True,
        use_json_field=True,
        verbose_name=_("recommendations for parliamentarians"),
    )
    questions = StreamField(
        PointBlock(),
        blank=True,
        use_json_field=True,
        verbose_name=_("suggested parliamentary questions or motions"),
    )
    facts = StreamField(
        FactsBlock(),
        blank=True,
        use_json_field=True,
        verbose_name=_("facts and figures"),
    )
    pass_on = RichTextField(
        _("how to pass it on"), blank=True, features=["bold", "italic", "link", "ul"]
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("subject"),
        FieldPanel("preheader"),
        FieldPanel("event"),
        FieldPanel("summary"),
        FieldPanel("key_messages"),
        FieldPanel("recommendations"),
        FieldPanel("questions"),
        FieldPanel("facts"),
        FieldPanel("pass_on"),
    ]
    email_template = "emails/report_back_pack"

    class Meta:
        verbose_name = _("report-back pack")

    def get_email_context(self, *, language: str, country: str) -> dict[str, Any]:
        return {
            **super().get_email_context(language=language, country=country),
            "event": self.event.localized if self.event else None,
            "country": country,
            "country_label": country_name(country, language=language)
            if country
            else "",
            "country_contacts": country_contacts(country=country) if country else [],
        }

    def get_context(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        # Set by newsletter.views.read on an MP's own web version only.
        context["pass_on"] = getattr(request, "relay_pass_on", None)
        return context

    @path("briefing/", name="briefing")
    def briefing_pdf(self, request: HttpRequest) -> HttpResponse:
        """Serve the printable briefing of this pack, in this page's language."""
        response = HttpResponse(briefing_pdf(self), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{self.slug}.pdf"'
        return response

    @path("briefing/<str:token>/", name="briefing_shared")
    def briefing_shared_pdf(self, request: HttpRequest, token: str) -> HttpResponse:
        """Serve the briefing with the QR code of an MP's QR link ``token`` to this pack."""
        referral = shared_referral_for_token(token)
        if (
            referral is None
            or referral.kind != Referral.Kind.QR
            or referral.delivery.campaign.page.translation_key != self.translation_key
        ):
            raise Http404
        response = HttpResponse(
            briefing_pdf(self, share_url=shared_url(referral)),
            content_type="application/pdf",
        )
        response["Content-Disposition"] = f'inline; filename="{self.slug}.pdf"'
        response["X-Robots-Tag"] = "noindex"
        return response
