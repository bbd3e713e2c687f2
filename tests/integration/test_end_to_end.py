"""The whole flow through a real Celery worker: content → audience → sending → tracking.

On a developer's machine this runs on SQLite and the in-memory broker; CI runs it
on PostgreSQL and Redis (DATABASE_URL, CELERY_BROKER_URL).
"""

from __future__ import annotations

import email
import email.policy
import re
import time
from pathlib import Path

import pytest
from django.test import Client

from newsletter.models import Campaign, Delivery, TrackingEvent
from newsletter.sending.campaigns import campaign_create, campaign_start
from tests.factories import ContactFactory, MailingListFactory

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.worker,
]


@pytest.fixture
def outbox(settings, tmp_path: Path) -> Path:
    settings.EMAIL_BACKEND = "newsletter.sending.outbox.EmailBackend"
    settings.RELAY_OUTBOX_DIR = tmp_path
    return tmp_path


def wait_until_sent(campaign: Campaign, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        campaign.refresh_from_db()
        if campaign.status == Campaign.Status.SENT:
            return
        time.sleep(0.2)
    statuses = list(
        Delivery.objects.filter(campaign=campaign).values_list("status", flat=True)
    )
    raise AssertionError(
        f"campaign still {campaign.status} after {timeout}s: {statuses}"
    )


def read_outbox(folder: Path) -> dict[str, email.message.EmailMessage]:
    mails = {}
    for path in folder.glob("*.eml"):
        message = email.message_from_bytes(
            path.read_bytes(), policy=email.policy.default
        )
        address = message["To"].addresses[0].addr_spec
        assert address not in mails, f"{address} got a second mail"
        mails[address] = message
    return mails


def test_each_reader_gets_exactly_one_mail_in_their_best_language(
    worker, issue, outbox, services
) -> None:
    mailing_list = MailingListFactory()
    german = ContactFactory(preferred_language="de", subscribed_to=[mailing_list])
    bulgarian = ContactFactory(preferred_language="bg", subscribed_to=[mailing_list])
    french = ContactFactory(
        preferred_language="fr",
        fallback_languages=["pt", "en"],
        subscribed_to=[mailing_list],
    )
    romanian = ContactFactory(
        preferred_language="ro", fallback_languages=[], subscribed_to=[mailing_list]
    )
    campaign = campaign_create(page=issue, lists=[mailing_list])

    campaign_start(campaign=campaign)
    wait_until_sent(campaign)

    mails = read_outbox(outbox)
    assert len(mails) == 4
    expected = {
        german.email: (
            "de",
            "Parlamente handeln gegen Menschenhandel",
            "Abgeordnete trafen sich in Bukarest.",
        ),
        bulgarian.email: (
            "bg",
            "Парламентите действат срещу трафика",
            "Народни представители се срещнаха в Букурещ.",
        ),
        french.email: (
            "en",
            "Parliaments act on trafficking",
            "Members of parliament met in Bucharest.",
        ),
        romanian.email: (
            "en",
            "Parliaments act on trafficking",
            "Members of parliament met in Bucharest.",
        ),
    }
    for address, (language, subject, sentence) in expected.items():
        message = mails[address]
        html = message.get_body(preferencelist=("html",)).get_content()
        text = message.get_body(preferencelist=("plain",)).get_content()
        # Django 5.2 folds long encoded subjects after "Subject:"; mail programs
        # unfold that whitespace away, and so does this comparison.
        assert " ".join(message["Subject"].split()) == subject
        assert message["Content-Language"] == language
        assert re.search(rf'<html lang="{language}"', html)
        assert sentence in html
        assert sentence in text
    assert set(
        Delivery.objects.filter(campaign=campaign).values_list("status", flat=True)
    ) == {"sent"}

    # The open pixel in the German mail records one open for that delivery.
    html = mails[german.email].get_body(preferencelist=("html",)).get_content()
    pixel = re.search(r'src="http://testserver(/t/o/[^"]+\.gif)"', html).group(1)
    assert Client().get(pixel).status_code == 200
    opened = TrackingEvent.objects.get(kind=TrackingEvent.Kind.OPENED)
    assert opened.delivery == Delivery.objects.get(campaign=campaign, contact=german)


def test_starting_the_same_campaign_twice_sends_once(worker, issue, outbox) -> None:
    mailing_list = MailingListFactory()
    ContactFactory.create_batch(5, subscribed_to=[mailing_list])
    campaign = campaign_create(page=issue, lists=[mailing_list])

    campaign_start(campaign=campaign)
    campaign_start(campaign=campaign)
    wait_until_sent(campaign)
    time.sleep(1)  # let any duplicate task run to the end

    assert len(read_outbox(outbox)) == 5
