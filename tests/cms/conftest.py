"""Fixtures for content types: an event and a report-back pack with translations."""

from __future__ import annotations

import datetime

import pytest

from cms.demo.content import PACK, PACK_TRANSLATIONS
from cms.models import EventPage, ReportBackPackPage
from cms.translation import page_translate


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
    pack = ReportBackPackPage(
        title=PACK["title"],
        slug=PACK["slug"],
        subject=PACK["subject"],
        preheader=PACK["preheader"],
        event=event,
        summary=f"<p>{PACK['summary']}</p>",
        key_messages=[("point", PACK[f"message_{n}"]) for n in (1, 2, 3)],
        recommendations=[("point", PACK[f"recommendation_{n}"]) for n in (1, 2)],
        questions=[("point", PACK[f"question_{n}"]) for n in (1, 2)],
        facts=[
            (
                "fact",
                {
                    "figure": PACK[f"fact_figure_{n}"],
                    "label": PACK[f"fact_label_{n}"],
                    "source": PACK[f"fact_source_{n}"],
                },
            )
            for n in (1, 2)
        ],
        pass_on=f"<p>{PACK['pass_on']}</p>",
    )
    home_page.add_child(instance=pack)
    pack.save_revision().publish()
    for language in ("bg", "el"):
        texts = {PACK[key]: value for key, value in PACK_TRANSLATIONS[language].items()}
        with django_capture_on_commit_callbacks(execute=True):
            page_translate(pack, language=language, texts=texts)
    return pack
