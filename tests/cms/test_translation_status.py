import pytest
import time_machine
from wagtail.models import Locale
from wagtail_localize.models import Translation, TranslationSource

from cms.translation import page_translate
from cms.translation_status import (
    COMPLETE,
    IN_PROGRESS,
    MISSING,
    PUBLISHED,
    STALE,
    page_translation_status,
)
from tests.conftest import BULGARIAN, GERMAN

pytestmark = pytest.mark.django_db


def states(page):
    return {state.language: state for state in page_translation_status(page)}


def test_each_language_is_missing_in_progress_complete_or_published(
    make_issue, django_capture_on_commit_callbacks
) -> None:
    with time_machine.travel("2026-01-01 10:00", tick=False):
        issue = make_issue({"de": GERMAN})
    with django_capture_on_commit_callbacks(execute=True):
        page_translate(issue, language="bg", texts=BULGARIAN, publish=False)
    partial = {k: v for k, v in BULGARIAN.items() if k in ("Issue one", "issue-one")}
    source = TranslationSource.objects.get_for_instance(issue)
    romanian = Translation.objects.create(
        source=source, target_locale=Locale.objects.get(language_code="ro")
    )
    po = romanian.export_po()
    for entry in po:
        entry.msgstr = partial.get(entry.msgid, "")
    romanian.import_po(po)
    with django_capture_on_commit_callbacks(execute=True):
        romanian.save_target(publish=False)

    result = states(issue)

    assert result["de"].status == PUBLISHED
    assert result["bg"].status == COMPLETE
    assert result["ro"].status == IN_PROGRESS
    assert 0 < result["ro"].percent < 100
    assert result["pl"].status == MISSING
    assert "en" not in result
    assert len(result) == 23


def test_changing_the_source_after_a_translation_was_published_marks_it_stale(
    make_issue,
) -> None:
    with time_machine.travel("2026-01-01 10:00", tick=False):
        issue = make_issue({"de": GERMAN, "bg": BULGARIAN})
    assert states(issue)["de"].status == PUBLISHED

    with time_machine.travel("2026-01-02 10:00", tick=False):
        issue.subject = "Parliaments act on trafficking, together"
        issue.save_revision().publish()
    issue.refresh_from_db()

    result = states(issue)
    assert result["de"].status == STALE
    assert result["bg"].status == STALE


def test_the_status_view_shows_every_language(admin_client, make_issue) -> None:
    issue = make_issue({"de": GERMAN})

    response = admin_client.get("/admin/translation-status/")

    assert response.status_code == 200
    assert issue.title in response.text
    assert 'data-language="de" data-status="published"' in response.text
    assert 'data-language="mt" data-status="missing"' in response.text
