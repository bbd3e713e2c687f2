"""Consent: every change is a service call that also appends a ConsentRecord.

The current state (Contact.status, Contact.tracking_consent, Subscription.status)
changes only here, so the record of how it came to be is always complete.
Calls are idempotent: repeating one changes nothing more and records nothing.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from newsletter.models import (
    ConsentRecord,
    Contact,
    MailingList,
    Subscription,
    Suppression,
)

from .suppression import suppression_add, suppression_lift

Action = ConsentRecord.Action
Source = ConsentRecord.Source


def client_hash(address: str) -> str:
    """Return a keyed hash of a client IP address: raw addresses are never stored."""
    if not address:
        return ""
    return salted_hmac("newsletter.client", address, algorithm="sha256").hexdigest()


def consent_record(
    *,
    contact: Contact,
    action: str,
    source: str,
    mailing_list: MailingList | None = None,
    wording: str = "",
    language: str = "",
    client: str = "",
) -> ConsentRecord:
    """Append one consent record."""
    return ConsentRecord.objects.create(
        contact=contact,
        mailing_list=mailing_list,
        action=action,
        source=source,
        wording=wording,
        language=language,
        client_hash=client_hash(client),
    )


@transaction.atomic
def subscription_subscribe(
    *,
    contact: Contact,
    mailing_list: MailingList,
    source: str,
    wording: str = "",
    language: str = "",
    client: str = "",
) -> Subscription:
    """Subscribe ``contact`` to ``mailing_list`` with consent given (import, admin, confirmation).

    A suppressed address stays suppressed: only a confirmed double opt-in
    (``subscription_confirm``) lifts a suppression.
    """
    subscription, _ = Subscription.objects.select_for_update().get_or_create(
        contact=contact, mailing_list=mailing_list
    )
    if subscription.status == Subscription.Status.SUBSCRIBED:
        return subscription
    subscription.status = Subscription.Status.SUBSCRIBED
    subscription.confirmed_at = timezone.now()
    subscription.confirm_token = ""
    subscription.save(
        update_fields=["status", "confirmed_at", "confirm_token", "updated_at"]
    )
    consent_record(
        contact=contact,
        action=Action.SUBSCRIBED,
        source=source,
        mailing_list=mailing_list,
        wording=wording,
        language=language,
        client=client,
    )
    return subscription


@transaction.atomic
def subscription_confirm(
    *,
    subscription: Subscription,
    wording: str = "",
    language: str = "",
    client: str = "",
) -> Subscription:
    """Confirm a double opt-in: subscribe, reactivate the contact, lift suppression."""
    contact = subscription.contact
    if contact.status in (
        Contact.Status.UNSUBSCRIBED,
        Contact.Status.BOUNCED,
        Contact.Status.COMPLAINED,
    ):
        contact.status = Contact.Status.ACTIVE
        contact.save(update_fields=["status", "updated_at"])
    suppression_lift(email=contact.email)
    return subscription_subscribe(
        contact=contact,
        mailing_list=subscription.mailing_list,
        source=Source.CONFIRMATION,
        wording=wording,
        language=language,
        client=client,
    )


@transaction.atomic
def subscription_unsubscribe(
    *,
    contact: Contact,
    mailing_list: MailingList,
    source: str,
    wording: str = "",
    language: str = "",
    client: str = "",
) -> bool:
    """Unsubscribe ``contact`` from one list; return whether anything changed."""
    changed = (
        Subscription.objects.filter(contact=contact, mailing_list=mailing_list)
        .exclude(status=Subscription.Status.UNSUBSCRIBED)
        .update(
            status=Subscription.Status.UNSUBSCRIBED,
            confirm_token="",
            updated_at=timezone.now(),
        )
    )
    if changed:
        consent_record(
            contact=contact,
            action=Action.UNSUBSCRIBED,
            source=source,
            mailing_list=mailing_list,
            wording=wording,
            language=language,
            client=client,
        )
    return bool(changed)


@transaction.atomic
def contact_unsubscribe_all(
    *,
    contact: Contact,
    source: str,
    wording: str = "",
    language: str = "",
    client: str = "",
) -> bool:
    """Unsubscribe ``contact`` from everything and suppress the address; return whether it changed."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    Subscription.objects.filter(contact=contact).exclude(
        status=Subscription.Status.UNSUBSCRIBED
    ).update(
        status=Subscription.Status.UNSUBSCRIBED,
        confirm_token="",
        updated_at=timezone.now(),
    )
    suppression_add(email=contact.email, reason=Suppression.Reason.UNSUBSCRIBED)
    if contact.status == Contact.Status.UNSUBSCRIBED:
        return False
    contact.status = Contact.Status.UNSUBSCRIBED
    contact.save(update_fields=["status", "updated_at"])
    consent_record(
        contact=contact,
        action=Action.UNSUBSCRIBED_ALL,
        source=source,
        wording=wording,
        language=language,
        client=client,
    )
    return True


@transaction.atomic
def tracking_consent_set(
    *,
    contact: Contact,
    granted: bool,
    source: str,
    wording: str = "",
    language: str = "",
    client: str = "",
) -> bool:
    """Give or withdraw consent to open and click tracking; return whether it changed."""
    changed = (
        Contact.objects.filter(pk=contact.pk)
        .exclude(tracking_consent=granted)
        .update(tracking_consent=granted, updated_at=timezone.now())
    )
    contact.tracking_consent = granted
    if changed:
        consent_record(
            contact=contact,
            action=Action.TRACKING_GRANTED if granted else Action.TRACKING_WITHDRAWN,
            source=source,
            wording=wording,
            language=language,
            client=client,
        )
    return bool(changed)
