"""Phase two of a send: hand claimed deliveries to the provider, at most once each.

At-most-once per reader: a batch first claims its rows with a conditional
UPDATE (pending → sending, stamped with a fresh claim id) and only sends the rows
that carry its own claim. A redelivered task finds nothing left to claim. Rows
that a crashed worker left in ``sending`` are never sent again automatically;
they are resolved as uncertain.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, quote
from urllib.parse import urlsplit

import requests
from anymail.exceptions import (
    AnymailAPIError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
)
from anymail.message import AnymailMessage
from django.conf import settings
from django.core.mail import get_connection
from django.db.models import Q
from django.utils import timezone
from wagtail.models import Page

from newsletter.models import Campaign, Contact, Delivery, MailingList
from newsletter.tracking.tokens import (
    pixel_url,
    preferences_url,
    unsubscribe_url,
)

from .render import RenderedVariant, personalise, render_variant

logger = logging.getLogger(__name__)


class TransientSendError(Exception):
    """The provider could not take the mail now; the batch may be retried later."""


@dataclass(frozen=True)
class BatchResult:
    claimed: int
    sent: int
    failed: int
    skipped: int
    uncertain: int
    released: int


def delivery_send_batch(*, campaign_id: int, delivery_ids: list[int]) -> BatchResult:
    """Send the pending deliveries among ``delivery_ids``; return what happened.

    Raises TransientSendError after releasing the rows it did not get to send,
    so that a retry of the same batch sends exactly those.
    """
    claim = uuid.uuid4()
    claimed = Delivery.objects.filter(
        pk__in=delivery_ids, campaign_id=campaign_id, status=Delivery.Status.PENDING
    ).update(status=Delivery.Status.SENDING, claim=claim, claimed_at=timezone.now())
    if not claimed:
        return BatchResult(
            claimed=0, sent=0, failed=0, skipped=0, uncertain=0, released=0
        )

    campaign = Campaign.objects.select_related("page").get(pk=campaign_id)
    deliveries = list(
        Delivery.objects.filter(claim=claim).select_related("contact").order_by("pk")
    )
    # Check consent again right before hand-off: an unsubscribe made while the
    # campaign is sending must hold for every message not yet handed over.
    deliverable = set(
        Contact.objects.deliverable_for(campaign.mailing_list)
        .filter(pk__in=[d.contact_id for d in deliveries])
        .values_list("pk", flat=True)
    )
    pages = _pages_by_language(campaign.page, {d.language for d in deliveries})
    variants: dict[tuple[str, str], RenderedVariant] = {}
    transient: Exception | None = None
    done: list[Delivery] = []

    with get_connection() as connection:
        for delivery in deliveries:
            if transient is not None:
                break
            if delivery.contact_id not in deliverable:
                _finish(
                    delivery,
                    Delivery.Status.SKIPPED,
                    "The reader can no longer be mailed.",
                )
                done.append(delivery)
                continue
            if delivery.language not in pages:
                _finish(
                    delivery,
                    Delivery.Status.SKIPPED,
                    "The translation was unpublished.",
                )
                done.append(delivery)
                continue
            key = (delivery.language, delivery.country)
            if key not in variants:
                variants[key] = render_variant(
                    pages[delivery.language],
                    language=delivery.language,
                    country=delivery.country,
                )
            if not _still_deliverable(delivery, campaign=campaign):
                # The reader withdrew while this batch was being sent.
                _finish(
                    delivery,
                    Delivery.Status.SKIPPED,
                    "The reader can no longer be mailed.",
                )
                done.append(delivery)
                continue
            message = build_message(variants[key], delivery, campaign=campaign)
            message.connection = connection
            try:
                message.send()
            except Exception as exc:  # noqa: BLE001 - classified below, never swallowed
                outcome = classify_send_error(exc)
                logger.warning("Delivery %s: %s (%s)", delivery.pk, outcome, exc)
                if outcome == "retry":
                    transient = exc
                    break
                status = (
                    Delivery.Status.FAILED
                    if outcome == "permanent"
                    else Delivery.Status.UNCERTAIN
                )
                _finish(delivery, status, str(exc)[:1000])
                done.append(delivery)
                continue
            message_id = message.anymail_status.message_id
            delivery.provider_message_id = (
                "" if message_id is None else str(message_id)[:255]
            )
            _finish(delivery, Delivery.Status.SENT, "")
            done.append(delivery)

    Delivery.objects.bulk_update(
        done, ["status", "reason", "sent_at", "provider_message_id"], batch_size=500
    )
    released = Delivery.objects.filter(
        claim=claim, status=Delivery.Status.SENDING
    ).update(status=Delivery.Status.PENDING, claim=None, claimed_at=None)
    campaign_finish_if_done(campaign_id=campaign_id)
    counts = {s: sum(1 for d in done if d.status == s) for s in Delivery.Status.values}
    result = BatchResult(
        claimed=claimed,
        sent=counts[Delivery.Status.SENT],
        failed=counts[Delivery.Status.FAILED],
        skipped=counts[Delivery.Status.SKIPPED],
        uncertain=counts[Delivery.Status.UNCERTAIN],
        released=released,
    )
    if transient is not None:
        raise TransientSendError(str(transient)) from transient
    return result


def build_message(
    variant: RenderedVariant, delivery: Delivery, *, campaign: Campaign
) -> AnymailMessage:
    """Return the personalised message of ``variant`` for one delivery."""
    contact = delivery.contact
    pixel = ""
    if contact.tracking_consent:
        pixel = (
            f'<img src="{pixel_url(delivery.token)}" width="1" height="1" alt="" '
            'style="display:block;width:1px;height:1px;border:0">'
        )
    links = {
        "preferences_url": preferences_url(
            contact.preferences_token, language=variant.language
        ),
        "unsubscribe_url": unsubscribe_url(delivery.token, language=variant.language),
    }
    message = AnymailMessage(
        subject=variant.subject,
        body=personalise(variant.text, links, escape=False),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[formataddr((contact.full_name, contact.email))],
        headers={
            "Content-Language": variant.language,
            # RFC 2369 and RFC 8058: the one HTTPS URI takes a cookieless POST
            # and unsubscribes this reader from this campaign's list only.
            "List-Unsubscribe": f"<{links['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": list_id(campaign.mailing_list),
        },
    )
    message.attach_alternative(
        personalise(variant.html, {"pixel_html": pixel, **links}, escape=True),
        "text/html",
    )
    message.metadata = {
        "delivery_id": str(delivery.pk),
        "campaign_id": str(campaign.pk),
    }
    message.tags = [f"campaign-{campaign.pk}"]
    return message


def list_id(mailing_list: MailingList) -> str:
    """Return the RFC 2919 List-Id of ``mailing_list``, in the site's domain.

    The description is quoted, or RFC 2047-encoded when it is not ASCII, so
    that the identifier in angle brackets always stays readable to filters.
    """
    domain = urlsplit(settings.RELAY_BASE_URL).hostname or "localhost"
    name = " ".join(mailing_list.name.split())
    if name.isascii():
        phrase = '"' + quote(name) + '"'
    else:
        phrase = Header(name, "utf-8").encode()
    return f"{phrase} <{mailing_list.slug}.{domain}>"


def classify_send_error(exc: Exception) -> str:
    """Return ``permanent``, ``retry`` or ``unknown`` for an error raised by a send.

    ``retry`` only where the provider certainly did not take the message: it
    answered 429 or 5xx, or the connection was never made. A read timeout
    may have been accepted, so its outcome is unknown.
    """
    if isinstance(exc, AnymailRecipientsRefused | AnymailInvalidAddress):
        return "permanent"
    if isinstance(exc, requests.ConnectTimeout):
        return "retry"
    if isinstance(exc, requests.Timeout):
        return "unknown"
    if isinstance(exc, requests.ConnectionError):
        text = repr(exc.args) + repr(exc.__cause__)
        return (
            "retry"
            if "NewConnectionError" in text or "refused" in text.lower()
            else "unknown"
        )
    if isinstance(exc, AnymailAPIError):
        code = exc.status_code or getattr(
            getattr(exc, "response", None), "status_code", None
        )
        if code is None:
            return "unknown"
        if code == 429 or code >= 500:
            return "retry"
        return "permanent"
    return "unknown"


def campaign_finish_if_done(*, campaign_id: int) -> bool:
    """Mark the campaign sent once every delivery is in a final state."""
    open_rows = Delivery.objects.filter(
        Q(status=Delivery.Status.PENDING) | Q(status=Delivery.Status.SENDING),
        campaign_id=campaign_id,
    )
    if open_rows.exists():
        return False
    return bool(
        Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SENDING).update(
            status=Campaign.Status.SENT, finished_at=timezone.now()
        )
    )


def _pages_by_language(source: Page, languages: set[str]) -> dict[str, Page]:
    pages = (
        source.get_translations(inclusive=True)
        .live()
        .filter(locale__language_code__in=languages)
        .select_related("locale")
        .specific()
    )
    return {page.locale.language_code: page for page in pages}


def _still_deliverable(delivery: Delivery, *, campaign: Campaign) -> bool:
    """Return whether the reader may still be mailed, read right before hand-off.

    One indexed EXISTS per message: an unsubscribe committed before this point
    holds for this message, even in the middle of a batch.
    """
    return (
        Contact.objects.deliverable_for(campaign.mailing_list)
        .filter(pk=delivery.contact_id)
        .exists()
    )


def _finish(delivery: Delivery, status: str, reason: str) -> None:
    delivery.status = status
    delivery.reason = reason
    if status == Delivery.Status.SENT:
        delivery.sent_at = timezone.now()
