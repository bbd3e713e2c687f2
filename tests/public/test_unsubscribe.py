"""Unsubscribing: the RFC 8058 one-click POST and the page behind the footer link."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from newsletter.audience.suppression import is_suppressed
from newsletter.models import ConsentRecord, Contact, Subscription
from newsletter.tracking.tokens import one_click_url
from tests.factories import ContactFactory, MailingListFactory

pytestmark = pytest.mark.django_db

ONE_CLICK = "List-Unsubscribe=One-Click"


@pytest.fixture
def lists():
    return MailingListFactory(name="Briefings"), MailingListFactory(name="Events")


@pytest.fixture
def subscribed(lists):
    return ContactFactory(subscribed_to=list(lists), preferred_language="bg")


@pytest.fixture
def delivery(make_delivery, subscribed, lists):
    return make_delivery(subscribed, lists[0], language="bg")


@pytest.fixture
def link(delivery) -> str:
    """The URL in the mail's List-Unsubscribe header and footer."""
    return one_click_url(delivery.token, language="bg")


def status(contact, mailing_list) -> str:
    return Subscription.objects.get(contact=contact, mailing_list=mailing_list).status


def post_one_click(client: Client, url: str, encoding: str):
    if encoding == "urlencoded":
        return client.post(
            url, ONE_CLICK, content_type="application/x-www-form-urlencoded"
        )
    return client.post(url, {"List-Unsubscribe": "One-Click"})  # multipart


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_one_click_post_without_cookies_unsubscribes_from_that_list_only(
    link, subscribed, lists, encoding
) -> None:
    client = Client(enforce_csrf_checks=True)  # no cookie, no session, no token

    response = post_one_click(client, link, encoding)

    assert response.status_code == 200
    assert "Location" not in response.headers
    assert not response.cookies
    assert status(subscribed, lists[0]) == Subscription.Status.UNSUBSCRIBED
    assert status(subscribed, lists[1]) == Subscription.Status.SUBSCRIBED
    record = ConsentRecord.objects.get(contact=subscribed)
    assert record.action == ConsentRecord.Action.UNSUBSCRIBED
    assert record.source == ConsentRecord.Source.ONE_CLICK
    assert record.mailing_list == lists[0]
    assert record.language == "bg"
    assert record.wording == ONE_CLICK


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_repeating_the_one_click_post_changes_nothing_more(
    link, subscribed, lists, encoding
) -> None:
    client = Client(enforce_csrf_checks=True)
    first = post_one_click(client, link, encoding)
    changed_at = Subscription.objects.get(
        contact=subscribed, mailing_list=lists[0]
    ).updated_at

    again = post_one_click(client, link, encoding)

    assert again.status_code == 200
    assert "Location" not in again.headers
    assert again.content == first.content
    assert ConsentRecord.objects.filter(contact=subscribed).count() == 1
    subscription = Subscription.objects.get(contact=subscribed, mailing_list=lists[0])
    assert subscription.updated_at == changed_at
    assert status(subscribed, lists[1]) == Subscription.Status.SUBSCRIBED


@pytest.mark.parametrize("method", ["get", "head"])
def test_get_and_head_of_the_unsubscribe_link_change_nothing(
    client, link, subscribed, lists, method
) -> None:
    response = getattr(client, method)(link)

    assert response.status_code == 200
    assert status(subscribed, lists[0]) == Subscription.Status.SUBSCRIBED
    assert Contact.objects.get(pk=subscribed.pk).status == Contact.Status.ACTIVE
    assert not ConsentRecord.objects.exists()
    if method == "get":
        page = response.content.decode()
        assert '<html lang="bg"' in page
        assert 'method="post"' in page
        assert "Отписване от Briefings" in page  # "Unsubscribe from Briefings"


def test_a_one_click_post_without_the_rfc_8058_body_changes_nothing(
    client, link, subscribed, lists
) -> None:
    response = client.post(link, {"something": "else"})

    assert response.status_code == 400
    assert status(subscribed, lists[0]) == Subscription.Status.SUBSCRIBED


@pytest.mark.parametrize("token", ["A" * 22, "short", "../x"])
def test_a_wrong_token_gets_a_plain_404_without_redirect(client, token) -> None:
    response = client.post(
        f"/en/unsubscribe/{token}/",
        ONE_CLICK,
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 404
    assert "Location" not in response.headers


def test_the_page_button_unsubscribes_from_the_mails_list_only(
    link, subscribed, lists
) -> None:
    client = Client(enforce_csrf_checks=True)  # a mail program's web view, no cookies

    response = client.post(link, {"action": "list"})

    assert response.status_code == 200
    assert "Location" not in response.headers
    assert status(subscribed, lists[0]) == Subscription.Status.UNSUBSCRIBED
    assert status(subscribed, lists[1]) == Subscription.Status.SUBSCRIBED
    record = ConsentRecord.objects.get(contact=subscribed)
    assert record.source == ConsentRecord.Source.UNSUBSCRIBE_PAGE
    assert record.wording == "Отписване от Briefings"
    assert record.language == "bg"


def test_the_page_can_unsubscribe_from_everything(
    client, link, subscribed, lists
) -> None:
    response = client.post(link, {"action": "all"})

    assert response.status_code == 200
    subscribed.refresh_from_db()
    assert subscribed.status == Contact.Status.UNSUBSCRIBED
    assert is_suppressed(subscribed.email)
    assert {status(subscribed, m) for m in lists} == {Subscription.Status.UNSUBSCRIBED}
    record = ConsentRecord.objects.get(contact=subscribed)
    assert record.action == ConsentRecord.Action.UNSUBSCRIBED_ALL
    assert record.source == ConsentRecord.Source.UNSUBSCRIBE_PAGE
    assert record.wording == "Отписване от всичко"


def test_an_unsubscribe_during_a_batch_holds_for_the_next_message(
    issue, settings
) -> None:
    """A reader who unsubscribes after the batch started gets nothing from it."""
    from newsletter.sending.campaigns import campaign_create
    from newsletter.sending.dispatch import delivery_send_batch
    from newsletter.sending.prepare import campaign_prepare

    mailing_list = MailingListFactory()
    first, later = (ContactFactory(subscribed_to=[mailing_list]) for _ in range(2))
    campaign = campaign_create(page=issue, lists=[mailing_list])
    ids = campaign_prepare(campaign_id=campaign.pk)
    later_delivery = campaign.deliveries.get(contact=later)
    UnsubscribingBackend.link = one_click_url(later_delivery.token, language="en")
    settings.EMAIL_BACKEND = f"{__name__}.UnsubscribingBackend"

    delivery_send_batch(campaign_id=campaign.pk, delivery_ids=ids)

    assert [m.to[0] for m in mail.outbox][0].endswith(f"<{first.email}>")
    assert len(mail.outbox) == 1
    later_delivery.refresh_from_db()
    assert later_delivery.status == "skipped"


class UnsubscribingBackend:
    """Anymail's test backend, where the later reader unsubscribes after the first send."""

    link = ""

    def __new__(cls, *args, **kwargs):
        from anymail.backends.test import EmailBackend

        class Backend(EmailBackend):
            def send_messages(self, messages):
                sent = super().send_messages(messages)
                Client().post(
                    cls.link,
                    ONE_CLICK,
                    content_type="application/x-www-form-urlencoded",
                )
                return sent

        return Backend(*args, **kwargs)
