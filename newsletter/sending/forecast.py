"""What a campaign will do before it is sent: its readers by language and country.

Computed with aggregate queries over the audience (one row per combination of
preferred and fallback languages, one per country), never a loop over readers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count
from wagtail.models import Page

from newsletter.audience.selection import audience_contacts
from newsletter.locales import country_name
from newsletter.models import Campaign, MailingList, Segment

from .languages import choose_language, live_translations, translations_missing

PREFERRED = "preferred"
FALLBACK = "fallback"
SOURCE = "source"
SKIPPED = "skipped"


@dataclass(frozen=True)
class Outcome:
    """How many readers of one preferred language get which language, and why."""

    language: str  # "" when skipped
    how: str  # PREFERRED, FALLBACK, SOURCE or SKIPPED
    readers: int


@dataclass(frozen=True)
class LanguageLine:
    preferred: str
    readers: int
    outcomes: tuple[Outcome, ...]


@dataclass(frozen=True)
class Forecast:
    total: int
    languages: list[LanguageLine]
    countries: list[tuple[str, str, int]]  # (code, localised name, readers)
    sent_by_language: dict[str, int]
    skipped: int
    source: str
    # Languages a held campaign still waits for (see translations_missing).
    waiting_for: list[str]


def audience_forecast(
    *,
    page: Page,
    lists: Iterable[MailingList | int],
    segments: Iterable[Segment],
    policy: str,
) -> Forecast:
    """Return the audience of ``lists`` and ``segments`` and the language each gets.

    Under the hold policy the forecast shows what readers get once the awaited
    translations are complete. Raises ValidationError for invalid segment rules.
    """
    contacts = audience_contacts(lists=lists, segments=segments).order_by()
    groups = list(
        contacts.values_list("preferred_language", "fallback_languages")
        .annotate(readers=Count("pk"))
        .values_list("preferred_language", "fallback_languages", "readers")
    )
    countries = [
        (code, country_name(code) if code else "", readers)
        for code, readers in contacts.values_list("country")
        .annotate(readers=Count("pk"))
        .order_by("-readers", "country")
    ]
    source = page.locale.language_code
    available = dict(live_translations(page))
    wanted = {
        code for preferred, fallbacks, _n in groups for code in [preferred, *fallbacks]
    }
    waiting_for: list[str] = []
    if policy == Campaign.LanguagePolicy.HOLD:
        waiting_for = translations_missing(page, wanted)
        available.update(dict.fromkeys(waiting_for, 0))
    fallback = None if policy == Campaign.LanguagePolicy.SKIP else source

    outcomes: dict[str, dict[tuple[str, str], int]] = {}
    for preferred, fallbacks, readers in groups:
        language = choose_language([preferred, *fallbacks], available, source=fallback)
        if language is None:
            how = SKIPPED
        elif language == preferred:
            how = PREFERRED
        elif language in fallbacks:
            how = FALLBACK
        else:
            how = SOURCE
        line = outcomes.setdefault(preferred, {})
        key = (language or "", how)
        line[key] = line.get(key, 0) + readers

    languages = sorted(
        (
            LanguageLine(
                preferred=preferred,
                readers=sum(line.values()),
                outcomes=tuple(
                    Outcome(language=language, how=how, readers=readers)
                    for (language, how), readers in sorted(
                        line.items(), key=lambda item: -item[1]
                    )
                ),
            )
            for preferred, line in outcomes.items()
        ),
        key=lambda line: (-line.readers, line.preferred),
    )
    sent: dict[str, int] = {}
    skipped = 0
    for line in languages:
        for outcome in line.outcomes:
            if outcome.how == SKIPPED:
                skipped += outcome.readers
            else:
                sent[outcome.language] = sent.get(outcome.language, 0) + outcome.readers
    return Forecast(
        total=sum(line.readers for line in languages),
        languages=languages,
        countries=countries,
        sent_by_language=dict(sorted(sent.items(), key=lambda item: -item[1])),
        skipped=skipped,
        source=source,
        waiting_for=waiting_for,
    )


def campaign_forecast(campaign: Campaign) -> Forecast:
    """Return the forecast of ``campaign`` as it stands now."""
    return audience_forecast(
        page=campaign.page,
        lists=campaign.lists.all(),
        segments=campaign.segments.all(),
        policy=campaign.language_policy,
    )


def campaign_waiting_for(campaign: Campaign) -> list[str]:
    """Return the languages a held campaign still waits for; empty when it may go."""
    if campaign.language_policy != Campaign.LanguagePolicy.HOLD:
        return []
    return campaign_forecast(campaign).waiting_for
