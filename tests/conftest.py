"""Shared fixtures: the site's pages, issues with translations, and services."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import connection
from wagtail.models import Page
from wagtail.rich_text import RichText

from cms.demo.content import PACK, PACK_TRANSLATIONS, demo_pack
from cms.models import EventPage, HomePage, NewsletterIssuePage, ReportBackPackPage
from cms.translation import page_translate
from newsletter.tracking import links


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to run on stand-ins when CI asked for the real services."""
    if not settings.RELAY_REQUIRE_SERVICES:
        return
    database = settings.DATABASES["default"]["ENGINE"]
    broker = settings.CELERY_BROKER_URL
    if "postgresql" not in database or not broker.startswith("redis://"):
        raise pytest.UsageError(
            "RELAY_REQUIRE_SERVICES=true needs DATABASE_URL (PostgreSQL) and "
            f"CELERY_BROKER_URL (Redis); got {database} and {broker}."
        )


@pytest.fixture(autouse=True)
def anymail_test_backend(settings) -> None:
    """Send through anymail's test backend (Django's test setup swaps in locmem)."""
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"


@pytest.fixture(autouse=True)
def link_targets_forgotten() -> None:
    """Forget the links a process keeps: a rolled-back test's ids come again."""
    links._targets.clear()


@pytest.fixture
def services() -> dict[str, str]:
    """Return which database and broker the suite is running on."""
    return {
        "database": connection.vendor,
        "broker": settings.CELERY_BROKER_URL.split(":")[0],
    }


ISSUE_TEXT = {
    "title": "Issue one",
    "slug": "issue-one",
    "subject": "Parliaments act on trafficking",
    "preheader": "What the network agreed",
    "heading": "Joint action agreed",
    "paragraph": "Members of parliament met in Bucharest.",
    "cta": "Read more",
}

GERMAN = {
    "Issue one": "Ausgabe eins",
    "issue-one": "ausgabe-eins",
    "Parliaments act on trafficking": "Parlamente handeln gegen Menschenhandel",
    "What the network agreed": "Was das Netzwerk vereinbart hat",
    "Joint action agreed": "Gemeinsames Handeln vereinbart",
    "Members of parliament met in Bucharest.": "Abgeordnete trafen sich in Bukarest.",
    "Read more": "Weiterlesen",
}

BULGARIAN = {
    "Issue one": "Брой първи",
    "issue-one": "broy-parvi",
    "Parliaments act on trafficking": "Парламентите действат срещу трафика",
    "What the network agreed": "За какво се договори мрежата",
    "Joint action agreed": "Договорени съвместни действия",
    "Members of parliament met in Bucharest.": "Народни представители се срещнаха в Букурещ.",
    "Read more": "Прочетете още",
}


@pytest.fixture
def home_page(db: None) -> HomePage:
    return HomePage.objects.get(locale__language_code="en")


@pytest.fixture
def make_issue(
    home_page: HomePage, django_capture_on_commit_callbacks
) -> Callable[..., NewsletterIssuePage]:
    """Return a function that publishes an English issue, translated as asked."""

    def make(
        translations: dict[str, dict[str, str]] | None = None, **overrides: str
    ) -> NewsletterIssuePage:
        text = {**ISSUE_TEXT, **overrides}
        issue = NewsletterIssuePage(
            title=text["title"],
            slug=text["slug"],
            subject=text["subject"],
            preheader=text["preheader"],
            body=[
                ("heading", text["heading"]),
                ("paragraph", RichText(f"<p>{text['paragraph']}</p>")),
                (
                    "call_to_action",
                    {"text": text["cta"], "url": "https://example.org/more"},
                ),
            ],
        )
        home_page.add_child(instance=issue)
        issue.save_revision().publish()
        for language, texts in (translations or {}).items():
            # wagtail-localize publishes translations once the transaction commits.
            with django_capture_on_commit_callbacks(execute=True):
                page_translate(issue, language=language, texts=texts)
        return issue

    return make


@pytest.fixture
def issue(make_issue: Callable[..., NewsletterIssuePage]) -> NewsletterIssuePage:
    """An English issue with published German and Bulgarian translations."""
    return make_issue({"de": GERMAN, "bg": BULGARIAN})


def live_languages(page: Page) -> set[str]:
    return set(
        page.get_translations(inclusive=True)
        .live()
        .values_list("locale__language_code", flat=True)
    )


@pytest.fixture
def event(home_page) -> EventPage:
    event = EventPage(
        title="Network meeting on child trafficking",
        slug="bucharest-meeting",
        city="Bucharest",
        country="RO",
        start_date=datetime.date(2025, 5, 20),
        end_date=datetime.date(2025, 5, 21),
    )
    home_page.add_child(instance=event)
    event.save_revision().publish()
    return event


@pytest.fixture
def pack(home_page, event, django_capture_on_commit_callbacks) -> ReportBackPackPage:
    """The demo pack, published in English with Bulgarian and Greek translations."""
    pack = demo_pack(event)
    home_page.add_child(instance=pack)
    pack.save_revision().publish()
    for language in ("bg", "el"):
        texts = {PACK[key]: value for key, value in PACK_TRANSLATIONS[language].items()}
        with django_capture_on_commit_callbacks(execute=True):
            page_translate(pack, language=language, texts=texts)
    return pack
