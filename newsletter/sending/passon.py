"""The pass-on links in an MP's mail: forward to colleagues, and their own web version.

Only members of parliament get them (the readers who pass packs on, as direct
reach counts them); everyone else gets empty fields. The links carry the
reader's delivery token, so they are merge fields, filled in per reader by
plain substitution: the snippet is rendered once per language with a stand-in
token.
"""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import translation

from newsletter.models import Delivery
from newsletter.tracking.referrals import PASSING_ON_KINDS

from .render import html_to_text

_SLOT = "RelayPassOnSlot0"
EMPTY = {"pass_on_html": "", "pass_on_text": ""}


def forward_url(token: str, *, language: str) -> str:
    """Return the forward form of an MP's delivery token, in ``language``."""
    with translation.override(language):
        return settings.RELAY_BASE_URL + reverse("public:forward", args=[token])


def read_url(token: str, *, language: str) -> str:
    """Return an MP's own web version (with the pass-on tools), in ``language``."""
    with translation.override(language):
        return settings.RELAY_BASE_URL + reverse("public:read", args=[token])


@functools.lru_cache(maxsize=64)
def _snippets(language: str, *key: Any) -> tuple[str, str]:
    """Return the HTML and text pass-on snippets of ``language`` with the stand-in token.

    ``key`` holds what else the URLs depend on (base URL, URLconf, script prefix).
    """
    with translation.override(language):
        markup = render_to_string(
            "emails/includes/pass_on.html",
            {
                "forward_url": forward_url(_SLOT, language=language),
                "read_url": read_url(_SLOT, language=language),
            },
        )
    return markup.strip(), html_to_text(markup).strip()


def pass_on_fields(delivery: Delivery, *, language: str) -> dict[str, str]:
    """Return one reader's pass-on fields: the links for an MP, empty for anyone else."""
    if delivery.contact.kind not in PASSING_ON_KINDS:
        return EMPTY
    markup, text = _snippets(
        language,
        settings.RELAY_BASE_URL,
        get_urlconf() or settings.ROOT_URLCONF,
        get_script_prefix(),
    )
    return {
        "pass_on_html": markup.replace(_SLOT, delivery.token),
        "pass_on_text": text.replace(_SLOT, delivery.token),
    }
