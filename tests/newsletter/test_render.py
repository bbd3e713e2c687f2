import pytest

from newsletter.sending.render import personalise, render_variant

pytestmark = pytest.mark.django_db


def test_the_mail_chrome_is_in_the_readers_language(issue) -> None:
    bulgarian = issue.get_translations().get(locale__language_code="bg").specific

    variant = render_variant(bulgarian, language="bg")

    assert '<html lang="bg" dir="ltr"' in variant.html
    assert "Вижте този имейл в браузъра си" in variant.html
    assert "View this mail in your browser" not in variant.html
    assert variant.subject == "Парламентите действат срещу трафика"


def test_styles_are_inlined_and_links_made_absolute(issue) -> None:
    variant = render_variant(issue.specific, language="en")

    assert "<style" not in variant.html
    assert 'style="' in variant.html
    assert 'href="http://testserver/en/issue-one/"' in variant.html
    assert 'href="/' not in variant.html and 'src="/' not in variant.html


def test_the_text_part_has_the_headings_links_and_no_preheader(issue) -> None:
    variant = render_variant(issue.specific, language="en")

    assert "## Joint action agreed" in variant.text
    assert "(https://example.org/more)" in variant.text
    assert "What the network agreed" not in variant.text
    assert "What the network agreed" in variant.html


def test_personalise_fills_known_fields_escapes_values_and_drops_unknown_ones() -> None:
    template = "<p>{{relay:name}}</p>{{relay:pixel_html}}{{relay:unknown}}"

    result = personalise(
        template, {"name": "<Ana & Co>", "pixel_html": "<img>"}, escape=True
    )

    assert result == "<p>&lt;Ana &amp; Co&gt;</p><img>"
