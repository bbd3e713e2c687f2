"""Batches through anymail's real Mailgun backend to the stand-in provider."""

from __future__ import annotations

import re

import pytest

from newsletter.models import Contact, Delivery, Suppression, address_hash
from newsletter.sending.campaigns import campaign_create
from newsletter.sending.dispatch import (
    TransientSendError,
    delivery_send_batch,
    reader_tracking_id,
    retry_after_of,
)
from newsletter.sending.prepare import campaign_prepare
from tests.factories import ContactFactory, MailingListFactory
from tests.standin import StandInProvider

pytestmark = pytest.mark.django_db


@pytest.fixture
def standin(settings):
    with StandInProvider().running() as provider:
        settings.ANYMAIL = provider.anymail_settings()
        settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
        yield provider


@pytest.fixture
def prepared(issue):
    mailing_list = MailingListFactory(name="Briefings", slug="briefings")
    readers = [
        ContactFactory(
            preferred_language=language, country=country, subscribed_to=[mailing_list]
        )
        for language, country in [
            ("de", "DE"),
            ("de", "DE"),
            ("de", "AT"),
            ("bg", "BG"),
            ("en", "DE"),
            ("en", "DE"),
        ]
    ]
    campaign = campaign_create(page=issue, lists=[mailing_list])
    return campaign, readers, campaign_prepare(campaign_id=campaign.pk)


def test_one_call_per_variant_each_reader_personalised(standin, prepared) -> None:
    campaign, readers, ids = prepared

    result = delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    # de/DE, de/AT, bg/BG, en/DE: four variants, four calls for six readers.
    assert len(standin.calls) == 4
    assert result.sent == 6
    delivered = {d.recipient: d for d in standin.delivered}
    assert sorted(delivered) == sorted(r.email for r in readers)
    for reader in readers:
        delivery = Delivery.objects.get(campaign=campaign, contact=reader)
        mail = delivered[reader.email]
        unsubscribe = (
            f"http://testserver/{delivery.language}/unsubscribe/{delivery.token}/"
        )
        assert mail.headers["List-Unsubscribe"] == f"<{unsubscribe}>"
        assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert mail.headers["List-Id"] == '"Briefings" <briefings.testserver>'
        assert re.fullmatch(
            rf"<relay\.{campaign.pk}\.{delivery.pk}\.[0-9a-f]+@relay\.localhost>",
            mail.headers["Message-Id"],
        )
        assert mail.metadata["delivery_id"] == str(delivery.pk)
        assert f'href="{unsubscribe}"' in mail.html
        assert unsubscribe in mail.text
        assert f"/t/o/{reader_tracking_id(delivery)}.gif" in mail.html
        assert "%recipient." not in mail.html + mail.text
        assert "{{relay:" not in mail.html + mail.text
        assert delivery.status == Delivery.Status.SENT
        assert delivery.provider_message_id == mail.message_id
        assert delivery.attempted_at is not None
    assert "Народни представители се срещнаха в Букурещ." in (
        delivered[readers[3].email].html
    )


def test_a_rate_limit_splits_calls_to_its_burst(standin, prepared, settings) -> None:
    campaign, _readers, ids = prepared
    settings.RELAY_SEND_RATE = 40  # calls of 2

    delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    assert len(standin.delivered) == 6
    per_call: dict[str, int] = {}
    for mail in standin.delivered:
        per_call[mail.message_id] = per_call.get(mail.message_id, 0) + 1
    assert max(per_call.values()) <= 2


def test_a_reader_who_left_before_hand_off_is_skipped(standin, prepared) -> None:
    campaign, readers, ids = prepared
    Contact.objects.filter(pk=readers[0].pk).update(status=Contact.Status.UNSUBSCRIBED)

    result = delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    assert readers[0].email not in standin.recipients()
    assert result.skipped == 1 and result.sent == 5


def test_an_outage_releases_the_batch_with_the_retry_after(standin, prepared) -> None:
    campaign, _readers, ids = prepared
    standin.fail(429, times=1, retry_after=7)

    with pytest.raises(TransientSendError) as raised:
        delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    assert raised.value.retry_after == 7
    assert standin.delivered == []
    assert set(
        Delivery.objects.filter(campaign=campaign).values_list("status", "attempted_at")
    ) == {("pending", None)}

    delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)
    assert sorted(standin.recipients()) == sorted(
        Delivery.objects.filter(campaign=campaign).values_list(
            "contact__email", flat=True
        )
    )


