import pytest
from django.contrib.auth.models import Group
from wagtail.models import Page

from cms.translation import page_translate
from tests.conftest import GERMAN

pytestmark = pytest.mark.django_db


@pytest.fixture
def translator(django_user_model):
    user = django_user_model.objects.create_user("tina", "tina@example.org", "pw")
    user.groups.add(Group.objects.get(name="Translators"))
    return user


@pytest.fixture
def draft_german(make_issue, django_capture_on_commit_callbacks):
    issue = make_issue()
    with django_capture_on_commit_callbacks(execute=True):
        page_translate(issue, language="de", texts=GERMAN, publish=False)
    return issue, issue.get_translations().get(locale__language_code="de")


def test_a_translator_can_open_and_publish_a_german_translation(
    client, translator, draft_german, django_capture_on_commit_callbacks
) -> None:
    _issue, german = draft_german
    client.force_login(translator)

    editor = client.get(f"/admin/pages/{german.pk}/edit/")
    with django_capture_on_commit_callbacks(execute=True):
        published = client.post(
            f"/admin/pages/{german.pk}/edit/", {"action": "publish"}
        )

    assert editor.status_code == 200
    assert published.status_code == 302
    german = Page.objects.get(pk=german.pk)
    assert german.live
    assert german.title == "Ausgabe eins"


def test_a_translator_gets_403_on_the_english_source(
    client, translator, draft_german
) -> None:
    issue, _german = draft_german
    client.force_login(translator)

    assert client.get(f"/admin/pages/{issue.pk}/edit/").status_code == 403
    assert (
        client.post(f"/admin/pages/{issue.pk}/edit/", {"title": "Changed"}).status_code
        == 403
    )
    assert client.get(f"/admin/pages/{issue.pk}/delete/").status_code == 403
    assert Page.objects.get(pk=issue.pk).title == "Issue one"


def test_a_translator_cannot_add_pages(client, translator, home_page) -> None:
    client.force_login(translator)
    count = Page.objects.count()

    response = client.post(
        f"/admin/pages/add/cms/newsletterissuepage/{home_page.pk}/",
        {
            "title": "New",
            "slug": "new",
            "subject": "New",
            "body-count": "0",
            "action-publish": "1",
        },
    )

    assert response.status_code in (302, 403)
    assert Page.objects.count() == count


def test_a_translator_holds_no_right_on_contacts_or_campaigns(translator) -> None:
    for model in (
        "contact",
        "mailinglist",
        "subscription",
        "segment",
        "campaign",
        "delivery",
        "consentrecord",
    ):
        for action in ("view", "add", "change", "delete"):
            assert not translator.has_perm(f"newsletter.{action}_{model}")


def test_the_secretariat_edits_source_pages(
    client, django_user_model, draft_german
) -> None:
    issue, _german = draft_german
    user = django_user_model.objects.create_user("sam", "sam@example.org", "pw")
    user.groups.add(Group.objects.get_or_create(name="Secretariat")[0])
    client.force_login(user)

    assert client.get(f"/admin/pages/{issue.pk}/edit/").status_code == 200
