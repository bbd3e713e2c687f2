"""How MPs pass campaigns on: their referrals, shared-link visits and forwarded opens.

Privacy (docs/reach.md): colleagues and visitors never consented to anything,
so nothing kept about them identifies them outside Relay. A colleague's
address becomes a keyed hash (``address_key``) once their copy is handed
over; a visitor is a keyed hash of a random first-party cookie; a device that
loads an MP's pixel is a keyed hash of its user agent and network. The keys
are derived from ``SECRET_KEY`` (``salted_hmac``), so the hashes cannot be
matched against a list of addresses without it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
import unicodedata
from datetime import datetime
from functools import lru_cache

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from newsletter.models import (
    Contact,
    Delivery,
    ForwardOptOut,
    ForwardRecipient,
    OpenDevice,
    Referral,
    ReferralVisitor,
)

from . import machine
from .hits import hit_commit_sql
from .links import tracking_allowed
from .tokens import TOKEN_PATTERN

# Readers who may pass a campaign on: members of parliament, as direct reach
# counts them (newsletter.reach.metrics.MEMBERS_OF_PARLIAMENT).
PASSING_ON_KINDS = (Contact.Kind.MP, Contact.Kind.MEP)
VISITOR_COOKIE = "relay_visitor"
# 13 months, the CNIL's ceiling for audience-measurement cookies.
VISITOR_COOKIE_AGE = 395 * 24 * 3600
# Request headers by which browsers and mail programs announce a prefetch.
_PREFETCH_HEADERS = {
    "Purpose": "prefetch",
    "Sec-Purpose": "prefetch",
    "X-Purpose": "preview",
    "X-Moz": "prefetch",
}
PREFETCH = "prefetch"


def address_key(email: str) -> str:
    """Return the keyed hash by which a colleague's address is remembered."""
    normalised = unicodedata.normalize("NFC", email.strip()).lower()
    return salted_hmac(
        "newsletter.forward.address", normalised, algorithm="sha256"
    ).hexdigest()


def visitor_key(cookie: str) -> str:
    """Return the keyed hash of a visitor cookie: the cookie itself is never stored."""
    return salted_hmac("newsletter.visitor", cookie, algorithm="sha256").hexdigest()


def new_visitor_cookie() -> str:
    """Return a fresh random visitor cookie value."""
    return secrets.token_urlsafe(16)


def device_fingerprint(*, user_agent: str, client: str) -> str:
    """Return the keyed fingerprint of a device: its agent and network, never its address.

    The network is the IPv4 /24 or IPv6 /48 around ``client`` (the
    truncation reliability.md allows), so a phone moving between cells of one
    network stays one device.
    """
    value = f"{user_agent.strip()}|{client_network(client)}".encode()
    # salted_hmac("newsletter.device", value, algorithm="sha256"), its key
    # derived once per secret instead of on every open.
    return hmac.new(_device_key(settings.SECRET_KEY), value, hashlib.sha256).hexdigest()


@lru_cache(maxsize=8)
def _device_key(secret: str) -> bytes:
    return hashlib.sha256(("newsletter.device" + secret).encode()).digest()


def client_network(client: str) -> str:
    """Return the IPv4 /24 or IPv6 /48 around ``client`` as text, or "" for no address.

    A dotted IPv4 address is cut as text (``ipaddress`` took most of the
    pixel's fingerprint time); anything else goes through ``ipaddress``,
    with the same result (tests/tracking/test_referrals_network.py).
    """
    parts = client.split(".")
    if len(parts) == 4 and all(_OCTET.fullmatch(part) for part in parts):
        return f"{parts[0]}.{parts[1]}.{parts[2]}.0/24"
    return network_by_ipaddress(client)


