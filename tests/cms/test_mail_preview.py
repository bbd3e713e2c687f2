import pytest
from django.core import mail
from wagtail.rich_text import RichText

pytestmark = pytest.mark.django_db


def test_the_preview_shows_languages_side_by_side_for_a_country(
    admin_client, issue
) -> None:
    response = admin_client.get(
        f"/admin/mail-preview/{issue.pk}/?language=de&language=bg&language=pl&country=RO&width=320"
    )

    assert response.status_code == 200
    assert response.text.index('data-language="de"') < response.text.index(
        'data-language="bg"'
    )
    assert "Parlamente handeln gegen Menschenhandel" in response.text
    assert "Парламентите действат срещу трафика" in response.text
    assert 'width="320"' in response.text
    assert "There is no translation in this language." in response.text  # pl


def test_presend_checks_find_broken_links_missing_alt_and_long_subjects(
    admin_client, make_issue, home_page
) -> None:
    issue = make_issue(
        subject="A subject line that is far too long to be read on the small screen of a phone"
    )
    draft = issue.get_latest_revision_as_object()
    gone = make_issue(title="Gone", slug="gone")
    gone.unpublish()
    draft.body.append(
        ("paragraph", RichText(f'<p><a linktype="page" id="{gone.pk}">old</a></p>'))
    )
    draft.save_revision()

    response = admin_client.get(f"/admin/mail-preview/{issue.pk}/?language=en")

    assert "A link points to a page that is not published" in response.text
    assert "The subject has" in response.text


def test_a_test_send_goes_to_the_given_address_in_each_language(
    admin_client, issue
) -> None:
    response = admin_client.post(
        f"/admin/mail-preview/{issue.pk}/?language=de&language=bg",
        {"to": "editor@example.org"},
    )

    assert response.status_code == 302
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == [
        "[Test] Parlamente handeln gegen Menschenhandel",
        "[Тест] Парламентите действат срещу трафика",
    ]
    assert all(m.to == ["editor@example.org"] for m in mail.outbox)


def test_images_without_alternative_text_are_reported(issue) -> None:
    from cms.presend import variant_findings
    from newsletter.sending.render import RenderedVariant

    variant = RenderedVariant(
        language="en",
        subject="Short",
        web_url="",
        text="",
        html='<img src="a.png" alt="A chart"><img src="b.png"><img src="c.png" alt=" ">',
    )

    findings = variant_findings(issue, variant)

    assert [f.message for f in findings] == ["An image has no alternative text."] * 2
