"""The printable briefing of a report-back pack, as a PDF in the pack's language.

Its share box holds a QR code: of the pack's public web address, or, for the
briefing an MP prints from their own web version, of their QR shared link
(so that readers who scan it are counted for that MP, as QR visitors).
"""

from __future__ import annotations

import base64
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation


def qr_svg_data_uri(url: str) -> str:
    """Return a QR code of ``url`` as an SVG data URI (vector: sharp at any print size)."""
    image = qrcode.make(
        url,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=0,
    )
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


def briefing_html(page: Any, *, share_url: str | None = None) -> str:
    """Return the briefing's HTML, rendered in the page's language.

    ``share_url``: the MP's QR shared link; without it, the public address.
    """
    language = page.locale.language_code
    web_url = settings.RELAY_BASE_URL + page.get_url()
    url = share_url or web_url
    with translation.override(language):
        return render_to_string(
            "cms/briefing.html",
            {
                "page": page,
                "language": language,
                "event": page.event.localized if page.event else None,
                "web_url": url,
                "qr": qr_svg_data_uri(url),
            },
        )


def briefing_pdf(page: Any, *, share_url: str | None = None) -> bytes:
    """Return the briefing as PDF bytes (WeasyPrint, fonts from the system)."""
    # Imported here: WeasyPrint loads Pango when imported, which only the
    # processes that make PDFs need.
    from weasyprint import HTML

    return HTML(
        string=briefing_html(page, share_url=share_url),
        base_url=settings.RELAY_BASE_URL,
    ).write_pdf()
