"""Page types. Issues implement the sending engine's mailable protocol."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page

from cms.blocks import NewsletterBodyBlock


class HomePage(Page):
    intro = RichTextField(blank=True, features=["bold", "italic", "link"])

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    subpage_types = ["cms.NewsletterIssuePage"]
    max_count_per_parent = 1

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        context["issues"] = list(
            NewsletterIssuePage.objects.live()
            .child_of(self)
            .order_by("-first_published_at")
        )
        return context


class NewsletterIssuePage(Page):
    """A newsletter issue: a web page and, through a campaign, a mail."""

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
    body = StreamField(NewsletterBodyBlock(), use_json_field=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("subject"),
        FieldPanel("preheader"),
        FieldPanel("body"),
    ]
    parent_page_types = ["cms.HomePage"]
    subpage_types: list[str] = []

    # The mailable protocol (newsletter.sending.mailable.Mailable).
    email_template = "emails/newsletter_issue"

    class Meta:
        verbose_name = _("newsletter issue")

    def get_email_subject(self) -> str:
        return self.subject

    def get_email_context(self, *, language: str, country: str) -> dict[str, Any]:
        return {"page": self, "preheader": self.preheader, "body": self.body}
