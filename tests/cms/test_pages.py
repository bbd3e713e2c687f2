import pytest
from django.conf import settings
from wagtail.models import Locale

from cms.demo.content import CONTACTS

pytestmark = pytest.mark.django_db

EU_LANGUAGES = {
    "bg",
    "cs",
    "da",
    "de",
    "el",
    "en",
    "es",
    "et",
    "fi",
    "fr",
    "ga",
    "hr",
    "hu",
    "it",
    "lt",
    "lv",
    "mt",
    "nl",
    "pl",
    "pt",
    "ro",
    "sk",
    "sl",
    "sv",
}


def test_all_24_eu_languages_are_content_and_interface_languages() -> None:
    assert {code for code, _ in settings.LANGUAGES} == EU_LANGUAGES
    assert {code for code, _ in settings.WAGTAIL_CONTENT_LANGUAGES} == EU_LANGUAGES
    assert set(Locale.objects.values_list("language_code", flat=True)) == EU_LANGUAGES
    assert settings.LANGUAGE_CODE == "en"


def test_each_translation_has_its_own_web_version_under_its_language_prefix(
    client, issue
) -> None:
    german = issue.get_translations().get(locale__language_code="de")
    bulgarian = issue.get_translations().get(locale__language_code="bg")

    english_page = client.get("/en/issue-one/")
    german_page = client.get(german.url)
    bulgarian_page = client.get(bulgarian.url)

    assert german.url == "/de/ausgabe-eins/"
    assert (
        english_page.status_code
        == german_page.status_code
        == bulgarian_page.status_code
        == 200
    )
    assert '<html lang="en"' in english_page.text
    assert '<html lang="de"' in german_page.text
    assert "Abgeordnete trafen sich in Bukarest." in german_page.text
    assert '<html lang="bg"' in bulgarian_page.text
    assert "Народни представители се срещнаха в Букурещ." in bulgarian_page.text


def test_maltese_pages_are_served_under_mt(client, make_issue) -> None:
    texts = {
        "Issue one": "L-ewwel ħarġa",
        "issue-one": "l-ewwel-harga",
        "Parliaments act on trafficking": "Il-parlamenti jaġixxu kontra t-traffikar",
        "What the network agreed": "Dak li qablet fuqu n-netwerk",
        "Joint action agreed": "Miftiehem azzjoni konġunta",
        "Members of parliament met in Bucharest.": "Membri parlamentari ltaqgħu f'Bukarest.",
        "Read more": "Aqra aktar",
    }
    make_issue({"mt": texts})

    response = client.get("/mt/l-ewwel-harga/")

    assert response.status_code == 200
    assert '<html lang="mt"' in response.text
    assert "Membri parlamentari ltaqgħu f" in response.text


def test_unknown_language_prefix_is_not_found(client, issue) -> None:
    assert client.get("/xx/issue-one/", follow=True).status_code == 404


def test_demo_contacts_cover_every_kind_and_at_least_eight_countries_and_languages() -> (
    None
):
    from newsletter.models import Contact

    assert len(CONTACTS) >= 30
    assert {kind for _, _, kind, *_ in CONTACTS} == set(Contact.Kind.values)
    assert len({country for _, _, _, country, *_ in CONTACTS}) >= 8
    assert len({language for *_, language, _ in CONTACTS}) >= 8
