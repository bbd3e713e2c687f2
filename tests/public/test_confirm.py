"""Confirming a double opt-in: single-use links, a button before anything changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from newsletter.audience.optin import subscription_request
from newsletter.audience.suppression import is_suppressed, suppression_add
from newsletter.models import ConsentRecord, Contact, Subscription, Suppression
from newsletter.tracking.tokens import confirm_url
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_subscription(public_list, django_capture_on_commit_callbacks):
    """Return a function that asks to subscribe ``email`` and returns its confirm link."""

    def ask(email: str, *, tracking: bool = False) -> tuple[Subscription, str]:
        with django_capture_on_commit_callbacks(execute=False):
            subscription = subscription_request(
                email=email,
                mailing_list=public_list,
                language="bg",
                tracking=tracking,
                client="192.0.2.1",
                wording="I want to receive this newsletter.",
            )
        link = confirm_url(subscription.confirm_token, language="bg", tracking=tracking)
        return subscription, link

    return ask


@pytest.mark.parametrize("method", ["get", "head"])
def test_opening_the_link_changes_nothing_and_shows_a_button(
    client, request_subscription, method
) -> None:
    subscription, link = request_subscription("new@example.org")

    response = getattr(client, method)(link)

    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.PENDING
    assert subscription.confirm_token
    assert not ConsentRecord.objects.filter(
        action=ConsentRecord.Action.SUBSCRIBED
    ).exists()
    if method == "get":
        page = response.content.decode()
        assert 'method="post"' in page
        assert "new@example.org" not in page  # the address is masked


def test_the_button_confirms_once_and_the_link_is_then_used_up(
    client, request_subscription
) -> None:
    subscription, link = request_subscription("new@example.org")

    response = client.post(link)
    again = client.post(link)

    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.SUBSCRIBED
    assert subscription.confirm_token == ""
    assert subscription.confirmed_at is not None
    record = ConsentRecord.objects.get(action=ConsentRecord.Action.SUBSCRIBED)
    assert record.source == ConsentRecord.Source.CONFIRMATION
    assert record.language == "bg"
    assert record.wording == "Да, абонирайте ме"  # the button the reader pressed
    assert again.status_code == 404
    assert "Този линк вече не е валиден" in again.content.decode()
    assert ConsentRecord.objects.filter(action="subscribed").count() == 1


def test_an_unknown_link_gets_a_friendly_404(client) -> None:
    response = client.get("/en/subscribe/confirm/AAAAAAAAAAAAAAAAAAAAAA/")

    assert response.status_code == 404
    assert "This link is no longer valid" in response.content.decode()


def test_a_link_older_than_a_week_no_longer_confirms(
    client, request_subscription, clock
) -> None:
    subscription, link = request_subscription("slow@example.org")
    clock.shift(timedelta(days=8))

    response = client.post(link)

    assert response.status_code == 404
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.PENDING


def test_a_suppressed_address_stays_suppressed_until_it_confirms(
    client, public_list, request_subscription
) -> None:
    former = ContactFactory(
        email="former@example.org", status=Contact.Status.UNSUBSCRIBED
    )
    suppression_add(email=former.email, reason=Suppression.Reason.UNSUBSCRIBED)

    subscription, link = request_subscription(former.email)

    assert is_suppressed(former.email)
    assert (
        not Contact.objects.deliverable_for(public_list).filter(pk=former.pk).exists()
    )

    client.post(link)

    assert not is_suppressed(former.email)
    assert Contact.objects.deliverable_for(public_list).filter(pk=former.pk).exists()


def test_tracking_agreed_on_the_form_is_granted_only_on_confirmation(
    client, request_subscription
) -> None:
    subscription, link = request_subscription("tracked@example.org", tracking=True)
    contact = subscription.contact
    assert contact.tracking_consent is False

    client.post(link)

    contact.refresh_from_db()
    assert contact.tracking_consent is True
    record = ConsentRecord.objects.get(action=ConsentRecord.Action.TRACKING_GRANTED)
    assert record.source == ConsentRecord.Source.CONFIRMATION
    assert record.wording.startswith("Съгласен/на съм")


def test_a_forged_tracking_note_grants_nothing(client, request_subscription) -> None:
    subscription, link = request_subscription("plain@example.org")

    client.post(link + "?tracking=forged")

    subscription.contact.refresh_from_db()
    assert subscription.contact.tracking_consent is False
    assert not ConsentRecord.objects.filter(action="tracking_granted").exists()


def test_the_confirmation_mail_is_rendered_in_the_subscribers_language(
    request_subscription, eager_tasks
) -> None:
    from newsletter.tasks import confirmation_send_task

    subscription, link = request_subscription("mail@example.org")

    confirmation_send_task(subscription.pk, "el", False)

    (message,) = mail.outbox
    html = message.alternatives[0][0]
    assert message.subject == "Παρακαλούμε επιβεβαιώστε την εγγραφή σας"
    assert '<html lang="el"' in html
    assert "<style" not in html  # inlined
    assert confirm_url(subscription.confirm_token, language="el") in message.body
