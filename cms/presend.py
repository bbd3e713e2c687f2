"""Checks to run on an issue or pack, per language, before it is sent."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail_localize.models import Translation, TranslationSource

from cms.translation_status import MISSING, STALE, page_translation_status
from newsletter.sending.render import RenderedVariant

# Phones show about this many characters of a subject line.
MOBILE_SUBJECT_LENGTH = 60

_PAGE_LINK = re.compile(r'<a\b[^>]*?\blinktype=\\?"page\\?"[^>]*?\bid=\\?"(\d+)')
_IMG = re.compile(r"<img\b[^>]*>", re.I)
_ALT = re.compile(r'\balt="([^"]*)"', re.I)


@dataclass(frozen=True)
class Finding:
    language: str
    level: str  # "error" or "warning"
    message: str


def source_findings(source: Page, languages: list[str]) -> list[Finding]:
    """Return translation problems of ``source`` in ``languages`` (missing, stale, unfinished)."""
    states = {state.language: state for state in page_translation_status(source)}
    findings = []
    job_progress = _progress(source)
    for language in languages:
        state = states.get(language)
        if state is None:
            continue
        if state.status == MISSING:
            findings.append(
                Finding(
                    language, "error", _("There is no translation in this language.")
                )
            )
        elif state.status == STALE:
            findings.append(
                Finding(
                    language,
                    "warning",
                    _("The source changed after this translation was published."),
                )
            )
        total, done = job_progress.get(language, (0, 0))
        if total and done < total:
            findings.append(
                Finding(
                    language,
                    "warning",
                    _("%(count)d of %(total)d texts are not translated yet.")
                    % {"count": total - done, "total": total},
                )
            )
    return findings


def variant_findings(page: Page, variant: RenderedVariant) -> list[Finding]:
    """Return problems of one rendered language: links, images, subject length."""
    language = variant.language
    findings = []
    linked = {int(pk) for pk in _PAGE_LINK.findall(_raw_content(page))}
    if linked:
        live = set(
            Page.objects.filter(pk__in=linked).live().values_list("pk", flat=True)
        )
        for pk in sorted(linked - live):
            findings.append(
                Finding(
                    language,
                    "error",
                    _("A link points to a page that is not published (id %(id)s).")
                    % {"id": pk},
                )
            )
    for tag in _IMG.findall(variant.html):
        alt = _ALT.search(tag)
        if (alt is None or not alt.group(1).strip()) and 'width="1"' not in tag:
            findings.append(
                Finding(language, "error", _("An image has no alternative text."))
            )
    if len(variant.subject) > MOBILE_SUBJECT_LENGTH:
        findings.append(
            Finding(
                language,
                "warning",
                _("The subject has %(length)d characters; phones show about %(limit)d.")
                % {"length": len(variant.subject), "limit": MOBILE_SUBJECT_LENGTH},
            )
        )
    return findings


def _raw_content(page: Page) -> str:
    """Return the page's stored rich text and StreamField data (links as stored)."""
    parts = []
    for field in page._meta.get_fields():
        if isinstance(field, StreamField):
            parts.append(
                json.dumps(field.get_prep_value(field.value_from_object(page)))
            )
        elif isinstance(field, RichTextField):
            parts.append(field.value_from_object(page) or "")
    return "\n".join(parts)


def _progress(source: Page) -> dict[str, tuple[int, int]]:
    translation_source = TranslationSource.objects.get_for_instance_or_none(source)
    if translation_source is None:
        return {}
    return {
        job.target_locale.language_code: job.get_progress()
        for job in Translation.objects.filter(source=translation_source).select_related(
            "target_locale"
        )
    }