def network_by_ipaddress(client: str) -> str:
    """Return what ``client_network`` returns, by ``ipaddress`` alone."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


# A decimal octet as ipaddress reads it: 0 to 255, no leading zero.
_OCTET = re.compile(r"25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9]")


def passes_on(delivery: Delivery) -> bool:
    """Return whether the reader of ``delivery`` may pass its campaign on."""
    return (
        delivery.status == Delivery.Status.SENT
        and delivery.contact.kind in PASSING_ON_KINDS
        and delivery.contact.status == Contact.Status.ACTIVE
    )


def mp_delivery_for_token(token: str) -> Delivery | None:
    """Return the sent delivery of an MP behind ``token``, or None for anything else."""
    if not TOKEN_PATTERN.fullmatch(token):
        return None
    delivery = (
        Delivery.objects.filter(token=token)
        .select_related("contact", "campaign__page")
        .first()
    )
    if delivery is None or not passes_on(delivery):
        return None
    return delivery


def referral_get(*, delivery: Delivery, kind: str) -> Referral:
    """Return the referral of ``kind`` of an MP's delivery, making it on first use (idempotent)."""
    referral = Referral.objects.filter(delivery=delivery, kind=kind).first()
    if referral is not None:
        return referral
    try:
        with transaction.atomic():
            return Referral.objects.create(delivery=delivery, kind=kind)
    except IntegrityError:  # made concurrently
        return Referral.objects.get(delivery=delivery, kind=kind)


def shared_url(referral: Referral) -> str:
    """Return the absolute short link of a shared-link or QR referral."""
    return settings.RELAY_BASE_URL + reverse("newsletter:shared", args=[referral.token])


def shared_referral_for_token(token: str) -> Referral | None:
    """Return the shared-link or QR referral behind ``token``, or None."""
    if not TOKEN_PATTERN.fullmatch(token):
        return None
    return (
        Referral.objects.filter(
            token=token, kind__in=(Referral.Kind.LINK, Referral.Kind.QR)
        )
        .select_related("delivery__campaign__page")
        .first()
    )


def visit_verdict(*, method: str, headers: dict[str, str]) -> machine.Verdict:
    """Return whether a visit of a shared link was a machine's.

    Machines: HEAD requests, prefetches announced in a header, no user agent
    at all (every browser sends one), and what ``machine.agent_verdict``
    recognises (scanners, proxies, bots, HTTP libraries).
    """
    if method == "HEAD":
        return machine.Verdict(True, PREFETCH)
    for name, value in _PREFETCH_HEADERS.items():
        if value in headers.get(name, "").lower():
            return machine.Verdict(True, PREFETCH)
    agent = headers.get("User-Agent", "").strip()
    if not agent:
        return machine.Verdict(True, machine.SCANNER_AGENT)
    return machine.agent_verdict(agent)


def visit_record(
    *, referral: Referral, cookie: str, verdict: machine.Verdict
) -> ReferralVisitor:
    """Count one visit of a shared link or QR code; return the visitor's row.

    ``cookie`` is the visitor's random cookie ("" when none may be kept): the
    same browser coming back adds a visit, never a visitor. Only its keyed
    hash is stored.
    """
    now = timezone.now()
    key = visitor_key(cookie) if cookie else ""
    lookup = {
        "referral": referral,
        "visitor_key": key,
        "is_machine": verdict.is_machine,
    }
    updated = ReferralVisitor.objects.filter(**lookup).update(
        visits=F("visits") + 1, last_seen=now
    )
    if not updated:
        try:
            with transaction.atomic():
                return ReferralVisitor.objects.create(
                    **lookup,
                    machine_reason=verdict.reason,
                    visits=1,
                    first_seen=now,
                    last_seen=now,
                )
        except IntegrityError:  # the same visitor, concurrently
            ReferralVisitor.objects.filter(**lookup).update(
                visits=F("visits") + 1, last_seen=now
            )
    return ReferralVisitor.objects.get(**lookup)


def forward_recipient_for_token(token: str) -> ForwardRecipient | None:
    """Return the forwarded copy behind ``token``, or None."""
    if not TOKEN_PATTERN.fullmatch(token):
        return None
    return (
        ForwardRecipient.objects.filter(token=token)
        .select_related("contact", "referral__delivery__campaign__page")
        .first()
    )


def forward_tracking_allowed(recipient: ForwardRecipient) -> bool:
    """Return whether an open of a colleague's copy may be counted now.

    Never in anonymous mode; for a colleague in the directory, only with
    their tracking consent; for anyone else, the copy's one counting pixel
    (docs/reach.md: one first-open mark on a row that holds no address).
    """
    if settings.RELAY_ANONYMOUS_TRACKING:
        return False
    if recipient.contact is not None:
        return tracking_allowed(recipient.contact)
    return True


