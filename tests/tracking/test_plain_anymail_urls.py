"""Before newsletter.webhooks_urls is mounted, anymail's own views still store safely."""

from __future__ import annotations

import datetime

import pytest

from newsletter.models import ProviderEvent, TrackingEvent
from newsletter.tasks import provider_events_sweep_task

from .conftest import NOW, load, post

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.tracking.plain_urls")]


def test_anymails_plain_view_stores_and_processes_an_event(
    client, delivery_for, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for("postmark")

    response = post(
        client,
        "postmark",
        load("postmark", "delivered", delivery),
        capture=django_capture_on_commit_callbacks,
    )

    assert response.status_code == 200
    assert TrackingEvent.objects.get().delivery == delivery


def test_anymails_plain_view_answers_a_stale_replay_but_stores_nothing(
    client, delivery_for, clock, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for("postmark")
    payload = load("postmark", "hard_bounce", delivery)
    clock.move_to(NOW + datetime.timedelta(days=2))

    response = post(
        client, "postmark", payload, capture=django_capture_on_commit_callbacks
    )

    assert response.status_code == 200
    assert ProviderEvent.objects.count() == 0


def test_events_whose_task_was_lost_are_queued_again(
    client, delivery_for, clock
) -> None:
    delivery = delivery_for("postmark")
    # No on-commit capture: the task is never queued, as if the broker lost it.
    post(client, "postmark", load("postmark", "delivered", delivery))
    assert ProviderEvent.objects.get().processed_at is None
    assert provider_events_sweep_task() == 0  # too recent to be lost

    clock.move_to(NOW + datetime.timedelta(minutes=11))

    assert provider_events_sweep_task() == 1
    assert ProviderEvent.objects.get().processed_at is not None
    assert TrackingEvent.objects.get().delivery == delivery
    assert provider_events_sweep_task() == 0


@pytest.mark.parametrize("secret", [None, "intruder:password"])
def test_an_sns_subscription_confirmation_without_the_secret_is_refused(
    client, secret, django_capture_on_commit_callbacks
) -> None:
    confirmation = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:relay-ses-events",
        "Message": "You have chosen to subscribe to the topic.",
        "SubscribeURL": "http://169.254.169.254/latest/meta-data/",
        "Timestamp": "2026-11-20T10:00:00.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
    }

    response = post(
        client,
        "amazon_ses",
        confirmation,
        secret=secret,
        capture=django_capture_on_commit_callbacks,
    )

    assert response.status_code in (400, 401)
    assert ProviderEvent.objects.count() == 0
