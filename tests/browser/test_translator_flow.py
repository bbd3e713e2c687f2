"""In a real headless Chromium: a translator carries the demo pack into Polish."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group
from wagtail.models import Page

from tests.browser.glossary import POLISH

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# The README points here: screenshots of the previews, kept after the run.
SCREENSHOTS = Path(django_settings.BASE_DIR) / "test-artifacts" / "screenshots"


def test_a_translator_translates_the_pack_into_polish_and_publishes_it(
    browser, live_server, django_user_model, pack, settings
) -> None:
    settings.WAGTAILLOCALIZE_MACHINE_TRANSLATOR = {
        "CLASS": "tests.browser.glossary.GlossaryTranslator"
    }
    translator = django_user_model.objects.create_user(
        "tina", "tina@example.org", "a-long-password"
    )
    translator.groups.add(Group.objects.get(name="Translators"))
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(live_server.url)
            else route.abort()
        ),
    )

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", "tina")
    page.fill("#id_password", "a-long-password")
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/admin/localize/submit/page/{pack.pk}/")
    page.get_by_label("Polski").check()
    page.get_by_role("button", name="Submit").click()
    page.wait_for_url("**/admin/pages/*/edit/")

    # Translate the title by hand in the editor, the rest from the glossary.
    page.get_by_role("button", name="Translate", exact=True).first.click()
    page.locator("textarea").first.fill(POLISH["title"])
    page.get_by_role("button", name="Save", exact=True).first.click()
    page.get_by_text(POLISH["title"]).first.wait_for()
    page.get_by_role("button", name="Translate with Glossary").first.click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Publish in Polski").click()
    page.wait_for_load_state("networkidle")

    polish = Page.objects.get(
        translation_key=pack.translation_key, locale__language_code="pl"
    )
    assert polish.live
    assert polish.title == POLISH["title"]

    page.goto(f"{live_server.url}/admin/translation-status/")
    cell = page.locator(f'tr:has(a:text("{pack.title}")) td[data-language="pl"]')
    assert cell.get_attribute("data-status") == "published"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for language in ("pl", "bg"):
        for width in (600, 320):
            page.goto(
                f"{live_server.url}/admin/mail-preview/{pack.pk}/?language={language}&country=PL&width={width}"
            )
            frame = page.locator(f'section[data-language="{language}"] iframe')
            assert frame.get_attribute("width") == str(width)
            frame.screenshot(path=str(SCREENSHOTS / f"pack-{language}-{width}.png"))
            assert (SCREENSHOTS / f"pack-{language}-{width}.png").stat().st_size > 5000
    html = page.content()
    assert POLISH["subject"] not in html  # the last preview was Bulgarian
    context.close()
