"""The printable briefing of a report-back pack, as a PDF in the pack's language."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation


def briefing_html(page: Any) -> str:
    """Return the briefing's HTML, rendered in the page's language."""
    language = page.locale.language_code
    with translation.override(language):
        return render_to_string(
            "cms/briefing.html",
            {
                "page": page,
                "language": language,
                "event": page.event.localized if page.event else None,
                "web_url": settings.RELAY_BASE_URL + page.get_url(),
            },
        )


def briefing_pdf(page: Any) -> bytes:
    """Return the briefing as PDF bytes (WeasyPrint, fonts from the system)."""
    # Imported here: WeasyPrint loads Pango when imported, which only the
    # processes that make PDFs need.
    from weasyprint import HTML

    return HTML(
        string=briefing_html(page), base_url=settings.RELAY_BASE_URL
    ).write_pdf()
