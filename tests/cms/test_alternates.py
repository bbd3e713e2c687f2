import pytest

pytestmark = pytest.mark.django_db


def test_each_web_version_links_its_translations_with_hreflang(client, issue) -> None:
    response = client.get("/de/ausgabe-eins/")

    assert (
        '<link rel="alternate" hreflang="en" href="http://localhost/en/issue-one/">'
        in response.text
    )
    assert (
        '<link rel="alternate" hreflang="de" href="http://localhost/de/ausgabe-eins/">'
        in response.text
    )
    assert (
        '<link rel="alternate" hreflang="bg" href="http://localhost/bg/broy-parvi/">'
        in response.text
    )
    assert 'hreflang="x-default" href="http://localhost/en/issue-one/"' in response.text
    assert 'hreflang="ro"' not in response.text


def test_the_sitemap_lists_every_language_with_alternates(client, issue) -> None:
    response = client.get("/sitemap.xml")

    assert response.status_code == 200
    for location in ("/en/issue-one/", "/de/ausgabe-eins/", "/bg/broy-parvi/", "/en/"):
        assert f"<loc>http://localhost{location}</loc>" in response.text
    assert 'hreflang="bg" href="http://localhost/bg/broy-parvi/"' in response.text
