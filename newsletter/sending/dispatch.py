"""Phase two of a send: hand a campaign's deliveries to the provider, at most once each.

At-most-once per reader: right before each provider call, one conditional
UPDATE claims the rows the call carries (pending → sending, stamped with the
batch's claim id and ``attempted_at``) and only the rows it changed are sent.
A redelivered task, or a second worker on the same batch, finds nothing left
to claim. Rows a batch has not reached yet stay pending, so a batch stopped
early (a crash, a pause, a provider outage) leaves them to its retry.

After a crash, the sweeper (``recovery.deliveries_sweep``) finds the rows
left in sending: they may have been accepted, so they become uncertain, to be
resent only on request.

Where the provider can take one call for many readers (anymail's batch sending:
``merge_data``, ``merge_headers``, ``merge_metadata``), each variant goes out in
calls of up to the provider's per-call limit; elsewhere one message per reader.
"""

from __future__ import annotations

import email.utils
import functools
import html
import logging
import re
import secrets
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.header import Header
from email.utils import formataddr, parseaddr, quote
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from anymail.exceptions import (
    AnymailAPIError,
    AnymailInvalidAddress,
    AnymailRecipientsRefused,
)
from anymail.message import AnymailMessage
from anymail.utils import parse_address_list
from django.conf import settings
from django.core.mail import get_connection
from django.db import DEFAULT_DB_ALIAS, models
from django.db.models import Exists, Q
from django.db.models.base import ModelState
from django.urls import get_script_prefix, get_urlconf
from django.utils import timezone, translation
from wagtail.models import Page

from newsletter.audience.selection import campaign_audience, campaign_list
from newsletter.audience.suppression import suppression_add
from newsletter.models import Campaign, Contact, Delivery, MailingList, Suppression
from newsletter.tracking.links import link_fields, tracking_allowed
from newsletter.tracking.referrals import PASSING_ON_KINDS
from newsletter.tracking.signed import tracking_id
from newsletter.tracking.tokens import (
    pixel_url,
    preferences_url,
    unsubscribe_url,
)

from .passon import pass_on_fields
from .ratelimit import Bucket, acquire, provider_bucket
from .render import (
    MERGE_FIELD,
    RenderedVariant,
    personalise,
    render_variant,
    variant_track_links,
)

logger = logging.getLogger(__name__)

NO_LONGER_MAILABLE = "The reader can no longer be mailed."
# Seconds of rate-limit wait after which consent is checked again.
RECHECK_AFTER_WAIT = 0.2
UNPUBLISHED = "The translation was unpublished."


