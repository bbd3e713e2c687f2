"""Where each issue and pack stands in each language."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet
from wagtail.models import Page
from wagtail_localize.models import Translation, TranslationSource

MISSING = "missing"
IN_PROGRESS = "in_progress"
COMPLETE = "complete"
PUBLISHED = "published"
STALE = "stale"


@dataclass(frozen=True)
class LanguageState:
    language: str
    status: str
    percent: int
    page_id: int | None


@dataclass(frozen=True)
class PageStatus:
    page: Page
    languages: list[LanguageState]


def translation_languages() -> list[str]:
    """Return every language but the source, in settings order."""
    return [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def page_translation_status(page: Page) -> list[LanguageState]:
    """Return the state of ``page`` (a source page) in every other language.

    missing: no translation exists; in progress: some segments translated;
    complete: all translated, not yet published; published; stale: published
    before the source was last published again.
    """
    translated = {
        p.locale.language_code: p
        for p in page.get_translations()
        .select_related("locale")
        .filter(alias_of__isnull=True)
    }
    source = TranslationSource.objects.get_for_instance_or_none(page)
    jobs = {
        t.target_locale.language_code: t
        for t in (
            Translation.objects.filter(source=source).select_related("target_locale")
            if source
            else []
        )
    }
    states = []
    for language in translation_languages():
        target = translated.get(language)
        job = jobs.get(language)
        total, done = job.get_progress() if job else (0, 0)
        percent = round(100 * done / total) if total else 0
        if target is None:
            status = MISSING
        elif target.live:
            behind = (
                page.last_published_at is not None
                and target.last_published_at is not None
                and page.last_published_at > target.last_published_at
            )
            status = STALE if behind else PUBLISHED
            percent = 100 if not job else percent
        elif job and total and done == total:
            status = COMPLETE
        else:
            status = IN_PROGRESS
        states.append(
            LanguageState(
                language=language,
                status=status,
                percent=percent,
                page_id=target.pk if target else None,
            )
        )
    return states


def translation_status(pages: QuerySet[Page]) -> list[PageStatus]:
    """Return the translation state of each page in ``pages``."""
    return [
        PageStatus(page=page, languages=page_translation_status(page)) for page in pages
    ]
