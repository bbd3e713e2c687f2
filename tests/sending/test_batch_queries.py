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


def test_every_ledger_query_of_a_batch_reads_by_ids_or_by_campaign_and_status(
    issue,
) -> None:
    mailing_list = MailingListFactory()
    for language in ("en", "de", "bg"):
        ContactFactory(preferred_language=language, subscribed_to=[mailing_list])
    campaign = campaign_create(page=issue, lists=[mailing_list])
    ids = campaign_prepare(campaign_id=campaign.pk)

    with CaptureQueriesContext(connection) as queries:
        result = delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    assert result.sent == 3
    ledger = [
        q["sql"]
        for q in queries.captured_queries
        if re.search(r'(FROM|UPDATE) "newsletter_delivery"', q["sql"])
    ]
    assert ledger
    for sql in ledger:
        where = sql.split("WHERE", 1)[-1]
        # By the batch's ids, as one parameter (the primary key index), or
        # by the (campaign, status) index: never all of the ledger.
        by_ids = re.search(r'"newsletter_delivery"\."id" (= ANY\(|IN \(SELECT)', where)
        by_campaign = (
            '"newsletter_delivery"."campaign_id" = ' in where
            and '"newsletter_delivery"."status" ' in where
        )
        assert by_ids or by_campaign, sql
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