class TransientSendError(Exception):
    """The provider could not take the mail now; the batch may be retried later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class BatchResult:
    claimed: int
    sent: int
    failed: int
    skipped: int
    uncertain: int
    released: int


@dataclass(frozen=True)
class Provider:
    """What the sending engine needs to know of a provider."""

    name: str
    # Provider syntax of a per-reader merge field, e.g. Mailgun's
    # ``%recipient.NAME%``; None: one message per reader.
    merge_field: str | None = None
    per_call: int = 1  # most readers in one provider call


# Providers whose anymail backend sends ``merge_data`` without a stored
# template, with the provider's own limit of recipients per call. Add a
# provider here once its batch call is verified against its API.
BATCH_PROVIDERS = {
    # https://documentation.mailgun.com/docs/mailgun/user-manual/sending-messages/#batch-sending
    "mailgun": Provider(name="mailgun", merge_field="%recipient.{}%", per_call=1000),
}


def provider_of(connection: Any) -> Provider:
    """Return what is known of the provider behind an email backend instance."""
    module = type(connection).__module__
    if module.startswith("anymail.backends."):
        name = module.rsplit(".", 1)[-1]
        return BATCH_PROVIDERS.get(name, Provider(name=name))
    return Provider(name=getattr(connection, "esp_name", module).lower())


# What a batch reads of its rows and their readers: loading every column of
# the contact as well tripled the cost of that query. A field used in sending
# but missing here costs a query per reader (tests/sending/test_batch_queries.py).
DELIVERY_FIELDS = ("id", "campaign_id", "contact_id", "language", "country", "token")
CONTACT_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "kind",
    "tracking_consent",
    "preferences_token",
)

_M = TypeVar("_M", bound=models.Model)


def _pending_rows(*, campaign_id: int, delivery_ids: list[int]) -> list[Delivery]:
    """Return the pending rows among ``delivery_ids``, each with its reader, by id.

    Read as tuples and made into instances as from_db() would make them with
    only() these fields (any other field is deferred: read on access), without
    running Model.__init__ and its signals over every field of both models:
    that was a sixth of a batch's own work for a thousand readers.
    """
    rows = (
        Delivery.objects.filter(
            pk__any_of=set(delivery_ids),
            campaign_id=campaign_id,
            status=Delivery.Status.PENDING,
        )
        .order_by("pk")
        .values_list(*DELIVERY_FIELDS, *(f"contact__{f}" for f in CONTACT_FIELDS))
    )
    split = len(DELIVERY_FIELDS)
    deliveries = []
    for row in rows:
        delivery = _loaded(
            Delivery, dict(zip(DELIVERY_FIELDS, row[:split], strict=True))
        )
        contact = _loaded(
            Contact,
            {
                "id": delivery.contact_id,
                **dict(zip(CONTACT_FIELDS, row[split:], strict=True)),
            },
        )
        delivery._state.fields_cache["contact"] = contact
        deliveries.append(delivery)
    return deliveries


def _loaded(model: type[_M], values: dict[str, Any]) -> _M:
    """Return an instance of ``model`` holding ``values`` as read from the database."""
    instance = model.__new__(model)
    instance.__dict__.update(values)
    instance._state = ModelState()
    instance._state.adding = False
    instance._state.db = DEFAULT_DB_ALIAS
    return instance


@dataclass
class _Batch:
    """The state of one batch while it is handed over."""

    claim: uuid.UUID
    campaign: Campaign
    connection: Any
    provider: Provider
    bucket: Bucket | None
    counts: dict[str, int] = field(default_factory=dict)
    released: int = 0  # rows claimed, then given back untried (the provider said retry)
    stopped: bool = False  # the campaign stopped sending (paused, cancelled)


def delivery_send_batch(*, campaign_id: int, delivery_ids: list[int]) -> BatchResult:
    """Send the pending deliveries among ``delivery_ids``; return what happened.

    Raises TransientSendError when the provider cannot take mail now; the rows
    not handed over are pending again, so that a retry of the same batch sends
    exactly those. Rows whose provider call had an unknown outcome (a read
    timeout) become uncertain, never retried.
    """
    # A paused or cancelled campaign's batches take nothing: rows stay pending.
    campaign = (
        Campaign.objects.select_related("page")
        .prefetch_related("lists", "segments")
        .filter(pk=campaign_id, status=Campaign.Status.SENDING)
        .first()
    )
    deliveries = (
        _pending_rows(campaign_id=campaign_id, delivery_ids=delivery_ids)
        if campaign is not None
        else []
    )
    if not deliveries:
        return BatchResult(
            claimed=0, sent=0, failed=0, skipped=0, uncertain=0, released=0
        )
    # Consent is read once per provider call, by the UPDATE that claims its
    # rows (_claim): an unsubscribe made while the campaign is sending holds
    # for every message not yet handed over.
    pages = _pages_by_language(campaign.page, {d.language for d in deliveries})
    transient: TransientSendError | None = None

    with get_connection() as connection:
        provider = provider_of(connection)
        bucket = provider_bucket(provider.name)
        batch = _Batch(
            claim=uuid.uuid4(),
            campaign=campaign,
            connection=connection,
            provider=provider,
            bucket=bucket,
        )
        ready = [d for d in deliveries if d.language in pages]
        _record(
            batch,
            [d for d in deliveries if d.language not in pages],
            Delivery.Status.SKIPPED,
            UNPUBLISHED,
            claimed=False,
        )
        size = provider.per_call
        if bucket is not None:
            # No reservation above the burst: the bucket then hands out at
            # most rate + burst messages in any one second.
            size = min(size, bucket.limit.burst)
        # Each variant's links are stored in the campaign's link map once per
        # batch (two queries), so the map is in the database before any mail
        # that points into it leaves, even if the rendering came from the cache.
        tracked: dict[tuple[str, str], RenderedVariant] = {}
        try:
            for unit in _units(ready, size=size, batched=bool(provider.merge_field)):
                key = (unit[0].language, unit[0].country)
                variant = tracked.get(key)
                if variant is None:
                    variant = tracked[key] = variant_track_links(
                        variant_for(
                            pages[unit[0].language],
                            campaign_id=campaign_id,
                            language=unit[0].language,
                            country=unit[0].country,
                        ),
                        campaign_id=campaign_id,
                    )
                _hand_over(batch, variant, unit)
                if batch.stopped:
                    break
        except TransientSendError as exc:
            transient = exc

    if transient is None:
        campaign_finish_if_done(campaign_id=campaign_id)
    result = BatchResult(
        claimed=sum(batch.counts.values()) + batch.released,
        sent=batch.counts.get(Delivery.Status.SENT, 0),
        failed=batch.counts.get(Delivery.Status.FAILED, 0),
        skipped=batch.counts.get(Delivery.Status.SKIPPED, 0),
        uncertain=batch.counts.get(Delivery.Status.UNCERTAIN, 0),
        released=batch.released,
    )
    if transient is not None:
        raise transient
    return result


def _units(
    deliveries: list[Delivery], *, size: int, batched: bool
) -> Iterator[list[Delivery]]:
    """Yield the readers of each provider call: one, or up to ``size`` of one variant."""
    if not batched:
        for delivery in deliveries:
            yield [delivery]
        return
    variants: dict[tuple[str, str], list[Delivery]] = {}
    for delivery in deliveries:
        variants.setdefault((delivery.language, delivery.country), []).append(delivery)
    for group in variants.values():
        for start in range(0, len(group), size):
            yield group[start : start + size]


def _hand_over(batch: _Batch, variant: RenderedVariant, unit: list[Delivery]) -> None:
    """Make one provider call for ``unit`` and record each reader's outcome."""
    # Right before hand-off: an unsubscribe committed by now holds.
    unit = _claim(batch, unit)
    # The rate-limit wait comes last, so that what reaches the provider keeps
    # the bucket's spacing; after a long wait, consent is read once more.
    waited = acquire(batch.bucket, len(unit)) if unit and batch.bucket else 0.0
    if waited > RECHECK_AFTER_WAIT:
        unit = _still_mailable(batch, unit, claimed=True)
    if not unit:
        return
    _call(batch, variant, unit)


