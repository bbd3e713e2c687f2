from newsletter.sending.languages import choose_language

AVAILABLE = {"en": 1, "de": 2, "bg": 3}


def test_preferred_language_wins_when_published() -> None:
    assert choose_language(["de", "en"], AVAILABLE, source="en") == "de"


def test_fallbacks_are_tried_in_order() -> None:
    assert choose_language(["fr", "pt", "bg", "de"], AVAILABLE, source="en") == "bg"


def test_source_language_when_nothing_matches() -> None:
    assert choose_language(["ro"], AVAILABLE, source="en") == "en"


def test_none_when_nothing_matches_and_policy_skips() -> None:
    assert choose_language(["ro", "pl"], AVAILABLE, source=None) is None