def forward_open_record(*, recipient: ForwardRecipient, user_agent: str) -> bool:
    """Mark the first human (or machine) open of a colleague's copy; return whether one was marked.

    Only the first of each is kept, as a time: no profile of opens builds up.
    """
    if not recipient.tracked or not forward_tracking_allowed(recipient):
        return False
    verdict = machine.open_verdict(user_agent=user_agent)
    field = "machine_opened_at" if verdict.is_machine else "opened_at"
    return bool(
        ForwardRecipient.objects.filter(
            pk=recipient.pk, **{f"{field}__isnull": True}
        ).update(**{field: timezone.now()})
    )


@transaction.atomic(durable=True)
def forward_opt_out(*, recipient: ForwardRecipient) -> ForwardOptOut:
    """Stop every forwarded copy to the colleague of ``recipient``; return the opt-out (idempotent)."""
    opt_out, _created = ForwardOptOut.objects.get_or_create(
        address_key=recipient.address_key
    )
    ForwardRecipient.objects.filter(
        address_key=recipient.address_key, status=ForwardRecipient.Status.PENDING
    ).update(status=ForwardRecipient.Status.SKIPPED, reason="opted out", email="")
    return opt_out


def open_device_record(
    *, delivery: Delivery, user_agent: str, client: str, is_machine: bool
) -> bool:
    """Remember a device that loaded an MP's pixel; return whether it is new.

    Only for MPs' deliveries, and only where the open itself may be recorded
    (the caller checks consent): the estimate of forwarded copies rests on it.
    """
    if delivery.contact.kind not in PASSING_ON_KINDS:
        return False
    try:
        with transaction.atomic():
            OpenDevice.objects.create(
                delivery=delivery,
                fingerprint=device_fingerprint(user_agent=user_agent, client=client),
                is_machine=is_machine,
                first_seen=timezone.now(),
            )
    except IntegrityError:
        return False
    return True


def open_device_record_for_token(
    *, token: str, user_agent: str, client: str, is_machine: bool
) -> bool:
    """Remember the device that loaded the pixel of delivery ``token``, for MPs only.

    The pixel's fast path: one INSERT ... SELECT that finds the delivery, checks
    that its reader is an MP who consents to tracking and skips a device already
    known (the unique constraint), without reading the rows first. Returns
    whether a device was added.
    """
    device, delivery, contact = OpenDevice._meta, Delivery._meta, Contact._meta
    name = connection.ops.quote_name
    with_commit, commit_from = hit_commit_sql()
    # Names from the models' _meta, every value a parameter.
    sql = (
        f"{with_commit}INSERT INTO {name(device.db_table)} "  # noqa: S608
        f"({name(device.get_field('delivery').column)}, "
        f"{name(device.get_field('fingerprint').column)}, "
        f"{name(device.get_field('is_machine').column)}, "
        f"{name(device.get_field('first_seen').column)}) "
        f"SELECT d.{name(delivery.pk.column)}, %s, %s, %s "
        f"FROM {commit_from}{name(delivery.db_table)} d "
        f"JOIN {name(contact.db_table)} c "
        f"ON c.{name(contact.pk.column)} = d.{name(delivery.get_field('contact').column)} "
        f"WHERE d.{name(delivery.get_field('token').column)} = %s "
        f"AND c.{name(contact.get_field('tracking_consent').column)} "
        f"AND c.{name(contact.get_field('kind').column)} IN (%s, %s) "
        "ON CONFLICT DO NOTHING"
    )
    first_seen = device.get_field("first_seen").get_db_prep_save(
        timezone.now(), connection
    )
    params = [
        device_fingerprint(user_agent=user_agent, client=client),
        is_machine,
        first_seen,
        token,
        *PASSING_ON_KINDS,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return bool(cursor.rowcount)


def estimated_readers(first_seen: list[datetime], *, own: int) -> list[datetime]:
    """Return when each device beyond an MP's ``own`` first ones was first seen.

    The MP's own devices are taken to be the first ``own`` human devices
    that loaded their pixel (a phone and a computer, by default); every
    further one is counted as one estimated reader of a forwarded copy.
    """
    return sorted(first_seen)[own:]
