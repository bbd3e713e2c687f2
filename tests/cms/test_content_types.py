import io
import re

import pytest
from pypdf import PdfReader

from cms.demo.content import PACK_TRANSLATIONS
from newsletter.models import Contact
from newsletter.sending.render import render_variant
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def translation_of(page, language):
    return page.get_translations().get(locale__language_code=language).specific


def test_an_event_page_shows_its_place_and_dates_formatted_for_the_reader(
    client, event
) -> None:
    response = client.get("/en/bucharest-meeting/")

    assert response.status_code == 200
    assert "Bucharest, Romania" in response.text
    assert "May 20" in response.text and "21, 2025" in response.text


def test_the_archive_lists_issues_and_packs_of_its_language(
    client, home_page, issue, pack
) -> None:
    from cms.models import ArchivePage

    archive = ArchivePage(title="Archive", slug="archive")
    home_page.add_child(instance=archive)
    archive.save_revision().publish()

    response = client.get("/en/archive/")

    assert issue.title in response.text
    assert pack.title in response.text


def test_the_pack_mail_lists_the_readers_country_contacts_who_agreed(pack) -> None:
    listed = ContactFactory(
        kind=Contact.Kind.NGO,
        country="RO",
        organisation="Salvați Copiii",
        listed_as_country_contact=True,
    )
    unlisted = ContactFactory(
        kind=Contact.Kind.NGO, country="RO", listed_as_country_contact=False
    )
    elsewhere = ContactFactory(
        kind=Contact.Kind.LAW_ENFORCEMENT, country="BG", listed_as_country_contact=True
    )
    mp = ContactFactory(
        kind=Contact.Kind.MP, country="RO", listed_as_country_contact=True
    )

    variant = render_variant(translation_of(pack, "bg"), language="bg", country="RO")

    assert f'href="mailto:{listed.email}"' in variant.html
    assert "Salvați Copiii" in variant.html
    assert "Румъния" in variant.html  # the country, named in Bulgarian
    for other in (unlisted, elsewhere, mp):
        assert other.email not in variant.html


def test_pack_mails_are_email_safe(pack) -> None:
    for language in ("en", "bg", "el"):
        page = pack if language == "en" else translation_of(pack, language)
        variant = render_variant(page, language=language, country="DE")

        assert "<script" not in variant.html.lower()
        assert "<style" not in variant.html.lower()
        assert 'rel="stylesheet"' not in variant.html
        assert all(' alt="' in tag for tag in re.findall(r"<img\b[^>]*>", variant.html))
        for heading in re.findall(r"<h[12][^>]*>(.*?)</h[12]>", variant.html, re.S):
            assert re.sub(r"<[^>]+>", "", heading).strip() in variant.text
        for link in re.findall(r'href="(http[^"]+)"', variant.html):
            assert link in variant.text


@pytest.mark.parametrize("language", ["bg", "el"])
def test_the_briefing_pdf_has_the_packs_text_in_real_glyphs(
    client, pack, language
) -> None:
    page = translation_of(pack, language)

    response = client.get(f"{page.url}briefing/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    expected = PACK_TRANSLATIONS[language]
    for key in ("message_1", "recommendation_2", "question_1", "fact_label_1"):
        assert " ".join(expected[key].split()) in text
    fonts = {
        str(font["/BaseFont"])
        for p in reader.pages
        for font in p["/Resources"]["/Font"].values()
    }
    assert fonts and all("DejaVu" in name or "Noto" in name for name in fonts)
    assert "\ufffd" not in text
