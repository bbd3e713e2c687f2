from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()


@register.simple_tag(takes_context=True)
def hreflang_links(context: dict[str, Any], page: Any) -> str:
    """Render <link rel="alternate" hreflang> for each published translation of ``page``."""
    if not hasattr(page, "language_alternates"):
        return ""
    alternates = page.language_alternates(context.get("request"))
    links = format_html_join(
        "\n",
        '<link rel="alternate" hreflang="{}" href="{}">',
        ((a["lang_code"], a["location"]) for a in alternates),
    )
    source = next((a for a in alternates if a["lang_code"] == "en"), None)
    default = (
        format_html(
            '\n<link rel="alternate" hreflang="x-default" href="{}">',
            source["location"],
        )
        if source
        else ""
    )
    return links + default
