"""Translating pages in code, through wagtail-localize's PO round trip."""

from __future__ import annotations

from collections.abc import Mapping

from wagtail.models import Locale, Page
from wagtail_localize.models import Translation, TranslationSource


class MissingTranslation(ValueError):
    """A segment of the source page has no translated text."""


def page_translate(
    page: Page, *, language: str, texts: Mapping[str, str], publish: bool = True
) -> Page:
    """Translate ``page`` into ``language`` from source text → translated text.

    Every segment of the page must have a text, exactly as a translator's PO
    file would provide it; the translated page is published unless asked not to.
    """
    locale = Locale.objects.get(language_code=language)
    source, _ = TranslationSource.get_or_create_from_instance(page)
    translation, _ = Translation.objects.get_or_create(
        source=source, target_locale=locale
    )
    po = translation.export_po()
    for entry in po:
        if entry.msgid not in texts:
            raise MissingTranslation(
                f"No {language} text for {entry.msgctxt}: {entry.msgid!r}"
            )
        entry.msgstr = texts[entry.msgid]
    translation.import_po(po, tool_name="Relay")
    translation.save_target(publish=publish)
    return page.get_translation(locale)
