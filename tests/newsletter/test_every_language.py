"""Every mail's surrounding texts and dates are in the reader's language, in all 24."""

import datetime

import pytest
from babel.dates import format_date
from django.conf import settings
from django.utils import translation

from newsletter.sending.render import render_variant

pytestmark = pytest.mark.django_db

CHROME = [
    "View this mail in your browser",
    "You receive this mail as a contact of the parliamentary network against human trafficking.",
]


@pytest.mark.parametrize("language", [code for code, _ in settings.LANGUAGES])
def test_a_sample_issue_renders_with_translated_chrome_and_babel_dates(
    issue, language
) -> None:
    published = datetime.datetime(2026, 3, 14, 9, 30, tzinfo=datetime.UTC)
    issue.first_published_at = published

    variant = render_variant(issue.specific, language=language)

    assert f'<html lang="{language}"' in variant.html
    expected_date = format_date(
        published.date(), format="long", locale=translation.to_locale(language)
    )
    assert expected_date in variant.html
    for text in CHROME:
        with translation.override(language):
            translated = translation.gettext(text)
        if language == "en":
            assert translated == text
        else:
            assert translated != text, f"{language}: {text!r} is not translated"
        assert translated in variant.html.replace("&#x27;", "'").replace("&quot;", '"')
