"""GDPR: export everything held about a contact, and erase a contact.

Erasure replaces personal data with neutral values instead of deleting the row:
deliveries and tracking events point at the contact and feed the reach figures,
which must stay true (DESIGN.md, invariant 8). The contact keeps its kind and
country, which carry no identity on their own; the address survives only as the
hash kept by its suppression, so an erased person who is imported again is
still never mailed.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from wagtail.log_actions import log
from wagtail.models import ModelLogEntry
from wagtail.search.models import IndexEntry

from newsletter.models import (
    ConsentRecord,
    Contact,
    Delivery,
    ProviderEvent,
    Suppression,
    TrackingEvent,
    address_hash,
)
from newsletter.models.tokens import new_token

from .consent import contact_unsubscribe_all

ERASED_DOMAIN = "erased.invalid"
REDACTED = "[erased]"


def erased_email(*, contact_id: int) -> str:
    """Return the unique, undeliverable placeholder address of an erased contact."""
    return f"erased-{contact_id}@{ERASED_DOMAIN}"


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def contact_export_data(*, contact: Contact) -> dict[str, Any]:
    """Return everything held about ``contact`` as JSON-serialisable data.

    Secrets (link tokens) are left out: they are keys, not facts about the person.
    """
    digest = address_hash(contact.email)
    deliveries = (
        Delivery.objects.filter(contact=contact)
        .select_related("campaign")
        .order_by("created_at", "pk")
    )
    events = TrackingEvent.objects.filter(delivery__contact=contact).order_by(
        "occurred_at", "pk"
    )
    events_by_delivery: dict[int, list[dict[str, Any]]] = {}
    for event in events:
        events_by_delivery.setdefault(event.delivery_id, []).append(
            {
                "kind": event.kind,
                "source": event.source,
                "occurred_at": _when(event.occurred_at),
                "is_machine": event.is_machine,
                "user_agent_family": event.user_agent_family,
            }
        )
    history = ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Contact),
        object_id=str(contact.pk),
    ).order_by("timestamp", "pk")
    return {
        "contact": {
            "id": contact.pk,
            "email": contact.email,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "kind": contact.kind,
            "country": contact.country,
            "parliament": contact.parliament,
            "chamber": contact.chamber,
            "party": contact.party,
            "committees": contact.committees,
            "organisation": contact.organisation,
            "is_focal_point": contact.is_focal_point,
            "listed_as_country_contact": contact.listed_as_country_contact,
            "notes": contact.notes,
            "preferred_language": contact.preferred_language,
            "fallback_languages": list(contact.fallback_languages),
            "tracking_consent": contact.tracking_consent,
            "status": contact.status,
            "confirmation_sent_at": _when(contact.confirmation_sent_at),
            "created_at": _when(contact.created_at),
            "updated_at": _when(contact.updated_at),
        },
        "topics": list(contact.topics.order_by("name").values_list("name", flat=True)),
        "subscriptions": [
            {
                "list": subscription.mailing_list.name,
                "list_slug": subscription.mailing_list.slug,
                "status": subscription.status,
                "confirmed_at": _when(subscription.confirmed_at),
                "created_at": _when(subscription.created_at),
                "updated_at": _when(subscription.updated_at),
            }
            for subscription in contact.subscriptions.select_related(
                "mailing_list"
            ).order_by("created_at", "pk")
        ],
        "consent_records": [
            {
                "action": record.action,
                "source": record.source,
                "list_slug": record.mailing_list.slug if record.mailing_list else None,
                "wording": record.wording,
                "language": record.language,
                "client_hash": record.client_hash,
                "created_at": _when(record.created_at),
            }
            for record in ConsentRecord.objects.filter(contact=contact)
            .select_related("mailing_list")
            .order_by("created_at", "pk")
        ],
        "deliveries": [
            {
                "campaign": delivery.campaign.name,
                "language": delivery.language,
                "country": delivery.country,
                "status": delivery.status,
                "reason": delivery.reason,
                "sent_at": _when(delivery.sent_at),
                "created_at": _when(delivery.created_at),
                "events": events_by_delivery.get(delivery.pk, []),
            }
            for delivery in deliveries
        ],
        "suppressions": [
            {
                "reason": suppression.reason,
                "note": suppression.note,
                "created_at": _when(suppression.created_at),
                "lifted_at": _when(suppression.lifted_at),
            }
            for suppression in Suppression.objects.filter(address_hash=digest).order_by(
                "created_at", "pk"
            )
        ],
        "suppressed": Suppression.objects.active().filter(address_hash=digest).exists(),
        "admin_history": [
            {
                "action": entry.action,
                "timestamp": _when(entry.timestamp),
            }
            for entry in history
        ],
    }


def _redact(text: str, needles: list[str]) -> str:
    for needle in needles:
        if needle:
            text = re.sub(re.escape(needle), REDACTED, text, flags=re.IGNORECASE)
    return text


@transaction.atomic(durable=True)
def provider_events_redact(*, contact: Contact) -> int:
    """Blank the raw provider events about ``contact``; return how many (for erasure).

    Raw payloads carry the reader's address. The rows stay, with their type,
    time and delivery, so the figures stay true. Call it before the address is
    overwritten: unprocessed events are found by the address's hash.
    """
    return (
        ProviderEvent.objects.filter(
            Q(delivery__contact=contact) | Q(recipient_hash=contact.address_hash)
        )
        .exclude(payload={}, metadata={})
        .update(payload={}, metadata={})
    )


def contact_erase(*, contact: Contact, user: Any = None) -> Contact:
    """Erase ``contact``'s personal data from every table; keep aggregate figures true.

    Idempotent: erasing an erased contact changes nothing more.
    """
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.status == Contact.Status.ERASED:
        return contact

    # Unsubscribe and suppress first: suppression keeps only the hash of the
    # real address, so the person is never mailed again after erasure.
    contact_unsubscribe_all(contact=contact, source=ConsentRecord.Source.ADMIN)
    contact.refresh_from_db()

    needles = [contact.email, contact.full_name, contact.first_name, contact.last_name]
    needles = sorted({n for n in needles if len(n) >= 3}, key=len, reverse=True)

    provider_events_redact(contact=contact)
    contact.email = erased_email(contact_id=contact.pk)
    contact.first_name = ""
    contact.last_name = ""
    contact.parliament = ""
    contact.chamber = ""
    contact.party = ""
    contact.committees = ""
    contact.organisation = ""
    contact.notes = ""
    contact.is_focal_point = False
    contact.listed_as_country_contact = False
    contact.fallback_languages = []
    contact.tracking_consent = False
    contact.status = Contact.Status.ERASED
    contact.preferences_token = new_token()
    contact.confirmation_sent_at = None
    contact.save()
    contact.topics.clear()

    contact.subscriptions.update(confirm_token="")
    # Consent records stay as the proof they are, but no longer tie back to a
    # client address: the keyed hash of the IP is personal data too. A queryset
    # update is the only write these append-only rows ever get.
    ConsentRecord.objects.filter(contact=contact).update(client_hash="")

    # Deliveries and their events stay for the figures. New tokens make the
    # old links in mailboxes dead, and provider texts lose the address.
    for delivery in Delivery.objects.filter(contact=contact).only("pk", "reason"):
        Delivery.objects.filter(pk=delivery.pk).update(
            token=new_token(), reason=_redact(delivery.reason, needles)
        )

    content_type = ContentType.objects.get_for_model(Contact)
    object_id = str(contact.pk)
    label = str(contact)
    ModelLogEntry.objects.filter(content_type=content_type, object_id=object_id).update(
        label=label, data={}
    )
    IndexEntry.objects.filter(content_type=content_type, object_id=object_id).delete()

    log(instance=contact, action="newsletter.erase", user=user)
    return contact
