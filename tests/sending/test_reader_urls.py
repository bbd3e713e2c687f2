"""A reader's URLs, reversed once per language and filled with each token."""

from __future__ import annotations

import pytest

from newsletter.models.tokens import new_token
from newsletter.sending.dispatch import token_url
from newsletter.tracking.tokens import pixel_url, preferences_url, unsubscribe_url


@pytest.mark.parametrize("language", ["en", "de", "bg", "el"])
def test_token_urls_are_those_reverse_gives(language) -> None:
    for _ in range(20):
        token = new_token()
        assert token_url("pixel", token, language=language) == pixel_url(token)
        assert token_url("preferences", token, language=language) == preferences_url(
            token, language=language
        )
        assert token_url("unsubscribe", token, language=language) == unsubscribe_url(
            token, language=language
        )


def test_a_token_reverse_would_quote_is_reversed_in_full() -> None:
    token = "a b?ü"

    assert token_url("unsubscribe", token, language="de") == unsubscribe_url(
        token, language="de"
    )


def test_a_changed_base_url_is_used_at_once(settings) -> None:
    token = new_token()
    token_url("unsubscribe", token, language="en")
    settings.RELAY_BASE_URL = "https://news.example.org"

    assert token_url("unsubscribe", token, language="en") == (
        f"https://news.example.org/en/unsubscribe/{token}/"
    )
