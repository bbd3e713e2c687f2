"""Fixtures for provider webhooks: signed golden payloads posted through anymail."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from django.utils import timezone

from cms.celery import app
from newsletter.models import Campaign, Contact, Delivery
from tests.factories import ContactFactory, MailingListFactory

PAYLOADS = Path(__file__).resolve().parent.parent / "esp_payloads"
PROVIDERS = ["mailgun", "postmark", "amazon_ses", "brevo", "sendgrid"]
SECRET = "relay-hook:correct-horse-battery"
MAILGUN_KEY = "mailgun-signing-key-for-tests"
# The golden payloads happen on 2026-11-20 from 10:00 UTC; the tests live at 10:30.
NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
SENT_AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
BARE_MESSAGE_ID = "20261120100000.1.5F3A9C@relay.example.org"
SENDGRID_KEY = ec.generate_private_key(ec.SECP256R1())


def message_id(provider: str) -> str:
    """Return the message id anymail reports for a provider (Mailgun adds brackets)."""
    return f"<{BARE_MESSAGE_ID}>" if provider == "mailgun" else BARE_MESSAGE_ID


@pytest.fixture(autouse=True)
def webhook_settings(settings) -> None:
    """Authenticate webhooks with a shared secret and each provider's signature key."""
    public = SENDGRID_KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings.ANYMAIL = {
        "WEBHOOK_SECRET": SECRET,
        "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY,
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": base64.b64encode(public).decode(),
        # Subscription confirmations would go through boto3; none are expected.
        "AMAZON_SES_AUTO_CONFIRM_SNS_SUBSCRIPTIONS": False,
    }
    settings.RELAY_WEBHOOK_MAX_AGE = 86400
    settings.ADMINS = [("Admins", "admins@relay.example.org")]


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def eager_tasks() -> Iterator[None]:
    """Run Celery tasks in-process as soon as they are queued."""
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


def make_delivery(
    page, *, provider: str = "mailgun", contact: Contact | None = None, **contact_fields
) -> Delivery:
    mailing_list = MailingListFactory()
    contact = contact or ContactFactory(subscribed_to=[mailing_list], **contact_fields)
    campaign = Campaign.objects.create(name="Issue one", page=page)
    campaign.lists.add(mailing_list)
    return Delivery.objects.create(
        campaign=campaign,
        contact=contact,
        language=contact.preferred_language,
        country=contact.country,
        status=Delivery.Status.SENT,
        sent_at=SENT_AT,
        provider_message_id=message_id(provider),
    )


@pytest.fixture
def delivery_for(home_page) -> Callable[..., Delivery]:
    """Return a function making a sent delivery of a new campaign for a provider."""

    def make(provider: str = "mailgun", **contact_fields: Any) -> Delivery:
        return make_delivery(home_page, provider=provider, **contact_fields)

    return make


def load(provider: str, name: str, delivery: Delivery) -> Any:
    """Return a golden payload filled in for ``delivery``."""
    text = (PAYLOADS / provider / f"{name}.json").read_text(encoding="utf-8")
    for placeholder, value in {
        "__DELIVERY_ID__": str(delivery.pk),
        "__RECIPIENT__": delivery.contact.email,
        "__MESSAGE_ID_BARE__": BARE_MESSAGE_ID,
        "__MESSAGE_ID__": message_id(provider),
    }.items():
        text = text.replace(placeholder, value)
    payload = json.loads(text)
    if provider == "mailgun":
        sign_mailgun(payload)
    return payload


def sign_mailgun(payload: dict[str, Any], key: str = MAILGUN_KEY) -> None:
    """Sign a Mailgun payload as Mailgun does: HMAC-SHA256 over timestamp + token."""
    block = payload["signature"]
    block["signature"] = hmac.new(
        key.encode(), f"{block['timestamp']}{block['token']}".encode(), hashlib.sha256
    ).hexdigest()


def post(
    client: Client,
    provider: str,
    payload: Any,
    *,
    secret: str | None = SECRET,
    sign: bool = True,
    capture: Callable[..., Any] | None = None,
) -> Any:
    """Post ``payload`` to the provider's tracking webhook as the provider would."""
    body = json.dumps(payload)
    headers: dict[str, str] = {}
    if secret is not None:
        headers["HTTP_AUTHORIZATION"] = (
            "Basic " + base64.b64encode(secret.encode()).decode()
        )
    if provider == "amazon_ses":
        headers["HTTP_X_AMZ_SNS_MESSAGE_TYPE"] = payload["Type"]
        headers["HTTP_X_AMZ_SNS_MESSAGE_ID"] = payload["MessageId"]
        headers["HTTP_X_AMZ_SNS_TOPIC_ARN"] = payload["TopicArn"]
    if provider == "sendgrid":
        stamp = str(int(timezone.now().timestamp()))
        signature = SENDGRID_KEY.sign(
            stamp.encode() + body.encode(), ec.ECDSA(hashes.SHA256())
        )
        if not sign:
            signature = SENDGRID_KEY.sign(b"something else", ec.ECDSA(hashes.SHA256()))
        headers["HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE"] = base64.b64encode(
            signature
        ).decode()
        headers["HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP"] = stamp
    url = f"/anymail/{provider}/tracking/"
    if capture is None:
        return client.post(url, body, content_type="application/json", **headers)
    with capture(execute=True):
        return client.post(url, body, content_type="application/json", **headers)
