"""Who may change which pages: translators work only outside the source language."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from wagtail.models import Page

TRANSLATORS = "Translators"
SECRETARIAT = "Secretariat"


def is_translator_only(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Return whether ``user`` translates but does not write source content."""
    if not user.is_authenticated or user.is_superuser:
        return False
    groups = set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
    return TRANSLATORS in groups and SECRETARIAT not in groups


def is_source_page(page: Page) -> bool:
    """Return whether ``page`` is in the source language (the default locale)."""
    return page.locale.language_code == settings.LANGUAGE_CODE