def _call(batch: _Batch, variant: RenderedVariant, unit: list[Delivery]) -> None:
    """Hand ``unit`` to the provider in one call; record each reader's outcome."""
    message = (
        build_batch_message(
            variant,
            unit,
            campaign=batch.campaign,
            merge_field=batch.provider.merge_field,
        )
        if batch.provider.merge_field
        else build_message(variant, unit[0], campaign=batch.campaign)
    )
    message.connection = batch.connection
    try:
        message.send()
    except AnymailRecipientsRefused as exc:
        # Every reader of the call was refused; the statuses say why, if known.
        _record_statuses(
            batch, unit, message, default_reason=_reason(exc), default="rejected"
        )
        return
    except AnymailInvalidAddress as exc:
        # Raised before any request is made: fail and suppress the readers
        # whose address cannot be sent to, and send the others.
        bad = [d for d in unit if not _valid_address(d.contact)] or unit
        _record(
            batch, bad, Delivery.Status.FAILED, _reason(exc), suppress=len(bad) == 1
        )
        rest = [d for d in unit if d not in bad]
        if rest:
            _call(batch, variant, rest)
        return
    except Exception as exc:  # classified below: retried, recorded or uncertain
        outcome = classify_send_error(exc)
        logger.warning(
            "Campaign %s, %s reader(s) from delivery %s: %s (%s)",
            batch.campaign.pk,
            len(unit),
            unit[0].pk,
            outcome,
            exc,
        )
        if outcome == "permanent":
            _record(batch, unit, Delivery.Status.FAILED, _reason(exc))
            return
        if outcome == "retry":
            # The provider certainly did not take it: not an attempt after all.
            batch.released += Delivery.objects.filter(
                pk__any_of={d.pk for d in unit},
                status=Delivery.Status.SENDING,
                claim=batch.claim,
            ).update(
                status=Delivery.Status.PENDING,
                claim=None,
                claimed_at=None,
                attempted_at=None,
            )
            raise TransientSendError(str(exc), retry_after=retry_after_of(exc)) from exc
        # The provider may have taken it: never send it again by itself. Stop
        # the batch too, the provider is in trouble; the rest is retried.
        _record(
            batch,
            unit,
            Delivery.Status.UNCERTAIN,
            f"The provider's answer is unknown: {_reason(exc)}",
        )
        raise TransientSendError(str(exc)) from exc
    _record_statuses(batch, unit, message, default_reason="", default="queued")


