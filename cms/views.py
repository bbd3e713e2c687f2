"""Admin views of the content side."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.models import Locale, Page

from cms.models import NewsletterIssuePage, ReportBackPackPage
from cms.presend import Finding, source_findings, variant_findings
from cms.translation_status import translation_languages, translation_status
from newsletter.locales import country_choices
from newsletter.sending.mailable import Mailable
from newsletter.sending.render import RenderedVariant, render_variant
from newsletter.sending.testsend import preview_html, variant_test_send


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


class PreviewForm(forms.Form):
    language = forms.MultipleChoiceField(
        label=gettext_lazy("Languages"),
        choices=settings.LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    country = forms.ChoiceField(label=gettext_lazy("Reader's country"), required=False)
    width = forms.TypedChoiceField(
        label=gettext_lazy("Width"),
        choices=[(600, "600 px"), (320, "320 px")],
        coerce=int,
        required=False,
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["country"].choices = [("", "—"), *country_choices()]


class TestSendForm(forms.Form):
    to = forms.EmailField(label=gettext_lazy("Send a test to"))


@dataclass(frozen=True)
class PreviewPane:
    language: str
    variant: RenderedVariant | None
    html: str
    findings: list[Finding]


def _source_of(page: Page) -> Page:
    source = page.get_translation_or_none(
        Locale.objects.get(language_code=settings.LANGUAGE_CODE)
    )
    return (source or page).specific


def _panes(source: Page, languages: list[str], country: str) -> list[PreviewPane]:
    findings = source_findings(
        source, [lang for lang in languages if lang != settings.LANGUAGE_CODE]
    )
    panes = []
    for language in languages:
        own = [f for f in findings if f.language == language]
        translated = source.get_translation_or_none(
            Locale.objects.get(language_code=language)
        )
        if translated is None:
            panes.append(
                PreviewPane(language=language, variant=None, html="", findings=own)
            )
            continue
        # Preview the latest draft: what will go out once it is published.
        draft = translated.specific.get_latest_revision_as_object()
        variant = render_variant(draft, language=language, country=country)
        panes.append(
            PreviewPane(
                language=language,
                variant=variant,
                html=preview_html(variant),
                findings=own + variant_findings(draft, variant),
            )
        )
    return panes


def mail_preview_view(request: HttpRequest, page_id: int) -> HttpResponse:
    """Show a page as the mail readers in chosen languages and a country would get."""
    page = get_object_or_404(Page, pk=page_id).specific
    if not isinstance(page, Mailable):
        raise PermissionDenied
    source = _source_of(page)
    form = PreviewForm(request.GET or None)
    languages = [
        settings.LANGUAGE_CODE,
        *[p.locale.language_code for p in source.get_translations()],
    ]
    country, width = "", 600
    if form.is_valid():
        languages = form.cleaned_data["language"] or languages
        country = form.cleaned_data["country"] or ""
        width = form.cleaned_data["width"] or 600
    panes = _panes(source, languages, country)
    send_form = TestSendForm(request.POST or None)
    if request.method == "POST":
        if not source.permissions_for_user(request.user).can_edit():
            raise PermissionDenied
        if send_form.is_valid():
            sent = [
                pane.language
                for pane in panes
                if pane.variant
                and variant_test_send(
                    variant=pane.variant, to=send_form.cleaned_data["to"]
                )
            ]
            messages.success(
                request,
                _("Test sent to %(address)s in: %(languages)s.")
                % {
                    "address": send_form.cleaned_data["to"],
                    "languages": ", ".join(sent),
                },
            )
            return redirect(request.get_full_path())
    return render(
        request,
        "cms/admin/mail_preview.html",
        {
            "page": source,
            "form": form,
            "send_form": send_form,
            "panes": panes,
            "width": width,
            "country": country,
        },
    )
