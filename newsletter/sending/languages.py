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
