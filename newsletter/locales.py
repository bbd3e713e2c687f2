"""The languages and countries Relay knows, as choices for models and forms."""

from __future__ import annotations

from functools import cache

from babel import Locale
from django.conf import settings
from django.utils import translation

# ISO 3166-1 alpha-2 codes of the countries a contact can belong to: Council of
# Europe members and observers cover the network's parliaments.
COUNTRY_CODES = [
    "AD",
    "AL",
    "AM",
    "AT",
    "AZ",
    "BA",
    "BE",
    "BG",
    "CH",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GB",
    "GE",
    "GR",
    "HR",
    "HU",
    "IE",
    "IS",
    "IT",
    "LI",
    "LT",
    "LU",
    "LV",
    "MC",
    "MD",
    "ME",
    "MK",
    "MT",
    "NL",
    "NO",
    "PL",
    "PT",
    "RO",
    "RS",
    "SE",
    "SI",
    "SK",
    "SM",
    "TR",
    "UA",
    "VA",
    "XK",
    "US",
    "CA",
]


def language_codes() -> list[str]:
    """Return the codes of the configured languages, in settings order."""
    return [code for code, _name in settings.LANGUAGES]


def language_choices() -> list[tuple[str, str]]:
    """Return (code, native name) pairs for every configured language."""
    return list(settings.LANGUAGES)


@cache
def _territories(language: str) -> dict[str, str]:
    return dict(Locale.parse(translation.to_locale(language)).territories)


def country_name(code: str, *, language: str | None = None) -> str:
    """Return the name of a country in ``language`` (default: the active one)."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    names = _territories(language)
    return names.get(code) or _territories("en").get(code, code)


@cache
def _languages(language: str) -> dict[str, str]:
    return dict(Locale.parse(translation.to_locale(language)).languages)


def language_name(code: str, *, language: str | None = None) -> str:
    """Return the name of the language ``code`` in ``language`` (default: the active one)."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    return _languages(language).get(code) or _languages("en").get(code, code)


def country_choices() -> list[tuple[str, str]]:
    """Return (code, name) pairs for every country, named in English for storage."""
    return sorted(
        ((code, country_name(code, language="en")) for code in COUNTRY_CODES),
        key=lambda pair: pair[1],
    )
