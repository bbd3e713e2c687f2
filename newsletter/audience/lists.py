"""Mailing lists and who is on them."""

from __future__ import annotations

from django.db import transaction

from newsletter.models import Contact, MailingList, Subscription


@transaction.atomic
def subscription_confirm(
    *, contact: Contact, mailing_list: MailingList
) -> Subscription:
    """Subscribe ``contact`` to ``mailing_list`` with their consent already given."""
    subscription, _ = Subscription.objects.get_or_create(
        contact=contact, mailing_list=mailing_list
    )
    if subscription.status != Subscription.Status.SUBSCRIBED:
        subscription.status = Subscription.Status.SUBSCRIBED
        subscription.save(update_fields=["status", "updated_at"])
    return subscription