def _still_mailable(
    batch: _Batch, unit: list[Delivery], *, claimed: bool
) -> list[Delivery]:
    """Return the readers of ``unit`` who may still be mailed; skip the others."""
    if not unit:
        return unit
    mailable = _deliverable(batch.campaign, unit)
    gone = [d for d in unit if d.contact_id not in mailable]
    _record(batch, gone, Delivery.Status.SKIPPED, NO_LONGER_MAILABLE, claimed=claimed)
    return [d for d in unit if d.contact_id in mailable]


def _claim(batch: _Batch, unit: list[Delivery]) -> list[Delivery]:
    """Claim the readers of ``unit`` who may still be mailed; return the rows now ours.

    One conditional UPDATE claims the rows for one provider call and stamps
    the attempt: pending → sending, only while the campaign is sending and
    only for readers who are still in its audience (consent, suppression and
    subscriptions read by that same statement). When it claims fewer rows,
    the others are sorted out: nothing claimed because the campaign stopped
    ends the batch; readers who can no longer be mailed are skipped; rows
    another worker took meanwhile are left to it.
    """
    if not unit:
        return unit
    now = timezone.now()
    ids = {d.pk for d in unit}
    mailable = (
        campaign_audience(batch.campaign, among={d.contact_id for d in unit})
        .order_by()
        .values("pk")
    )
    claimed = Delivery.objects.filter(
        Exists(
            Campaign.objects.filter(
                pk=batch.campaign.pk, status=Campaign.Status.SENDING
            )
        ),
        pk__any_of=ids,
        campaign_id=batch.campaign.pk,
        status=Delivery.Status.PENDING,
        contact_id__in=mailable,
    ).update(
        status=Delivery.Status.SENDING,
        claim=batch.claim,
        claimed_at=now,
        attempted_at=now,
    )
    if claimed == len(ids):
        return unit
    if (
        not claimed
        and not Campaign.objects.filter(
            pk=batch.campaign.pk, status=Campaign.Status.SENDING
        ).exists()
    ):
        batch.stopped = True
        return []
    ours = set(
        Delivery.objects.filter(
            pk__any_of=ids, claim=batch.claim, status=Delivery.Status.SENDING
        ).values_list("pk", flat=True)
    )
    # Skips the rest's readers who can no longer be mailed (if still pending).
    _still_mailable(batch, [d for d in unit if d.pk not in ours], claimed=False)
    return [d for d in unit if d.pk in ours]


