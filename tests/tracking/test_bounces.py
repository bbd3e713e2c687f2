"""What bounces and complaints do to readers, replayed through the webhooks."""

from __future__ import annotations

import datetime

import pytest

from newsletter.models import Contact, ProviderEvent, Suppression, TrackingEvent
from newsletter.tracking.events import provider_event_process
from tests.factories import ContactFactory, MailingListFactory

from .conftest import NOW, PROVIDERS, load, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def secretariat_user(django_user_model):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(
        "sec", email="desk@relay.example.org", password="x"
    )
    user.groups.add(Group.objects.get(name="Secretariat"))
    django_user_model.objects.create_user(
        "other", email="other@relay.example.org", password="x"
    )
    return user


def send(client, provider, name, delivery, capture) -> None:
    response = post(client, provider, load(provider, name, delivery), capture=capture)
    assert response.status_code == 200


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_hard_bounce_suppresses_the_address_at_once(
    client, delivery_for, provider, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for(provider)

    send(client, provider, "hard_bounce", delivery, django_capture_on_commit_callbacks)

    contact = delivery.contact
    contact.refresh_from_db()
    assert contact.status == Contact.Status.BOUNCED
    assert Suppression.objects.active().get().reason == "hard_bounce"
    assert not Contact.objects.deliverable().filter(pk=contact.pk).exists()
    assert TrackingEvent.objects.get().bounce_class == "hard"


@pytest.mark.parametrize("provider", ["postmark", "amazon_ses", "brevo"])
def test_one_soft_bounce_is_counted_but_suppresses_nobody(
    client, delivery_for, provider, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for(provider)

    send(client, provider, "soft_bounce", delivery, django_capture_on_commit_callbacks)

    delivery.contact.refresh_from_db()
    assert delivery.contact.status == Contact.Status.ACTIVE
    assert Suppression.objects.count() == 0
    assert TrackingEvent.objects.get().bounce_class == "soft"
    assert delivery.outcome.state == "soft_bounced"


def test_soft_bounces_suppress_after_several_over_days(
    client, home_page, clock, django_capture_on_commit_callbacks
) -> None:
    from .conftest import make_delivery

    contact = ContactFactory()
    for day in (0, 4, 8):
        clock.move_to(NOW + datetime.timedelta(days=day))
        delivery = make_delivery(home_page, provider="postmark", contact=contact)
        payload = load("postmark", "soft_bounce", delivery)
        payload["ID"] += day
        payload["BouncedAt"] = (NOW + datetime.timedelta(days=day)).isoformat()
        post(client, "postmark", payload, capture=django_capture_on_commit_callbacks)
        contact.refresh_from_db()
        suppressed = Suppression.objects.active().exists()
        assert suppressed == (day == 8), day

    assert contact.status == Contact.Status.BOUNCED


def test_soft_bounces_on_one_bad_day_suppress_nobody(
    client, home_page, django_capture_on_commit_callbacks
) -> None:
    from .conftest import make_delivery

    contact = ContactFactory()
    for attempt in range(5):
        delivery = make_delivery(home_page, provider="postmark", contact=contact)
        payload = load("postmark", "soft_bounce", delivery)
        payload["ID"] += attempt
        post(client, "postmark", payload, capture=django_capture_on_commit_callbacks)

    assert TrackingEvent.objects.filter(bounce_class="soft").count() == 5
    assert Suppression.objects.count() == 0


@pytest.mark.parametrize("provider", ["mailgun", "amazon_ses", "sendgrid"])
def test_a_policy_block_alerts_the_secretariat_and_never_suppresses_the_reader(
    client,
    delivery_for,
    provider,
    mailoutbox,
    secretariat_user,
    django_capture_on_commit_callbacks,
) -> None:
    delivery = delivery_for(provider)

    send(client, provider, "policy_block", delivery, django_capture_on_commit_callbacks)

    delivery.contact.refresh_from_db()
    assert delivery.contact.status == Contact.Status.ACTIVE
    assert Suppression.objects.count() == 0
    assert TrackingEvent.objects.get().bounce_class == "block"
    to_secretariat, to_admins = mailoutbox
    assert to_secretariat.to == [secretariat_user.email]
    assert to_admins.to == ["admins@relay.example.org"]
    assert "policy or reputation" in to_secretariat.subject


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_complaint_suppresses_the_address_everywhere(
    client, delivery_for, provider, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for(provider)
    other_list = MailingListFactory()
    delivery.contact.subscriptions.create(mailing_list=other_list, status="subscribed")

    send(client, provider, "complained", delivery, django_capture_on_commit_callbacks)

    delivery.contact.refresh_from_db()
    assert delivery.contact.status == Contact.Status.COMPLAINED
    assert Suppression.objects.active().get().reason == "complaint"
    for mailing_list in (*delivery.campaign.lists.all(), other_list):
        audience = Contact.objects.deliverable_for(mailing_list)
        assert not audience.filter(pk=delivery.contact.pk).exists()


def test_a_complaint_after_erasure_still_suppresses_the_real_address(
    client, delivery_for, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for("postmark")
    payload = load("postmark", "complained", delivery)
    real_address = delivery.contact.email
    Contact.objects.filter(pk=delivery.contact.pk).update(
        email=f"erased-{delivery.contact.pk}@erased.invalid", status="erased"
    )

    post(client, "postmark", payload, capture=django_capture_on_commit_callbacks)

    from newsletter.audience.suppression import is_suppressed

    assert is_suppressed(real_address)
    delivery.contact.refresh_from_db()
    assert delivery.contact.status == Contact.Status.ERASED


def test_processing_twice_changes_nothing_the_second_time(
    client, delivery_for, django_capture_on_commit_callbacks
) -> None:
    delivery = delivery_for("postmark")
    send(
        client, "postmark", "hard_bounce", delivery, django_capture_on_commit_callbacks
    )
    stored = ProviderEvent.objects.get()

    again = provider_event_process(provider_event_id=stored.pk)
    ProviderEvent.objects.filter(pk=stored.pk).update(processed_at=None)
    redelivered = provider_event_process(provider_event_id=stored.pk)

    assert again is None
    assert redelivered is not None and redelivered.error == ""
    assert TrackingEvent.objects.count() == 1
    assert Suppression.objects.count() == 1
