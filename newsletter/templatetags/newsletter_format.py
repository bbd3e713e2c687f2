"""Template filters that format for the active language, through newsletter.formatting."""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.conf import settings
from django.utils import translation

from newsletter import formatting
from newsletter.locales import country_name, language_name

register = template.Library()


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


@register.filter
def format_date(value: date | datetime | None, style: str = "long") -> str:
    """Format a date in the active language: ``{{ value|format_date:"long" }}``."""
    if not isinstance(value, date):  # datetime is a date too
        return ""
    return formatting.format_date(value, language=_language(), style=style)


@register.filter
def format_month(value: date | datetime | None) -> str:
    """Format a month and year in the active language: ``{{ value|format_month }}``."""
    if not isinstance(value, date):
        return ""
    return formatting.format_month(value, language=_language())


@register.filter
def format_date_range(start: date, end: date) -> str:
    """Format a range of dates in the active language: ``{{ start|format_date_range:end }}``."""
    return formatting.format_date_range(start, end, language=_language())


@register.filter
def format_number(value: int | float | None) -> str:
    """Format a number in the active language."""
    if value is None:
        return ""
    return formatting.format_number(value, language=_language())


@register.filter
def country_label(code: str | None) -> str:
    """Name an ISO country code in the active language: ``{{ "DE"|country_label }}``."""
    return country_name(code, language=_language()) if code else ""


@register.filter
def language_label(code: str | None) -> str:
    """Name a language code in the active language: ``{{ "de"|language_label }}``."""
    return language_name(code, language=_language()) if code else ""
