"""The sitemap: every published page in every language, with its alternates."""

from __future__ import annotations

from typing import Any

from wagtail.contrib.sitemaps import Sitemap
from wagtail.models import Page


class TranslatedSitemap(Sitemap):
    """Wagtail's sitemap covers one tree; each language here has its own tree."""

    def items(self) -> Any:
        site = self.get_wagtail_site()
        roots = site.root_page.get_translations(inclusive=True)
        trees = Page.objects.none()
        for root in roots:
            trees |= Page.objects.descendant_of(root, inclusive=True)
        return trees.live().public().order_by("path").defer_streamfields().specific()
