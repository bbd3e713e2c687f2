"""The unsubscribe headers and footer links of a dispatched campaign mail."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from newsletter.models import Delivery, Subscription
from newsletter.sending.campaigns import campaign_create
from newsletter.sending.dispatch import delivery_send_batch, list_id
from newsletter.sending.prepare import campaign_prepare
from tests.factories import ContactFactory, MailingListFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(issue):
    """A campaign to two lists' worth of readers, sent; return its mails by address."""
    mailing_list = MailingListFactory(name="Briefings", slug="briefings")
    other = MailingListFactory()
    readers = [
        ContactFactory(preferred_language=language, subscribed_to=[mailing_list, other])
        for language in ("bg", "de")
    ]
    campaign = campaign_create(page=issue, lists=[mailing_list])
    delivery_send_batch(
        campaign_id=campaign.pk,
        delivery_ids=campaign_prepare(campaign_id=campaign.pk),
    )
    mails = {
        message.to[0].rsplit("<", 1)[-1].rstrip(">"): message for message in mail.outbox
    }
    return campaign, readers, mails, other


def test_each_mail_carries_its_readers_one_click_headers(sent) -> None:
    campaign, readers, mails, _other = sent

    for reader in readers:
        message = mails[reader.email]
        delivery = Delivery.objects.get(campaign=campaign, contact=reader)
        language = delivery.language
        headers = message.extra_headers
        assert headers["List-Unsubscribe"] == (
            f"<http://testserver/{language}/unsubscribe/{delivery.token}/>"
        )
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert headers["List-Id"] == '"Briefings" <briefings.testserver>'
    tokens = {m.extra_headers["List-Unsubscribe"] for m in mails.values()}
    assert len(tokens) == 2


def test_the_footer_links_are_personalised_in_both_parts(sent) -> None:
    campaign, readers, mails, _other = sent
    reader = readers[0]
    delivery = Delivery.objects.get(campaign=campaign, contact=reader)
    message = mails[reader.email]
    html = message.alternatives[0][0]

    preferences = f"http://testserver/bg/preferences/{reader.preferences_token}/"
    unsubscribe = f"http://testserver/bg/unsubscribe/{delivery.token}/"
    assert f'href="{preferences}"' in html
    assert f'href="{unsubscribe}"' in html
    assert preferences in message.body and unsubscribe in message.body
    assert "{{relay:" not in html and "{{relay:" not in message.body
    assert "Управление на настройките" in html  # "Manage your preferences", in bg


def test_posting_to_the_header_url_unsubscribes_from_the_campaigns_list(sent) -> None:
    campaign, readers, mails, other = sent
    reader = readers[1]
    url = re.fullmatch(r"<(.+)>", mails[reader.email].extra_headers["List-Unsubscribe"])

    response = Client(enforce_csrf_checks=True).post(
        url.group(1),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    statuses = dict(
        Subscription.objects.filter(contact=reader).values_list(
            "mailing_list_id", "status"
        )
    )
    assert statuses == {
        campaign.lists.get().pk: "unsubscribed",
        other.pk: "subscribed",
    }


def test_a_list_id_with_a_non_ascii_name_is_encoded_and_keeps_its_identifier() -> None:
    mailing_list = MailingListFactory.build(name="Новини", slug="novini")

    header = list_id(mailing_list)

    assert header.isascii()
    assert header.endswith(" <novini.testserver>")
    assert header.startswith("=?utf-8?")
