"""A provider outage and a rate-limit answer, through a real Celery worker.

The worker runs in a thread and sends through anymail's real Mailgun backend
to the stand-in provider over HTTP. Retries wait 1 to 4 seconds here
(RELAY_SEND_RETRY_BACKOFF in the test settings); the outage lasts 20 seconds.
"""

from __future__ import annotations

from collections import Counter

import pytest

from newsletter.models import Delivery
from newsletter.sending.campaigns import campaign_create, campaign_start
from tests.factories import ContactFactory, MailingListFactory
from tests.integration.test_end_to_end import wait_until_sent
from tests.standin import StandInProvider

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.worker,
]


@pytest.fixture
def standin(settings):
    with StandInProvider().running() as provider:
        settings.ANYMAIL = provider.anymail_settings()
        settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
        settings.RELAY_SEND_BATCH_SIZE = 10
        yield provider


def test_after_a_twenty_second_outage_every_reader_gets_exactly_one_mail(
    worker, issue, standin
) -> None:
    mailing_list = MailingListFactory()
    readers = ContactFactory.create_batch(
        30, preferred_language="de", subscribed_to=[mailing_list]
    )
    campaign = campaign_create(page=issue, lists=[mailing_list])
    standin.fail(503, seconds=20)

    campaign_start(campaign=campaign)
    wait_until_sent(campaign, timeout=90)

    received = Counter(standin.recipients())
    assert received == Counter({reader.email: 1 for reader in readers})
    statuses = [status for _path, status, _at in standin.calls]
    assert statuses.count(503) >= 3  # each of the three batches was turned away
    assert set(
        Delivery.objects.filter(campaign=campaign).values_list("status", flat=True)
    ) == {"sent"}


def test_a_429_with_retry_after_is_honoured(worker, issue, standin) -> None:
    mailing_list = MailingListFactory()
    readers = ContactFactory.create_batch(5, subscribed_to=[mailing_list])
    campaign = campaign_create(page=issue, lists=[mailing_list])
    standin.fail(429, times=1, retry_after=3)

    campaign_start(campaign=campaign)
    wait_until_sent(campaign, timeout=60)

    [(_, first, refused_at), (_, second, accepted_at)] = standin.calls
    assert (first, second) == (429, 200)
    # The backoff alone would retry within a second; Retry-After said 3.
    assert accepted_at - refused_at >= 3
    assert sorted(standin.recipients()) == sorted(r.email for r in readers)
