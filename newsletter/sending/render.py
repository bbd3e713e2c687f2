"""Rendering a mailable page once per variant, and personalising it per reader.

A variant is one (campaign, language, country): it is rendered through the
Django template engine once. Per-reader parts (the open pixel, the
unsubscribe and preference links, and each tracked link) are merge fields,
``{{relay:<name>}}`` markers filled in by plain string substitution, so that
personalising costs next to nothing per reader.

For a campaign, the HTML's http(s) links go into the campaign's link map and
become ``{{relay:link_<id>}}`` fields (``variant_track_links``). The text part
keeps the original URLs for everyone: the rewrite leaves it alone, so a reader
who copies a link from it copies the real one, and clicks are counted from the
HTML part only.
"""

from __future__ import annotations

import dataclasses
import html
import re
from dataclasses import dataclass
from typing import Any

import css_inline
import html2text
from babel import Locale
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from wagtail.models import Page

from newsletter.tracking.links import links_rewrite

from .mailable import Mailable

MERGE_FIELD = re.compile(r"\{\{relay:([a-z0-9_]+)\}\}")
_PREHEADER = re.compile(r"<!--preheader-->.*?<!--/preheader-->", re.DOTALL)
_RELATIVE_URL = re.compile(r"""(\b(?:href|src)=["'])/(?!/)""")


def merge_field(name: str) -> str:
    """Return the marker that ``personalise`` replaces with the reader's ``name`` value."""
    return "{{relay:" + name + "}}"


@dataclass(frozen=True)
class RenderedVariant:
    """A mail rendered for one language and country, not yet personalised."""

    language: str
    subject: str
    html: str
    text: str
    web_url: str
    # The tracked links of ``html``: (link id, original URL) pairs.
    links: tuple[tuple[int, str], ...] = ()


def text_direction(language: str) -> str:
    """Return ``rtl`` or ``ltr`` for ``language``, from Babel's locale data."""
    order = Locale.parse(translation.to_locale(language)).character_order
    return "rtl" if order == "right-to-left" else "ltr"


def absolute_url(path: str) -> str:
    """Return ``path`` (absolute or site-relative) as an absolute URL on this site."""
    if path.startswith(("http://", "https://")):
        return path
    return settings.RELAY_BASE_URL + path


def html_to_text(markup: str) -> str:
    """Return the plain-text alternative of an HTML mail."""
    converter = html2text.HTML2Text(bodywidth=0)
    converter.ignore_images = True
    converter.ignore_tables = True
    return converter.handle(_PREHEADER.sub("", markup)).strip() + "\n"


def render_variant(
    page: Page,
    *,
    language: str,
    country: str = "",
    extra: dict[str, Any] | None = None,
) -> RenderedVariant:
    """Render ``page`` (already in ``language``) as a mail for readers in ``country``.

    ``extra`` adds to the template context (a forwarded copy's sender and note).
    """
    if not isinstance(page, Mailable):
        raise TypeError(
            f"{type(page).__name__} does not implement the mailable protocol"
        )
    web_url = absolute_url(page.get_url())
    with translation.override(language):
        context: dict[str, Any] = {
            "language": language,
            "text_direction": text_direction(language),
            "subject": page.get_email_subject(),
            "web_url": web_url,
            "issue_date": page.first_published_at or timezone.now(),
            "merge": {
                "pixel": merge_field("pixel_html"),
                "preferences_url": merge_field("preferences_url"),
                "unsubscribe_url": merge_field("unsubscribe_url"),
                "pass_on": merge_field("pass_on_html"),
            },
            **page.get_email_context(language=language, country=country),
            **(extra or {}),
        }
        markup = render_to_string(f"{page.email_template}/body.html", context)
    markup = _RELATIVE_URL.sub(
        lambda m: m.group(1) + settings.RELAY_BASE_URL + "/", markup
    )
    markup = css_inline.inline(markup)
    return RenderedVariant(
        language=language,
        subject=" ".join(context["subject"].split()),
        html=markup,
        # The text part gets the pass-on links as text, not as markup, and no
        # pixel (an <img> tag in plain text is only noise).
        text=html_to_text(markup)
        .replace(merge_field("pass_on_html"), merge_field("pass_on_text"))
        .replace(merge_field("pixel_html"), ""),
        web_url=web_url,
    )


def variant_track_links(
    variant: RenderedVariant, *, campaign_id: int
) -> RenderedVariant:
    """Return ``variant`` with its HTML links in the campaign's link map, as merge fields.

    The text part is left as rendered, with the original URLs.
    """
    if variant.links:
        return variant
    markup, links = links_rewrite(
        variant.html, campaign_id=campaign_id, web_url=variant.web_url
    )
    return dataclasses.replace(variant, html=markup, links=tuple(sorted(links.items())))


def personalise(template: str, fields: dict[str, str], *, escape: bool) -> str:
    """Return ``template`` with every merge field replaced by the reader's value.

    Unknown fields become empty. With ``escape``, values are HTML-escaped unless
    they are marked as markup by a ``_html`` suffix in their name.
    """

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        raw = fields.get(name, "")
        return html.escape(raw) if escape and not name.endswith("_html") else raw

    return MERGE_FIELD.sub(value, template)
