"""Provider webhooks: authenticate, refuse stale replays, store raw, answer fast.

anymail's tracking views authenticate every post (``ANYMAIL["WEBHOOK_SECRET"]``
basic auth, plus the provider's signature where it has one: Mailgun's HMAC,
SendGrid's ECDSA, Postal's RSA, Mandrill, MailerSend, Resend's Svix, ...) and
send one ``anymail.signals.tracking`` per event. The receiver stores each event
as a ProviderEvent, unique on (provider, event id), and queues its processing
on the ``tracking`` queue once the row is committed.

Replays: anymail checks signatures but not their age (Mailgun's signed
timestamp is never compared with the clock). ``ReplayWindowMixin`` wraps each
of anymail's tracking views and answers 400, storing nothing, when every event
of a post is older than ``RELAY_WEBHOOK_MAX_AGE`` seconds; in a batch that
mixes old and new (SendGrid batches retries), only the old ones are dropped.
The store service refuses stale events too, so the window holds even where the
plain anymail views are mounted.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.signals import AnymailTrackingEvent
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from newsletter.audience.consent import client_hash
from newsletter.models import ProviderEvent, address_hash

logger = logging.getLogger(__name__)

# Keys under which providers put a client's IP address; stored only as keyed hashes.
_IP_KEYS = frozenset(
    {"ip", "ipaddress", "ip_address", "ip-address", "clientip", "client-ip", "sourceip"}
)


def provider_slug(esp_name: str) -> str:
    """Return the stored provider name: "Amazon SES" -> "amazon_ses"."""
    return esp_name.strip().lower().replace(" ", "_")


def without_ips(value: Any) -> Any:
    """Return ``value`` with every IP address replaced by its keyed hash."""
    if isinstance(value, Mapping):
        return {
            key: (
                client_hash(str(item))
                if str(key).lower() in _IP_KEYS and isinstance(item, str)
                else without_ips(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [without_ips(item) for item in value]
    return value


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=str))


def event_key(event: AnymailTrackingEvent, payload: Any) -> str:
    """Return the id to deduplicate on: the provider's, else a digest of the event.

    Amazon SES shares one notification id among the recipients of a message,
    so the recipient's hash is part of the key.
    """
    recipient = address_hash(event.recipient)[:16] if event.recipient else ""
    if event.event_id:
        base = str(event.event_id)[:160]
    else:
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        base = "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{base}/{recipient}" if recipient else base


def max_age() -> timedelta:
    """Return how old an event may be before it is refused as a replay."""
    return timedelta(seconds=settings.RELAY_WEBHOOK_MAX_AGE)


def signed_timestamp(event: AnymailTrackingEvent) -> datetime | None:
    """Return the time the provider vouches for: Mailgun's signed one, else the event's."""
    esp_event = event.esp_event
    if isinstance(esp_event, Mapping):
        signature = esp_event.get("signature")
        if isinstance(signature, Mapping) and "timestamp" in signature:
            try:
                return datetime.fromtimestamp(int(signature["timestamp"]), tz=UTC)
            except (TypeError, ValueError):
                return None
    return event.timestamp


def is_stale(event: AnymailTrackingEvent, *, now: datetime | None = None) -> bool:
    """Return whether ``event`` is older than the replay window (undated events are not)."""
    stamp = signed_timestamp(event)
    if stamp is None:
        return False
    return stamp < (now or timezone.now()) - max_age()


@transaction.atomic(durable=True)
def provider_event_store(
    *, event: AnymailTrackingEvent, esp_name: str
) -> ProviderEvent | None:
    """Store one webhook event raw; return it, or None for a duplicate or stale replay.

    Duplicates are dropped by the unique constraint at insert, never by a
    check in Python, so concurrent retries of one event store it once.
    """
    if is_stale(event):
        logger.warning("Refused a %s event older than the replay window.", esp_name)
        return None
    payload = without_ips(_jsonable(event.esp_event or {}))
    try:
        with transaction.atomic():
            return ProviderEvent.objects.create(
                provider=provider_slug(esp_name),
                event_id=event_key(event, payload),
                event_type=str(event.event_type or "unknown")[:16],
                occurred_at=event.timestamp,
                message_id=str(event.message_id or "")[:255],
                recipient_hash=address_hash(event.recipient) if event.recipient else "",
                metadata=_jsonable(event.metadata or {}),
                payload=payload,
            )
    except IntegrityError:
        return None  # a duplicate or replay of an event already stored


def tracking_received(
    sender: object, event: AnymailTrackingEvent, esp_name: str, **kwargs: object
) -> None:
    """Store an anymail tracking event and queue its processing after commit."""
    from newsletter.tasks import provider_event_process_task

    stored = provider_event_store(event=event, esp_name=esp_name)
    if stored is not None:
        provider_event_process_task.delay_on_commit(stored.pk)


class ReplayWindowMixin:
    """Refuse (HTTP 400) a post whose events are all older than the replay window.

    Put it before one of anymail's tracking views; the view's own
    authentication runs first, so an unauthenticated post learns nothing.
    """

    def parse_events(self, request: HttpRequest) -> list[AnymailTrackingEvent]:
        events = super().parse_events(request)  # type: ignore[misc]
        now = timezone.now()
        fresh = [event for event in events if not is_stale(event, now=now)]
        if events and not fresh:
            raise AnymailWebhookValidationFailure(
                "Webhook event older than RELAY_WEBHOOK_MAX_AGE (a replay?)"
            )
        return fresh