def _record_statuses(
    batch: _Batch,
    unit: list[Delivery],
    message: AnymailMessage,
    *,
    default_reason: str,
    default: str,
) -> None:
    """Record each reader's outcome from the provider's per-recipient statuses."""
    status = getattr(message, "anymail_status", None)
    recipients = {
        address.lower(): recipient
        for address, recipient in (getattr(status, "recipients", None) or {}).items()
    }
    sent: dict[str, list[Delivery]] = {}
    for delivery in unit:
        recipient = recipients.get(delivery.contact.email.lower())
        state = recipient.status if recipient is not None else default
        if state in ("invalid", "rejected"):
            _record(
                batch,
                [delivery],
                Delivery.Status.FAILED,
                f"The provider refused the address ({state}). {default_reason}".strip(),
                suppress=True,
            )
            continue
        message_id = (
            recipient.message_id
            if recipient is not None and recipient.message_id
            else getattr(status, "message_id", None)
        )
        sent.setdefault("" if message_id is None else str(message_id), []).append(
            delivery
        )
    for message_id, readers in sent.items():
        _record(batch, readers, Delivery.Status.SENT, "", message_id=message_id)


def _record(
    batch: _Batch,
    deliveries: list[Delivery],
    status: str,
    reason: str,
    *,
    message_id: str = "",
    suppress: bool = False,
    claimed: bool = True,
) -> None:
    """Write one outcome for ``deliveries``: rows that still carry our claim or,
    for rows not ``claimed`` yet, that are still pending."""
    if not deliveries:
        return
    changes: dict[str, Any] = {"status": status, "reason": reason[:1000]}
    if status == Delivery.Status.SENT:
        changes |= {"sent_at": timezone.now(), "provider_message_id": message_id[:255]}
    ours = (
        Q(claim=batch.claim, status=Delivery.Status.SENDING)
        if claimed
        else Q(status=Delivery.Status.PENDING)
    )
    written = Delivery.objects.filter(
        ours, pk__any_of={d.pk for d in deliveries}
    ).update(**changes)
    batch.counts[status] = batch.counts.get(status, 0) + written
    if suppress:
        for delivery in deliveries:
            suppression_add(
                email=delivery.contact.email,
                reason=Suppression.Reason.HARD_BOUNCE,
                note=reason[:255],
            )


def _valid_address(contact: Contact) -> bool:
    """Return whether anymail accepts the contact's address."""
    try:
        parse_address_list([formataddr((contact.full_name, contact.email))])
    except AnymailInvalidAddress:
        return False
    return True


def _reason(exc: Exception) -> str:
    return (str(exc) or type(exc).__name__)[:1000]


# A reader's URLs differ only in their token: each is reversed once per
# language with a stand-in token, and the reader's token is put in its place.
# reverse() per reader was about a fifth of the work of a batch per reader.
_TOKEN_URLS = {
    "pixel": lambda token, language: pixel_url(token),
    "preferences": lambda token, language: preferences_url(token, language=language),
    "unsubscribe": lambda token, language: unsubscribe_url(token, language=language),
}
_PLACEHOLDER = "RelayTokenSlot0"
_URL_SAFE = re.compile(r"[A-Za-z0-9_.-]+")  # what reverse() leaves as it is


@functools.lru_cache(maxsize=256)
def _token_url_around(kind: str, language: str, *key: Any) -> tuple[str, str] | None:
    """Return what comes before and after the token in a ``kind`` URL, or None.

    ``key`` holds what else reverse() depends on: the base URL, the URLconf,
    the script prefix and the active language.
    """
    url = _TOKEN_URLS[kind](_PLACEHOLDER, language)
    before, slot, after = url.partition(_PLACEHOLDER)
    if not slot or _PLACEHOLDER in after:
        return None
    return before, after


def token_url(kind: str, token: str, *, language: str) -> str:
    """Return the ``kind`` URL of ``token`` in ``language``, as reverse() would."""
    around = (
        _token_url_around(
            kind,
            language,
            settings.RELAY_BASE_URL,
            get_urlconf() or settings.ROOT_URLCONF,
            get_script_prefix(),
            translation.get_language(),
        )
        if _URL_SAFE.fullmatch(token)
        else None
    )
    if around is None:
        return _TOKEN_URLS[kind](token, language)
    return around[0] + token + around[1]


