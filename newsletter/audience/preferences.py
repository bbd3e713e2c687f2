"""The preference centre: a reader's own languages, topics, lists and tracking.

Consent changes (lists, tracking) go through the consent services, so each
one leaves a ConsentRecord with the words the reader was shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from newsletter.models import ConsentRecord, Contact, MailingList, Subscription, Topic

from .consent import (
    subscription_subscribe,
    subscription_unsubscribe,
    tracking_consent_set,
)
from .suppression import is_suppressed

Source = ConsentRecord.Source


@dataclass(frozen=True)
class ListChoices:
    """The lists a reader may manage, and those they receive now."""

    manageable: list[MailingList]
    subscribed: list[MailingList]
    can_subscribe: bool


def list_choices_for(*, contact: Contact) -> ListChoices:
    """Return the public lists plus the reader's own, and which of them they receive."""
    on = [Subscription.Status.SUBSCRIBED, Subscription.Status.PENDING]
    manageable = list(
        MailingList.objects.filter(
            Q(is_public=True)
            | Q(subscriptions__contact=contact, subscriptions__status__in=on)
        )
        .distinct()
        .order_by("name")
    )
    subscribed_ids = set(
        Subscription.objects.filter(
            contact=contact, status=Subscription.Status.SUBSCRIBED
        ).values_list("mailing_list_id", flat=True)
    )
    return ListChoices(
        manageable=manageable,
        subscribed=[m for m in manageable if m.pk in subscribed_ids],
        can_subscribe=contact.status == Contact.Status.ACTIVE
        and not is_suppressed(contact.email),
    )


@transaction.atomic(durable=True)
def contact_preferences_save(
    *,
    contact: Contact,
    preferred_language: str,
    fallback_languages: list[str],
    topics: list[Topic],
    lists: list[MailingList],
    tracking: bool,
    lists_wording: str,
    tracking_wording: str,
    language: str,
    client: str = "",
) -> Contact:
    """Save what the reader chose in the preference centre; return the contact.

    ``lists`` is the full set of manageable lists the reader wants; lists left
    out are unsubscribed. Subscribing needs an active, unsuppressed contact:
    coming back after "unsubscribe from everything" takes a new double opt-in.
    """
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    contact.preferred_language = preferred_language
    contact.fallback_languages = [
        code for code in dict.fromkeys(fallback_languages) if code != preferred_language
    ]
    contact.full_clean()
    contact.save(
        update_fields=["preferred_language", "fallback_languages", "updated_at"]
    )
    contact.topics.set(topics)

    choices = list_choices_for(contact=contact)
    wanted = {m.pk for m in lists}
    current = {m.pk for m in choices.subscribed}
    records = {"wording": lists_wording, "language": language, "client": client}
    for mailing_list in choices.manageable:
        if mailing_list.pk in wanted and mailing_list.pk not in current:
            if choices.can_subscribe:
                subscription_subscribe(
                    contact=contact,
                    mailing_list=mailing_list,
                    source=Source.PREFERENCES,
                    **records,
                )
        elif mailing_list.pk in current and mailing_list.pk not in wanted:
            subscription_unsubscribe(
                contact=contact,
                mailing_list=mailing_list,
                source=Source.PREFERENCES,
                **records,
            )
    tracking_consent_set(
        contact=contact,
        granted=tracking,
        source=Source.PREFERENCES,
        wording=tracking_wording,
        language=language,
        client=client,
    )
    return contact
