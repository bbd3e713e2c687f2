"""Admin views of the content side."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from wagtail.models import Page

from cms.models import NewsletterIssuePage, ReportBackPackPage
from cms.translation_status import translation_languages, translation_status


def translation_status_view(request: HttpRequest) -> HttpResponse:
    """Show every issue and pack against every language."""
    pages = (
        Page.objects.type(NewsletterIssuePage, ReportBackPackPage)
        .filter(locale__language_code=settings.LANGUAGE_CODE)
        .specific()
        .order_by("-first_published_at")
    )
    return render(
        request,
        "cms/admin/translation_status.html",
        {"rows": translation_status(pages), "languages": translation_languages()},
    )