def reader_fields(
    variant: RenderedVariant, delivery: Delivery, *, tracking: str | None = None
) -> dict[str, str]:
    """Return the values of one reader's merge fields in ``variant``.

    ``tracking``: the reader's tracking id, when already known.
    """
    contact = delivery.contact
    language = variant.language
    if tracking is None:
        tracking = reader_tracking_id(delivery)
    pixel = ""
    if tracking:
        pixel = (
            f'<img src="{token_url("pixel", tracking, language=language)}" '
            'width="1" height="1" alt="" '
            'style="display:block;width:1px;height:1px;border:0">'
        )
    return {
        "pixel_html": pixel,
        "preferences_url": token_url(
            "preferences", contact.preferences_token, language=language
        ),
        "unsubscribe_url": token_url("unsubscribe", delivery.token, language=language),
        **link_fields(variant.links, tracking=tracking),
        **pass_on_fields(delivery, language=language),
    }


def reader_tracking_id(delivery: Delivery) -> str:
    """Return the signed id of the reader's pixel and clicks, or "" when not tracked."""
    contact = delivery.contact
    if not tracking_allowed(contact):
        return ""
    return tracking_id(
        delivery.token,
        campaign_id=delivery.campaign_id,
        passes_on=contact.kind in PASSING_ON_KINDS,
    )


def reader_headers(fields: dict[str, str], delivery: Delivery) -> dict[str, str]:
    """Return the headers that differ per reader."""
    return {
        # RFC 2369 and RFC 8058: the one HTTPS URI takes a cookieless POST
        # and unsubscribes this reader from this campaign's list only.
        "List-Unsubscribe": f"<{fields['unsubscribe_url']}>",
        "Message-ID": message_id_for(delivery),
    }


