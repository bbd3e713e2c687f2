"""Dates and numbers as a reader in a given language expects them (Babel).

This module, and the template filters built on it, are the only places that
call Babel's formatters. The locale always comes from an explicit language,
never from the process.
"""

from __future__ import annotations

from datetime import date, datetime

from babel import dates, numbers
from django.utils import translation


def babel_locale(language: str) -> str:
    """Return Babel's locale name for a Django language code."""
    return translation.to_locale(language)


def format_date(value: date | datetime, *, language: str, style: str = "long") -> str:
    """Return ``value`` as a date in ``language`` (style: short, medium, long, full)."""
    if isinstance(value, datetime):
        value = value.date()
    return dates.format_date(value, format=style, locale=babel_locale(language))


def format_month(value: date | datetime, *, language: str) -> str:
    """Return the month and year of ``value`` in ``language``, e.g. "Nov 2026"."""
    return dates.format_skeleton("yMMM", value, locale=babel_locale(language))


def format_date_range(start: date, end: date, *, language: str) -> str:
    """Return the range from ``start`` to ``end``, written as ``language`` writes ranges."""
    return dates.format_interval(
        start, end, skeleton="yMMMd", locale=babel_locale(language)
    )


def format_number(value: int | float, *, language: str) -> str:
    """Return ``value`` with the digit grouping and decimal sign of ``language``."""
    return numbers.format_decimal(value, locale=babel_locale(language))
