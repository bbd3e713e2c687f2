"""An unsubscribe made while a campaign is sending holds for every later message.

A real Celery worker sends the campaign. The outbox is gated: after the first
message is handed over, the worker waits until the test has posted the
one-click unsubscribe of a reader not yet mailed, over the real HTTP stack.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from django.test import Client

from newsletter.models import Delivery, Subscription
from newsletter.sending.campaigns import campaign_create, campaign_start
from newsletter.sending.outbox import EmailBackend as OutboxBackend
from newsletter.tracking.tokens import one_click_url
from tests.factories import ContactFactory, MailingListFactory
from tests.integration.test_end_to_end import read_outbox, wait_until_sent

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.worker,
]

first_sent = threading.Event()
may_continue = threading.Event()


class GatedOutbox(OutboxBackend):
    """The local outbox, pausing the worker once after the first message."""

    def send_messages(self, email_messages):
        sent = super().send_messages(email_messages)
        if not first_sent.is_set():
            first_sent.set()
            assert may_continue.wait(timeout=30), "the test never released the worker"
        return sent


@pytest.fixture
def gated_outbox(settings, tmp_path: Path) -> Path:
    first_sent.clear()
    may_continue.clear()
    settings.EMAIL_BACKEND = f"{__name__}.GatedOutbox"
    settings.RELAY_OUTBOX_DIR = tmp_path
    yield tmp_path
    may_continue.set()  # never leave the worker waiting


def test_a_reader_who_unsubscribes_while_a_campaign_is_sending_gets_nothing_more(
    worker, issue, gated_outbox
) -> None:
    mailing_list = MailingListFactory()
    readers = ContactFactory.create_batch(4, subscribed_to=[mailing_list])
    campaign = campaign_create(page=issue, lists=[mailing_list])

    campaign_start(campaign=campaign)
    assert first_sent.wait(timeout=60), "the worker sent nothing"
    mailed = set(read_outbox(gated_outbox))
    assert len(mailed) == 1
    leaving = next(r for r in readers if r.email not in mailed)
    delivery = Delivery.objects.get(campaign=campaign, contact=leaving)
    response = Client(enforce_csrf_checks=True).post(
        one_click_url(delivery.token, language=delivery.language),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    may_continue.set()
    wait_until_sent(campaign)

    mails = read_outbox(gated_outbox)
    assert leaving.email not in mails
    assert set(mails) == {r.email for r in readers} - {leaving.email}
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SKIPPED
    assert (
        Subscription.objects.get(contact=leaving, mailing_list=mailing_list).status
        == Subscription.Status.UNSUBSCRIBED
    )