def test_a_permanent_rejection_fails_the_call_and_is_not_retried(
    standin, prepared
) -> None:
    campaign, _readers, ids = prepared
    standin.fail(400, times=1)

    result = delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    assert result.failed >= 1
    failed = Delivery.objects.filter(campaign=campaign, status="failed")
    assert failed.count() == result.failed
    assert all("400" in reason for reason in failed.values_list("reason", flat=True))
    assert len(standin.delivered) == 6 - result.failed


def test_a_timeout_makes_the_call_uncertain_and_stops_the_batch(
    standin, prepared, settings
) -> None:
    campaign, _readers, ids = prepared
    settings.ANYMAIL = {**settings.ANYMAIL, "REQUESTS_TIMEOUT": 0.3}
    standin.behaviour.stall = 1.0

    with pytest.raises(TransientSendError):
        delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    statuses = list(
        Delivery.objects.filter(campaign=campaign).values_list("status", flat=True)
    )
    assert statuses.count("uncertain") >= 1
    assert set(statuses) == {"uncertain", "pending"}
    standin.behaviour.stall = 0
    delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)
    assert set(
        Delivery.objects.filter(campaign=campaign).values_list("status", flat=True)
    ) == {"uncertain", "sent"}


def test_refused_addresses_fail_and_are_suppressed(prepared, monkeypatch) -> None:
    from anymail.backends.test import EmailBackend
    from anymail.message import AnymailRecipientStatus

    campaign, readers, ids = prepared
    refused = readers[4].email

    def parse(self, response, payload, message):
        return {
            address: AnymailRecipientStatus(
                message_id="m1", status="rejected" if address == refused else "sent"
            )
            for address in payload.recipient_emails
        }

    monkeypatch.setattr(EmailBackend, "parse_recipient_status", parse)

    result = delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    delivery = Delivery.objects.get(campaign=campaign, contact=readers[4])
    assert (result.sent, result.failed) == (5, 1)
    assert delivery.status == Delivery.Status.FAILED
    assert "rejected" in delivery.reason
    assert Suppression.objects.active().filter(address_hash=address_hash(refused))


def test_retry_after_may_be_seconds_or_a_date() -> None:
    import datetime

    import requests
    from anymail.exceptions import AnymailAPIError

    def error(value: str) -> AnymailAPIError:
        response = requests.Response()
        response.status_code = 429
        response.headers["Retry-After"] = value
        return AnymailAPIError("slow down", status_code=429, response=response)

    now = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)
    assert retry_after_of(error("30")) == 30
    assert retry_after_of(error("Thu, 01 Jan 2026 12:00:45 GMT"), now=now) == 45
    assert retry_after_of(error("soon")) is None
    assert retry_after_of(RuntimeError("no response")) is None


def test_each_variant_is_rendered_once_for_all_batches(
    standin, prepared, monkeypatch
) -> None:
    from newsletter.sending import dispatch

    campaign, _readers, ids = prepared
    rendered: list[tuple[str, str]] = []
    original = dispatch.render_variant

    def counting(page, *, language, country=""):
        rendered.append((language, country))
        return original(page, language=language, country=country)

    monkeypatch.setattr(dispatch, "render_variant", counting)

    for pk in ids:  # one batch per reader
        delivery_send_batch(campaign_id=campaign.pk, delivery_ids=[pk])

    assert sorted(rendered) == [("bg", "BG"), ("de", "AT"), ("de", "DE"), ("en", "DE")]
    assert len(standin.delivered) == 6


def test_a_rate_store_that_is_neither_database_nor_redis_is_refused() -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parent.parent.parent,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cms.settings.test",
            "RELAY_SEND_RATE_STORE": "redis",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "RELAY_SEND_RATE_STORE must be 'database' or a redis:// URL" in (
        result.stderr
    )


def test_an_invalid_address_fails_alone_and_the_rest_of_its_call_is_sent(
    standin, prepared
) -> None:
    campaign, readers, ids = prepared
    Contact.objects.filter(pk=readers[0].pk).update(email="not valid@example.org")

    result = delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    invalid = Delivery.objects.get(campaign=campaign, contact=readers[0])
    assert invalid.status == Delivery.Status.FAILED
    assert "Invalid email address" in invalid.reason
    assert Suppression.objects.active().filter(
        address_hash=address_hash("not valid@example.org")
    )
    assert (result.sent, result.failed) == (5, 1)
    assert sorted(standin.recipients()) == sorted(r.email for r in readers[1:])
    assert len(standin.calls) == 4
