"""Every demo mail, in every demo language, scores below 2.0 in SpamAssassin (offline)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from django.conf import settings
from django.core.management import call_command
from wagtail.models import Page

from cms.models import NewsletterIssuePage, ReportBackPackPage
from newsletter.models import Campaign, Contact, Delivery, MailingList
from newsletter.sending.dispatch import build_message
from newsletter.sending.render import render_variant

pytestmark = pytest.mark.django_db

COUNTRY_OF = {"en": "GB", "de": "DE", "ro": "RO", "bg": "BG", "el": "GR"}


def spamassassin() -> str:
    path = shutil.which("spamassassin")
    if path is None:
        if settings.RELAY_REQUIRE_SERVICES:
            pytest.fail("spamassassin is not installed (apt-get install spamassassin)")
        pytest.skip("spamassassin is not installed")
    return path


def score(raw: bytes) -> tuple[float, str]:
    report = subprocess.run(
        [spamassassin(), "-L", "-t", "-x"],
        input=raw,
        capture_output=True,
        timeout=120,
        check=False,
    ).stdout.decode("utf-8", "replace")
    match = re.search(r"X-Spam-Status: \w+, score=(-?[\d.]+)", report)
    assert match, report[-2000:]
    return float(match.group(1)), report


def demo_mails(capture_on_commit) -> list[tuple[str, bytes]]:
    with capture_on_commit(execute=True):  # translations publish on commit
        call_command("load_demo", verbosity=0)
    mailing_list = MailingList.objects.get(slug="network-news")
    mails = []
    for source in Page.objects.type(NewsletterIssuePage, ReportBackPackPage).filter(
        locale__language_code="en"
    ):
        campaign = Campaign.objects.create(name=source.title, page=source)
        campaign.lists.add(mailing_list)
        for page in source.get_translations(inclusive=True).live().specific():
            language = page.locale.language_code
            reader = (
                Contact.objects.filter(preferred_language=language).first()
                or Contact.objects.first()
            )
            delivery = Delivery.objects.create(
                campaign=campaign,
                contact=reader,
                language=language,
                country=COUNTRY_OF.get(language, ""),
            )
            variant = render_variant(page, language=language, country=delivery.country)
            message = build_message(variant, delivery, campaign=campaign)
            mails.append((f"{source.slug}/{language}", message.message().as_bytes()))
    return mails


def test_every_demo_mail_in_every_demo_language_scores_below_two(
    django_capture_on_commit_callbacks,
) -> None:
    spamassassin()
    mails = demo_mails(django_capture_on_commit_callbacks)

    assert len(mails) == 9  # the issue in 4 languages, the pack in 5
    scores = {name: score(raw) for name, raw in mails}
    too_high = {
        name: report for name, (value, report) in scores.items() if value >= 2.0
    }
    assert not too_high, "\n\n".join(
        f"{name}:\n{report[-1500:]}" for name, report in too_high.items()
    )
