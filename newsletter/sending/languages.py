"""Choosing the language each reader gets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

from wagtail.models import Page

T = TypeVar("T")


def live_translations(page: Page) -> dict[str, int]:
    """Return {language code: page id} for the page and its published translations."""
    pages = page.get_translations(inclusive=True).live().select_related("locale")
    return {p.locale.language_code: p.pk for p in pages}


def choose_language(
    reader_languages: Iterable[str], available: Mapping[str, T], *, source: str | None
) -> str | None:
    """Return the reader's best available language, else ``source`` (None to skip).

    The reader's languages are tried in order: preferred first, then the
    fallbacks. ``source`` is the language to fall back to when none of them
    exists; pass None when the campaign skips such readers.
    """
    for code in reader_languages:
        if code in available:
            return code
    return source


def translations_missing(page: Page, languages: Iterable[str]) -> list[str]:
    """Return which of ``languages`` the translation of ``page`` is not complete in.

    A language is waited for when a translation into it was started (a page in
    that locale exists, not an alias of the source) and that translation is not
    complete: complete means published (live) and last published no earlier than
    the source, so not behind a later change of the source. Languages nobody
    started translating are not waited for: their readers get the source.
    """
    source_published = page.last_published_at
    missing = set()
    for code, live, published in (
        page.get_translations()
        .filter(alias_of__isnull=True)
        .values_list("locale__language_code", "live", "last_published_at")
    ):
        stale = source_published is not None and (
            published is None or published < source_published
        )
        if not live or stale:
            missing.add(code)
    return sorted(missing & set(languages))
