"""Golden provider payloads replayed through anymail's real webhook views."""

from __future__ import annotations

import datetime

import pytest

from newsletter.models import (
    Contact,
    DeliveryOutcome,
    ProviderEvent,
    Suppression,
    TrackingEvent,
)

from .conftest import NOW, PROVIDERS, load, post, sign_mailgun

pytestmark = pytest.mark.django_db

# SendGrid's "delivered" post is a batch: SendGrid's "processed", then "delivered".
STORED_FOR_DELIVERED = {"sendgrid": 2}


def counts() -> tuple[int, int, int, list[str]]:
    return (
        ProviderEvent.objects.count(),
        TrackingEvent.objects.count(),
        Suppression.objects.count(),
        list(DeliveryOutcome.objects.values_list("state", flat=True)),
    )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_delivered_event_is_stored_raw_then_recorded_on_its_delivery(
    client, delivery_for, provider, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for(provider)

    response = post(
        client,
        provider,
        load(provider, "delivered", delivery),
        capture=django_capture_on_commit_callbacks,
    )

    assert response.status_code == 200
    stored = ProviderEvent.objects.filter(event_type="delivered").get()
    assert ProviderEvent.objects.count() == STORED_FOR_DELIVERED.get(provider, 1)
    assert (stored.provider, stored.delivery) == (provider, delivery)
    assert stored.processed_at is not None and stored.error == ""
    assert stored.payload  # the raw event is kept
    event = TrackingEvent.objects.get()
    assert (event.delivery, event.kind, event.source) == (
        delivery,
        "delivered",
        "provider",
    )
    assert delivery.outcome.state == "delivered"


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("secret", [None, "relay-hook:wrong", "intruder:password"])
def test_a_missing_or_wrong_secret_gets_4xx_and_stores_nothing(
    client, delivery_for, provider, secret, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for(provider)

    response = post(
        client,
        provider,
        load(provider, "hard_bounce", delivery),
        secret=secret,
        capture=django_capture_on_commit_callbacks,
    )

    assert 400 <= response.status_code < 500
    assert counts() == (0, 0, 0, [])
    delivery.contact.refresh_from_db()
    assert delivery.contact.status == Contact.Status.ACTIVE


def test_a_bad_mailgun_signature_gets_400_and_stores_nothing(
    client, delivery_for, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for("mailgun")
    payload = load("mailgun", "hard_bounce", delivery)
    sign_mailgun(payload, key="not-the-signing-key")

    response = post(
        client, "mailgun", payload, capture=django_capture_on_commit_callbacks
    )

    assert response.status_code == 400
    assert counts() == (0, 0, 0, [])


def test_a_bad_sendgrid_signature_gets_400_and_stores_nothing(
    client, delivery_for, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for("sendgrid")

    response = post(
        client,
        "sendgrid",
        load("sendgrid", "hard_bounce", delivery),
        sign=False,
        capture=django_capture_on_commit_callbacks,
    )

    assert response.status_code == 400
    assert counts() == (0, 0, 0, [])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_repeated_event_changes_no_count(
    client, delivery_for, provider, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for(provider)
    payload = load(provider, "hard_bounce", delivery)
    post(client, provider, payload, capture=django_capture_on_commit_callbacks)
    once = counts()

    for _ in range(4):
        response = post(
            client, provider, payload, capture=django_capture_on_commit_callbacks
        )
        assert response.status_code == 200

    assert counts() == once == (1, 1, 1, ["bounced"])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_replay_older_than_the_window_gets_400_and_stores_nothing(
    client, delivery_for, provider, clock, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for(provider)
    payload = load(provider, "hard_bounce", delivery)
    clock.move_to(NOW + datetime.timedelta(days=2))

    response = post(
        client, provider, payload, capture=django_capture_on_commit_callbacks
    )

    assert response.status_code == 400
    assert counts() == (0, 0, 0, [])


def test_a_mailgun_replay_cannot_freshen_its_unsigned_event_time(
    client, delivery_for, clock, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for("mailgun")
    payload = load("mailgun", "hard_bounce", delivery)
    clock.move_to(NOW + datetime.timedelta(days=2))
    payload["event-data"]["timestamp"] = (NOW + datetime.timedelta(days=2)).timestamp()

    response = post(
        client, "mailgun", payload, capture=django_capture_on_commit_callbacks
    )

    assert response.status_code == 400
    assert counts() == (0, 0, 0, [])


def test_the_window_is_configurable(
    client, delivery_for, settings, django_capture_on_commit_callbacks
) -> None:
    settings.RELAY_WEBHOOK_MAX_AGE = 60  # the payload is 28 minutes old
    delivery = delivery_for("postmark")

    response = post(
        client,
        "postmark",
        load("postmark", "hard_bounce", delivery),
        capture=django_capture_on_commit_callbacks,
    )

    assert response.status_code == 400
    assert ProviderEvent.objects.count() == 0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_delivered_after_bounced_stays_bounced(
    client, delivery_for, provider, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for(provider)
    for name in ("hard_bounce", "delivered"):
        post(
            client,
            provider,
            load(provider, name, delivery),
            capture=django_capture_on_commit_callbacks,
        )

    delivery.outcome.refresh_from_db()
    assert delivery.outcome.state == "bounced"
    assert set(TrackingEvent.objects.values_list("kind", flat=True)) == {
        "bounced",
        "delivered",
    }


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_complaint_before_its_delivery_stays_a_complaint(
    client, delivery_for, provider, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for(provider)
    for name in ("complained", "delivered"):
        post(
            client,
            provider,
            load(provider, name, delivery),
            capture=django_capture_on_commit_callbacks,
        )

    delivery.outcome.refresh_from_db()
    assert delivery.outcome.state == "complained"


@pytest.mark.parametrize("provider", ["mailgun", "sendgrid"])
def test_a_deferral_after_delivery_does_not_move_it_back(
    client, delivery_for, provider, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for(provider)
    for name in ("delivered", "deferred"):
        post(
            client,
            provider,
            load(provider, name, delivery),
            capture=django_capture_on_commit_callbacks,
        )

    delivery.outcome.refresh_from_db()
    assert delivery.outcome.state == "delivered"


def test_events_map_to_deliveries_by_message_id_without_metadata(
    client, delivery_for, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for("postmark")
    payload = load("postmark", "delivered", delivery)
    del payload["Metadata"]

    post(client, "postmark", payload, capture=django_capture_on_commit_callbacks)

    assert ProviderEvent.objects.get().delivery == delivery
    assert TrackingEvent.objects.get().delivery == delivery


def test_an_event_for_no_known_delivery_is_kept_with_the_reason(
    client, delivery_for, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for("postmark")
    payload = load("postmark", "delivered", delivery)
    payload["Metadata"] = {}
    payload["MessageID"] = "00000000-0000-0000-0000-000000000000"

    response = post(
        client, "postmark", payload, capture=django_capture_on_commit_callbacks
    )

    assert response.status_code == 200
    stored = ProviderEvent.objects.get()
    assert stored.delivery is None
    assert stored.error == "No delivery matches this event."
    assert TrackingEvent.objects.count() == 0


@pytest.mark.parametrize("provider", ["mailgun", "postmark", "amazon_ses", "sendgrid"])
def test_client_ip_addresses_are_never_stored(
    client, delivery_for, provider, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for(provider)
    name = "opened"
    post(
        client,
        provider,
        load(provider, name, delivery),
        capture=django_capture_on_commit_callbacks,
    )

    stored = str(ProviderEvent.objects.values_list("payload", flat=True).get())
    for address in ("50.56.129.169", "188.2.95.4", "192.0.2.1", "255.255.255.255"):
        assert address not in stored


def test_a_provider_unsubscribe_unsubscribes_the_contact_from_everything(
    client, delivery_for, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for("sendgrid")
    payload = load("sendgrid", "complained", delivery)
    payload[0]["event"] = "unsubscribe"

    post(client, "sendgrid", payload, capture=django_capture_on_commit_callbacks)

    delivery.contact.refresh_from_db()
    assert delivery.contact.status == Contact.Status.UNSUBSCRIBED
    assert delivery.contact.consent_records.get().source == "provider"


def test_erasure_blanks_the_raw_events_that_carry_the_address(
    client, delivery_for, django_capture_on_commit_callbacks
) -> None:
    from newsletter.audience.gdpr import provider_events_redact

    delivery = delivery_for("postmark")
    for name in ("delivered", "opened"):
        post(
            client,
            "postmark",
            load("postmark", name, delivery),
            capture=django_capture_on_commit_callbacks,
        )

    assert provider_events_redact(contact=delivery.contact) == 2

    for stored in ProviderEvent.objects.all():
        assert delivery.contact.email not in str(stored.payload)
        assert (stored.payload, stored.metadata) == ({}, {})
        assert stored.delivery == delivery  # the figures keep their rows
