"""A send batch reads its claimed rows through the (campaign, status) index."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from newsletter.models import Delivery
from newsletter.sending.campaigns import campaign_create
from newsletter.sending.dispatch import delivery_send_batch
from newsletter.sending.prepare import campaign_prepare
from tests.factories import ContactFactory, MailingListFactory
from tests.standin import StandInProvider

pytestmark = pytest.mark.django_db


def test_every_query_by_claim_names_the_campaign_and_status(issue) -> None:
    mailing_list = MailingListFactory()
    for language in ("en", "de", "bg"):
        ContactFactory(preferred_language=language, subscribed_to=[mailing_list])
    campaign = campaign_create(page=issue, lists=[mailing_list])
    ids = campaign_prepare(campaign_id=campaign.pk)

    with CaptureQueriesContext(connection) as queries:
        result = delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    assert result.sent == 3
    by_claim = [
        q["sql"]
        for q in queries.captured_queries
        if re.search(r'"newsletter_delivery"\."claim" = ', q["sql"])
        and not re.search(r"IN \(|= ANY\(", q["sql"].split("WHERE", 1)[-1])
    ]
    assert by_claim  # the batch's select of its rows
    for sql in by_claim:
        assert '"newsletter_delivery"."campaign_id" = ' in sql, sql
        assert '"newsletter_delivery"."status" = ' in sql, sql
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == 3


@pytest.fixture
def mailgun(settings):
    with StandInProvider().running() as provider:
        settings.ANYMAIL = provider.anymail_settings()
        settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
        yield provider


def test_a_batch_runs_as_many_queries_for_many_readers_as_for_few(
    issue, mailgun
) -> None:
    captured = []
    for per_language in (1, 4):
        mailing_list = MailingListFactory()
        for language in ("en", "de", "bg"):
            for n in range(per_language):
                ContactFactory(
                    preferred_language=language,
                    tracking_consent=n % 2 == 0,
                    subscribed_to=[mailing_list],
                )
        campaign = campaign_create(page=issue, lists=[mailing_list])
        ids = campaign_prepare(campaign_id=campaign.pk)
        with CaptureQueriesContext(connection) as queries:
            result = delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)
        assert result.sent == 3 * per_language
        captured.append(len(queries.captured_queries))

    # Nothing is read per reader (a deferred field would add a query each).
    assert captured[0] == captured[1]
    assert len(mailgun.delivered) == 15
