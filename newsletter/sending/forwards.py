"""Forwards through Relay: an MP sends a pack to a few colleagues, and each gets a clean copy.

The form cannot be used as a relay (reliability.md, test 34): only an MP's
own delivery token opens it, each request names at most
``RELAY_FORWARD_MAX_RECIPIENTS`` colleagues, an MP forwards to at most
``RELAY_FORWARD_DAILY_LIMIT`` colleagues in any 24 hours, only the stored
campaign is sent, and the note is plain text without links. A request that
breaks a limit is refused whole: nothing is stored, nothing is sent.

A colleague's copy is the campaign's page rendered anew, in the MP's
language (or the colleague's own, when they are in the directory and it is
published). It carries none of the MP's links: no unsubscribe, preferences,
forward or click-tracking link and no token of the MP; it has its own opt-out
and, where allowed, its own open pixel (newsletter.tracking.referrals).
"""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr

from anymail.message import AnymailMessage
from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page

from newsletter.audience.suppression import is_suppressed
from newsletter.models import (
    Contact,
    Delivery,
    Forward,
    ForwardOptOut,
    ForwardRecipient,
    Referral,
)
from newsletter.tracking.referrals import (
    address_key,
    forward_tracking_allowed,
    passes_on,
    referral_get,
)

from .dispatch import TransientSendError, classify_send_error
from .render import personalise, render_variant

logger = logging.getLogger(__name__)

