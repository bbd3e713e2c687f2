"""Who a campaign goes to: the one place that turns lists and segments into readers.

Prepare, the re-check right before hand-off and the admin's counts all read
the audience from here, so that they can never disagree.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet

from newsletter.models import Campaign, Contact, MailingList, Segment, Subscription

from .segments import segment_rules_contacts


def audience_contacts(
    *,
    lists: Iterable[MailingList | int],
    segments: Iterable[Segment],
    among: Collection[int] | None = None,
) -> QuerySet[Contact]:
    """Return the deliverable readers of ``lists`` and ``segments``, each once.

    The union of the confirmed subscribers of the lists and the members of the
    segments, less anyone who may not be mailed (not active, or suppressed).
    It is one filter over the contacts, never a join that repeats a reader.
    ``among`` narrows it to those contact ids, in the subscriptions read too:
    checking a thousand readers then reads their own rows by index instead of
    every subscription of a large list. Raises ValidationError when a
    segment's rules are no longer valid.
    """
    list_ids = [getattr(item, "pk", item) for item in lists]
    union = Q(pk__in=[])
    if list_ids:
        subscriptions = Subscription.objects.filter(
            contact_id=OuterRef("pk"),
            mailing_list_id__in=list_ids,
            status=Subscription.Status.SUBSCRIBED,
        )
        if among is not None:
            subscriptions = subscriptions.filter(contact_id__any_of=among)
        union |= Q(Exists(subscriptions))
    for segment in segments:
        union |= Q(pk__in=segment_rules_contacts(segment.rules).values("pk"))
    contacts = Contact.objects.deliverable().filter(union)
    if among is not None:
        contacts = contacts.filter(pk__any_of=among)
    return contacts


def campaign_audience(
    campaign: Campaign, *, among: Collection[int] | None = None
) -> QuerySet[Contact]:
    """Return the deliverable readers of ``campaign``'s lists and segments, read now.

    ``among``: only those contact ids (see ``audience_contacts``). Prefetch
    ``lists`` and ``segments`` on ``campaign`` to read it without further
    queries.
    """
    return audience_contacts(
        lists=campaign.lists.all(), segments=campaign.segments.all(), among=among
    )


def campaign_list(campaign: Campaign) -> MailingList | None:
    """Return the list named in the campaign's List-Id: its first, None for segments only."""
    lists = sorted(campaign.lists.all(), key=lambda item: item.pk)
    return lists[0] if lists else None


def reader_lists(campaign: Campaign, contact: Contact) -> list[MailingList]:
    """Return the campaign's lists that ``contact`` has a subscription to (any state).

    These are the lists an unsubscribe from one of the campaign's mails leaves
    (again, harmlessly, when repeated); none means the reader was reached
    through a segment only.
    """
    return list(
        campaign.lists.filter(subscriptions__contact=contact).distinct().order_by("pk")
    )
