"""Double opt-in from the public subscribe form.

The form must not become a way to flood someone's inbox or to learn whether
an address is known (reliability.md, checks 33 and 36):

- at most one confirmation mail per address in ``CONFIRMATION_WINDOW``, claimed
  with a conditional UPDATE so that concurrent requests cannot both send;
- at most ``CLIENT_LIMIT`` requests per client address per hour;
- no mail for an address that is already subscribed;
- whatever happens, the caller learns nothing: the service returns nothing the
  view could tell apart.

Nothing about a known contact changes until its owner confirms: the form
cannot rename someone or switch their tracking consent.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from newsletter.models import ConsentRecord, Contact, MailingList, Subscription
from newsletter.models.tokens import new_token

from .consent import (
    client_hash,
    consent_record,
    subscription_confirm,
    tracking_consent_set,
)
from .contacts import contact_upsert, normalise_email
from .suppression import is_suppressed

CONFIRMATION_WINDOW = timedelta(hours=24)
CONFIRMATION_VALID = timedelta(days=7)
CLIENT_LIMIT = 10
CLIENT_PERIOD = 3600  # seconds


def client_allowance_take(*, client: str) -> bool:
    """Count one subscribe request from ``client``; return whether it is within the limit."""
    if not client:
        return True
    key = "newsletter:subscribe:client:" + client_hash(client)
    cache.add(key, 0, timeout=CLIENT_PERIOD)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=CLIENT_PERIOD)
        count = 1
    return count <= CLIENT_LIMIT


@transaction.atomic(durable=True)
def subscription_request(
    *,
    email: str,
    mailing_list: MailingList,
    language: str,
    first_name: str = "",
    tracking: bool = False,
    client: str = "",
    wording: str = "",
) -> Subscription | None:
    """Record a request to subscribe and send a confirmation mail if one is due.

    Returns the pending subscription, or None when nothing was done (over the
    client limit, or a private list). The caller must answer the same way in
    every case. The mail is queued after commit, never sent in the request.
    """
    if not mailing_list.is_public or not client_allowance_take(client=client):
        return None
    contact = _contact_for_request(
        email=email, first_name=first_name, language=language
    )
    subscription, _ = Subscription.objects.select_for_update().get_or_create(
        contact=contact, mailing_list=mailing_list
    )
    consent_record(
        contact=contact,
        action=ConsentRecord.Action.SUBSCRIBE_REQUESTED,
        source=ConsentRecord.Source.FORM,
        mailing_list=mailing_list,
        wording=wording,
        language=language,
        client=client,
    )
    already = (
        subscription.status == Subscription.Status.SUBSCRIBED
        and contact.status == Contact.Status.ACTIVE
        and not is_suppressed(contact.email)
    )
    if already or not _confirmation_claim(contact=contact):
        return subscription
    # Re-issued on each hand-off: an older link stops working.
    subscription.confirm_token = new_token()
    subscription.save(update_fields=["confirm_token", "updated_at"])

    from newsletter.tasks import confirmation_send_task  # tasks import sending

    confirmation_send_task.delay_on_commit(subscription.pk, language, tracking)
    return subscription


def pending_confirmation(*, token: str) -> Subscription | None:
    """Return the subscription a confirmation token still confirms, or None."""
    if not token or len(token) > 32:  # never match the cleared (empty) token
        return None
    return (
        Subscription.objects.filter(
            confirm_token=token,
            updated_at__gte=timezone.now() - CONFIRMATION_VALID,
        )
        .select_related("contact", "mailing_list")
        .first()
    )


@transaction.atomic(durable=True)
def subscription_confirm_token(
    *,
    token: str,
    language: str,
    client: str = "",
    wording: str = "",
    tracking: bool = False,
    tracking_wording: str = "",
) -> Subscription | None:
    """Confirm the subscription behind a single-use ``token``; None if used or unknown.

    Claims the token with a conditional UPDATE first, so two clicks confirm once.
    Confirming lifts a suppression of the address (a new double opt-in).
    """
    subscription = pending_confirmation(token=token)
    if subscription is None:
        return None
    claimed = Subscription.objects.filter(
        pk=subscription.pk, confirm_token=token
    ).update(confirm_token="")
    if claimed != 1:
        return None
    subscription = subscription_confirm(
        subscription=subscription, wording=wording, language=language, client=client
    )
    if tracking:
        tracking_consent_set(
            contact=subscription.contact,
            granted=True,
            source=ConsentRecord.Source.CONFIRMATION,
            wording=tracking_wording,
            language=language,
            client=client,
        )
    return subscription


def _contact_for_request(*, email: str, first_name: str, language: str) -> Contact:
    """Return the contact of ``email``, creating it with the form's details if new."""
    email = normalise_email(email)
    contact = Contact.objects.filter(email__iexact=email).first()
    if contact is not None:
        return contact
    try:
        contact, _ = contact_upsert(
            email=email,
            first_name=first_name,
            preferred_language=language,
            kind=Contact.Kind.OTHER,
        )
    except IntegrityError:  # a concurrent request created it first
        contact = Contact.objects.get(email__iexact=email)
    return contact


def _confirmation_claim(*, contact: Contact) -> bool:
    """Claim the address's one confirmation mail of the window; return whether it was free."""
    now = timezone.now()
    claimed = (
        Contact.objects.filter(pk=contact.pk)
        .filter(
            Q(confirmation_sent_at__isnull=True)
            | Q(confirmation_sent_at__lte=now - CONFIRMATION_WINDOW)
        )
        .update(confirmation_sent_at=now)
    )
    return claimed == 1