Status = ForwardRecipient.Status
NOTE_MAX = 500
_URL_IN_NOTE = re.compile(r"(?:https?://|www\.)\S*", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Only reached by a caller that skipped the view's token check: not translated.
NOT_ALLOWED = "This reader may not forward this campaign."
TOO_MANY = _("Too many addresses: at most %(count)d per request. Nothing was sent.")
DAILY_LIMIT = _(
    "Nothing was sent: this would exceed the daily limit of forwards "
    "(%(count)d). Please try again tomorrow."
)


class ForwardRefused(Exception):
    """A forward request broke a rule; nothing was stored or sent."""


@dataclass(frozen=True)
class ForwardResult:
    forward: Forward
    # False when the same form was submitted before: nothing new was queued.
    created: bool
    queued: int


def note_clean(note: str) -> str:
    """Return the note as plain text: links and control characters removed, trimmed."""
    text = _CONTROL.sub("", _URL_IN_NOTE.sub("", note or ""))
    # Merge fields are filled in after rendering: a note must not hold one.
    text = text.replace("{{", "{ {")
    return "\n".join(line.rstrip() for line in text.strip().splitlines())[:NOTE_MAX]


def forwards_today(*, contact_id: int) -> int:
    """Return how many colleagues an MP forwarded to in the last 24 hours (skipped ones aside)."""
    since = timezone.now() - timedelta(hours=24)
    return (
        ForwardRecipient.objects.filter(
            referral__delivery__contact_id=contact_id, created_at__gte=since
        )
        .exclude(status=Status.SKIPPED)
        .count()
    )


def _mailable_language(page: Page, preferred: str, fallback: str) -> str:
    languages = set(
        page.get_translations(inclusive=True)
        .live()
        .values_list("locale__language_code", flat=True)
    )
    return preferred if preferred in languages else fallback


@transaction.atomic(durable=True)
def forward_request(
    *, delivery: Delivery, addresses: list[str], note: str, request_key: str
) -> ForwardResult:
    """Store an MP's forward of their campaign to ``addresses`` and queue it; return it.

    Idempotent on ``request_key``: the same form submitted again returns the
    first forward and queues nothing. Raises ForwardRefused, storing
    nothing, for a reader who may not forward, too many addresses or a
    request beyond the daily limit. Colleagues this MP already sent the pack
    to get no second copy; suppressed or opted-out addresses and readers of
    the campaign itself are stored as skipped, without their address.
    """
    if not passes_on(delivery):
        raise ForwardRefused(NOT_ALLOWED)
    existing = Forward.objects.filter(request_key=request_key).first()
    if existing is not None:
        if existing.referral.delivery_id != delivery.pk:
            raise ForwardRefused(NOT_ALLOWED)
        return ForwardResult(forward=existing, created=False, queued=0)
    limit = settings.RELAY_FORWARD_MAX_RECIPIENTS
    unique = list(dict.fromkeys(a.strip().lower() for a in addresses if a.strip()))
    if len(unique) > limit:
        raise ForwardRefused(str(TOO_MANY % {"count": limit}))
    # Lock the MP's row: two requests at once cannot both pass the daily limit.
    Contact.objects.select_for_update().filter(pk=delivery.contact_id).first()
    referral = referral_get(delivery=delivery, kind=Referral.Kind.FORWARD)
    known_keys = set(
        ForwardRecipient.objects.filter(referral=referral).values_list(
            "address_key", flat=True
        )
    )
    opted_out = set(
        ForwardOptOut.objects.filter(
            address_key__in=[address_key(a) for a in unique]
        ).values_list("address_key", flat=True)
    )
    page = delivery.campaign.page
    rows: list[ForwardRecipient] = []
    for address in unique:
        key = address_key(address)
        if key in known_keys:
            continue
        contact = Contact.objects.filter(email__iexact=address).first()
        row = ForwardRecipient(
            referral=referral,
            address_key=key,
            email=address,
            contact=contact,
            language=delivery.language,
        )
        if key in opted_out or is_suppressed(address):
            row.status, row.reason, row.email = Status.SKIPPED, "suppressed", ""
        elif (
            contact is not None
            and Delivery.objects.filter(
                campaign_id=delivery.campaign_id, contact=contact
            ).exists()
        ):
            row.status, row.reason, row.email = Status.SKIPPED, "in the audience", ""
        elif contact is not None:
            row.language = _mailable_language(
                page, contact.preferred_language, delivery.language
            )
        rows.append(row)
    queued = sum(1 for row in rows if row.status == Status.PENDING)
    daily = settings.RELAY_FORWARD_DAILY_LIMIT
    if forwards_today(contact_id=delivery.contact_id) + queued > daily:
        raise ForwardRefused(str(DAILY_LIMIT % {"count": daily}))
    forward = Forward.objects.create(
        referral=referral,
        request_key=request_key,
        note=note_clean(note),
        language=delivery.language,
    )
    for row in rows:
        row.forward = forward
    ForwardRecipient.objects.bulk_create(rows)
    if queued:
        from newsletter.tasks import forward_send_task  # tasks import sending

        forward_send_task.delay_on_commit(forward.pk)
    return ForwardResult(forward=forward, created=True, queued=queued)


def forward_pixel_url(token: str) -> str:
    """Return the open pixel of a colleague's copy."""
    return settings.RELAY_BASE_URL + reverse("newsletter:forward_pixel", args=[token])


def forward_stop_url(token: str, *, language: str) -> str:
    """Return the page where a colleague stops forwarded copies, in ``language``."""
    with translation.override(language):
        return settings.RELAY_BASE_URL + reverse("public:forward_stop", args=[token])


def forward_message(
    recipient: ForwardRecipient, *, forward: Forward, page: Page, tracked: bool
) -> AnymailMessage:
    """Return a colleague's copy: the page in their language, with only their own links."""
    mp_delivery = forward.referral.delivery
    mp = mp_delivery.contact
    language = recipient.language
    with translation.override(language):
        sender = mp.full_name or str(_("A member of parliament"))
    variant = render_variant(
        page,
        language=language,
        country=mp_delivery.country,
        extra={"forwarded_by": sender, "forward_note": forward.note},
    )
    stop_url = forward_stop_url(recipient.token, language=language)
    fields = {
        "pixel_html": (
            f'<img src="{forward_pixel_url(recipient.token)}" width="1" height="1" '
            'alt="" style="display:block;width:1px;height:1px;border:0">'
            if tracked
            else ""
        ),
        "unsubscribe_url": stop_url,
    }
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    message = AnymailMessage(
        subject=variant.subject,
        body=personalise(variant.text, fields, escape=False),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        headers={
            "Content-Language": language,
            # RFC 8058: the colleague's own opt-out, one POST, no cookie.
            "List-Unsubscribe": f"<{stop_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Message-ID": f"<relay.fwd.{recipient.pk}.{secrets.token_hex(6)}@{domain}>",
        },
    )
    message.attach_alternative(
        personalise(variant.html, fields, escape=True), "text/html"
    )
    message.metadata = {"forward_recipient_id": str(recipient.pk)}
    message.tags = ["forward"]
    return message


def _finish(
    row: ForwardRecipient, claim: uuid.UUID, status: str, **changes: object
) -> int:
    """Write a final state for a claimed row and forget its address."""
    return ForwardRecipient.objects.filter(pk=row.pk, claim=claim).update(
        status=status, email="", **changes
    )


def forward_send(*, forward_id: int) -> dict[str, int]:
    """Hand a forward's pending copies to the provider, at most once each; return counts.

    Claims the rows first (pending → sending with a fresh claim), so a task
    delivered twice sends nothing the second time; stamps ``attempted_at``
    right before each provider call. A transient failure releases the rows
    not yet attempted and raises TransientSendError for a retry; an unknown
    outcome (a read timeout) leaves the row uncertain, never resent.
    """
    claim = uuid.uuid4()
    claimed = ForwardRecipient.objects.filter(
        forward_id=forward_id, status=Status.PENDING
    ).update(
        status=Status.SENDING,
        claim=claim,
        claimed_at=timezone.now(),
        attempted_at=None,
    )
    counts = {"claimed": claimed, "sent": 0, "skipped": 0, "failed": 0, "uncertain": 0}
    if not claimed:
        return counts
    forward = Forward.objects.select_related(
        "referral__delivery__contact", "referral__delivery__campaign__page"
    ).get(pk=forward_id)
    rows = list(
        ForwardRecipient.objects.filter(
            forward_id=forward_id, status=Status.SENDING, claim=claim
        )
        .select_related("contact")
        .order_by("pk")
    )
    source = forward.referral.delivery.campaign.page
    pages = {
        page.locale.language_code: page
        for page in source.get_translations(inclusive=True)
        .live()
        .select_related("locale")
        .specific()
    }
    with get_connection() as connection:
        for index, row in enumerate(rows):
            page = pages.get(row.language) or pages.get(forward.language)
            # Read now: an opt-out or suppression made meanwhile holds.
            if (
                page is None
                or ForwardOptOut.objects.filter(address_key=row.address_key).exists()
                or is_suppressed(row.email)
            ):
                counts["skipped"] += _finish(
                    row, claim, Status.SKIPPED, reason="no longer mailable"
                )
                continue
            tracked = forward_tracking_allowed(row)
            stamped = ForwardRecipient.objects.filter(
                pk=row.pk, claim=claim, status=Status.SENDING
            ).update(attempted_at=timezone.now(), tracked=tracked)
            if not stamped:
                continue
            row.tracked = tracked
            message = forward_message(row, forward=forward, page=page, tracked=tracked)
            message.connection = connection
            try:
                message.send()
            except Exception as exc:  # classified below: failed, retried or uncertain
                outcome = classify_send_error(exc)
                logger.warning("Forward copy %s: %s (%s)", row.pk, outcome, exc)
                if outcome == "permanent":
                    counts["failed"] += _finish(
                        row, claim, Status.FAILED, reason=str(exc)[:255]
                    )
                    continue
                if outcome == "retry":
                    ForwardRecipient.objects.filter(
                        pk__in=[r.pk for r in rows[index:]], claim=claim
                    ).update(status=Status.PENDING, claim=None, attempted_at=None)
                    raise TransientSendError(str(exc)) from exc
                counts["uncertain"] += _finish(
                    row, claim, Status.UNCERTAIN, reason=str(exc)[:255]
                )
                continue
            status = getattr(message, "anymail_status", None)
            counts["sent"] += _finish(
                row,
                claim,
                Status.SENT,
                sent_at=timezone.now(),
                provider_message_id=str(getattr(status, "message_id", "") or "")[:255],
            )
    return counts


FORWARD_UNCERTAIN_AFTER_CRASH = "the worker stopped during the provider call"


def forward_copies_sweep(*, claim_timeout: float) -> dict[str, int]:
    """Take over the copies of stopped workers; return how many went where.

    Copies claimed more than ``claim_timeout`` seconds ago and still being
    sent belong to a worker that stopped. Those whose provider call had begun
    may have been taken: they become uncertain (never resent) and their
    address is forgotten, as after any hand-off. The others go back to
    pending, and their forward is queued again.
    """
    from newsletter.tasks import forward_send_task  # tasks import this module

    cutoff = timezone.now() - timedelta(seconds=claim_timeout)
    stale = ForwardRecipient.objects.filter(
        status=Status.SENDING, claimed_at__lt=cutoff
    )
    uncertain = stale.filter(attempted_at__isnull=False).update(
        status=Status.UNCERTAIN, email="", reason=FORWARD_UNCERTAIN_AFTER_CRASH
    )
    untried = stale.filter(attempted_at__isnull=True)
    requeued = 0
    for forward_id in sorted(set(untried.values_list("forward_id", flat=True))):
        # Queued only for rows this sweep did take back (conditional UPDATE).
        taken = untried.filter(forward_id=forward_id).update(
            status=Status.PENDING, claim=None, claimed_at=None
        )
        if taken:
            forward_send_task.delay(forward_id)
            requeued += taken
    return {"forward_uncertain": uncertain, "forward_requeued": requeued}