def shared_headers(variant: RenderedVariant, campaign: Campaign) -> dict[str, str]:
    """Return the headers every reader of ``variant`` gets."""
    headers = {
        "Content-Language": variant.language,
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    mailing_list = campaign_list(campaign)
    if mailing_list is not None:
        headers["List-Id"] = list_id(mailing_list)
    return headers


def message_id_for(delivery: Delivery) -> str:
    """Return a fresh RFC 5322 Message-ID on the sending domain for ``delivery``.

    It names the campaign and the delivery (no token: forwarded copies keep
    their headers) plus a random part, so no two hand-overs share one.
    """
    return _message_id(delivery, _message_id_domain())


def _message_id_domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"


def _message_id(delivery: Delivery, domain: str) -> str:
    return (
        f"<relay.{delivery.campaign_id}.{delivery.pk}.{secrets.token_hex(6)}@{domain}>"
    )


def build_message(
    variant: RenderedVariant, delivery: Delivery, *, campaign: Campaign
) -> AnymailMessage:
    """Return the personalised message of ``variant`` for one delivery."""
    contact = delivery.contact
    fields = reader_fields(variant, delivery)
    message = AnymailMessage(
        subject=variant.subject,
        body=personalise(variant.text, fields, escape=False),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[formataddr((contact.full_name, contact.email))],
        headers=shared_headers(variant, campaign) | reader_headers(fields, delivery),
    )
    message.attach_alternative(
        personalise(variant.html, fields, escape=True), "text/html"
    )
    message.metadata = {
        "delivery_id": str(delivery.pk),
        "campaign_id": str(campaign.pk),
    }
    message.tags = [f"campaign-{campaign.pk}"]
    return message


def build_batch_message(
    variant: RenderedVariant,
    deliveries: Iterable[Delivery],
    *,
    campaign: Campaign,
    merge_field: str,
) -> AnymailMessage:
    """Return one message of ``variant`` for many readers, personalised by the provider.

    The variant's ``{{relay:NAME}}`` fields become the provider's merge fields:
    ``t_NAME`` in the text part (raw values) and ``h_NAME`` in the HTML part
    (HTML-escaped, except ``*_html`` values, which are markup).
    """
    text = MERGE_FIELD.sub(
        lambda m: merge_field.format("t_" + m.group(1)), variant.text
    )
    markup = MERGE_FIELD.sub(
        lambda m: merge_field.format("h_" + m.group(1)), variant.html
    )
    personaliser = _Personaliser(variant)
    domain = _message_id_domain()
    to: list[str] = []
    merge_data: dict[str, dict[str, str]] = {}
    merge_headers: dict[str, dict[str, str]] = {}
    merge_metadata: dict[str, dict[str, str]] = {}
    for delivery in deliveries:
        contact = delivery.contact
        to.append(formataddr((contact.full_name, contact.email)))
        merge_data[contact.email], unsubscribe = personaliser.merge_data(delivery)
        merge_headers[contact.email] = {
            "List-Unsubscribe": f"<{unsubscribe}>",
            "Message-ID": _message_id(delivery, domain),
        }
        merge_metadata[contact.email] = {"delivery_id": str(delivery.pk)}
    message = AnymailMessage(
        subject=variant.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers=shared_headers(variant, campaign),
    )
    message.attach_alternative(markup, "text/html")
    message.merge_data = merge_data
    message.merge_headers = merge_headers
    message.merge_metadata = merge_metadata
    message.metadata = {"campaign_id": str(campaign.pk)}
    message.tags = [f"campaign-{campaign.pk}"]
    return message


# Stand-ins for a reader's delivery token, preferences token and tracking id
# while a variant's merge data is worked out once (see _Personaliser).
_DELIVERY_SLOT = "RelayTokenSlot1"
_PREFERENCES_SLOT = "RelayTokenSlot2"
_TRACKING_SLOT = "RelayTokenSlot3"
_SLOT_NUMBERS = {_DELIVERY_SLOT: 1, _PREFERENCES_SLOT: 2, _TRACKING_SLOT: 3}
_SLOTS = re.compile(f"({_DELIVERY_SLOT}|{_PREFERENCES_SLOT}|{_TRACKING_SLOT})")


class _Personaliser:
    """A variant's merge data, worked out once; each reader only adds their tokens.

    The merge data of a reader differs from another's only in the two tokens
    and in whether their clicks and opens are tracked. So ``reader_fields`` runs
    once for a stand-in reader of each kind, with placeholder tokens, and each
    value is kept as the text around them. A reader's values are then joins of
    constant strings: the same values ``reader_fields`` gives, for a fraction of
    the work. A token that reverse() would quote, or a value the placeholders
    cannot be cut out of, falls back to ``reader_fields`` itself.
    """

    def __init__(self, variant: RenderedVariant) -> None:
        self.variant = variant
        self.text_names = sorted(set(MERGE_FIELD.findall(variant.text)))
        self.html_names = sorted(set(MERGE_FIELD.findall(variant.html)))
        # tracked → ([(key, before, slot, after), ...], unsubscribe recipe) or None
        self.recipes = {tracked: self._recipe(tracked) for tracked in (True, False)}

    def _recipe(
        self, tracked: bool
    ) -> tuple[list[tuple[str, str, int, str]], tuple[str, int, str]] | None:
        contact = Contact(tracking_consent=tracked, preferences_token=_PREFERENCES_SLOT)
        probe = Delivery(contact=contact, token=_DELIVERY_SLOT)
        if tracking_allowed(contact) != tracked:
            return None  # anonymous tracking: nobody is tracked
        fields = reader_fields(
            self.variant, probe, tracking=_TRACKING_SLOT if tracked else ""
        )
        recipe = []
        for key, value in self._fields(fields).items():
            part = self._cut(value)
            if part is None:
                return None
            recipe.append((key, *part))
        unsubscribe = self._cut(fields["unsubscribe_url"])
        if unsubscribe is None:
            return None
        return recipe, unsubscribe

    @staticmethod
    def _cut(value: str) -> tuple[str, int, str] | None:
        """Return ``value`` as (before, slot, after); slot 0: no token in it."""
        parts = _SLOTS.split(value)
        if len(parts) == 1:
            return value, 0, ""
        if len(parts) != 3:
            return None
        return parts[0], _SLOT_NUMBERS[parts[1]], parts[2]

    def _fields(self, fields: dict[str, str]) -> dict[str, str]:
        """Return the merge data of ``fields``: raw for text, escaped for HTML."""
        return {
            **{f"t_{name}": fields.get(name, "") for name in self.text_names},
            **{
                f"h_{name}": (
                    fields.get(name, "")
                    if name.endswith("_html")
                    else html.escape(fields.get(name, ""))
                )
                for name in self.html_names
            },
        }

    def merge_data(self, delivery: Delivery) -> tuple[dict[str, str], str]:
        """Return one reader's merge data and unsubscribe URL."""
        contact = delivery.contact
        tracking = reader_tracking_id(delivery)
        recipe = self.recipes[bool(tracking)]
        token, preferences = delivery.token, contact.preferences_token
        if (
            recipe is None
            or not _URL_SAFE.fullmatch(token)
            or not _URL_SAFE.fullmatch(preferences)
        ):
            fields = reader_fields(self.variant, delivery, tracking=tracking)
            return self._fields(fields), fields["unsubscribe_url"]
        tokens = ("", token, preferences, tracking)
        before, slot, after = recipe[1]
        return (
            {key: b + tokens[s] + a for key, b, s, a in recipe[0]},
            before + tokens[slot] + after,
        )


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


def retry_after_of(exc: Exception, *, now: datetime | None = None) -> float | None:
    """Return the seconds a provider's Retry-After asks for, or None (RFC 9110 §10.2.3)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) if response is not None else None
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or timezone.now())).total_seconds())


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


def campaign_retry_allowed(*, campaign_id: int, countdown: float) -> bool:
    """Return whether a retry in ``countdown`` seconds is within the campaign's deadline.

    The deadline counts from the start, or from the last resume or reopening.
    """
    times = (
        Campaign.objects.filter(pk=campaign_id)
        .values_list("started_at", "resumed_at")
        .first()
    )
    since = max((t for t in times or () if t is not None), default=None)
    if since is None:
        return True
    deadline = since + timedelta(seconds=settings.RELAY_SEND_DEADLINE)
    return timezone.now() + timedelta(seconds=countdown) < deadline


def deliveries_give_up(
    *, campaign_id: int, delivery_ids: list[int], reason: str
) -> int:
    """Mark the still-pending deliveries among ``delivery_ids`` failed; return how many."""
    failed = Delivery.objects.filter(
        pk__any_of=delivery_ids, campaign_id=campaign_id, status=Delivery.Status.PENDING
    ).update(status=Delivery.Status.FAILED, reason=reason)
    campaign_finish_if_done(campaign_id=campaign_id)
    return failed


# Each (campaign, language, country) variant is rendered once per process and
# reused by every batch of the campaign; the key also names the page's published
# revision, so a page republished during a campaign renders anew.
_VARIANTS: dict[tuple[Any, ...], RenderedVariant] = {}
_VARIANTS_MAX = 64


def variant_for(
    page: Page, *, campaign_id: int, language: str, country: str
) -> RenderedVariant:
    """Return ``page`` rendered for one variant of a campaign, rendering it once."""
    key = (
        campaign_id,
        page.pk,
        page.live_revision_id,
        page.last_published_at,
        language,
        country,
        settings.RELAY_BASE_URL,
    )
    variant = _VARIANTS.get(key)
    if variant is None:
        variant = render_variant(page.specific, language=language, country=country)
        if len(_VARIANTS) >= _VARIANTS_MAX:
            _VARIANTS.pop(next(iter(_VARIANTS)))
        _VARIANTS[key] = variant
    return variant


def _deliverable(campaign: Campaign, deliveries: list[Delivery]) -> set[int]:
    """Return which of the readers of ``deliveries`` may be mailed, read now.

    One indexed query: an unsubscribe committed before this point holds.
    """
    return set(
        campaign_audience(campaign, among={d.contact_id for d in deliveries})
        .order_by()
        .values_list("pk", flat=True)
    )


def _pages_by_language(source: Page, languages: set[str]) -> dict[str, Page]:
    """Return the live translations of ``source`` in ``languages``, by language.

    Plain pages: their specific page is read only when a variant is rendered
    (``variant_for``), once per process, not by every batch.
    """
    pages = (
        source.get_translations(inclusive=True)
        .live()
        .filter(locale__language_code__in=languages)
        .select_related("locale")
    )
    return {page.locale.language_code: page for page in pages}
