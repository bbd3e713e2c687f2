"""Recording what happens to mail after it was sent."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import mail_admins, send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import DurationField
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from newsletter.audience.consent import contact_unsubscribe_all
from newsletter.models import (
    ConsentRecord,
    Contact,
    Delivery,
    DeliveryOutcome,
    Link,
    ProviderEvent,
    Suppression,
    TrackingEvent,
)

from . import bounces, machine
from .buffer import HitBuffer, click_hit, hit_buffer, open_hit
from .hits import hit_commit_sql, hit_read
from .links import link_pk, link_target, tracking_allowed
from .referrals import (
    PASSING_ON_KINDS,
    device_fingerprint,
    open_device_record,
    open_device_record_for_token,
)
from .signed import tracking_id_parse
from .tokens import TOKEN_PATTERN

logger = logging.getLogger(__name__)

Kind = TrackingEvent.Kind
# The admin role created by migration 0005_roles.
SECRETARIAT_GROUP = "Secretariat"
State = DeliveryOutcome.State


def open_record(
    *, delivery: Delivery, user_agent: str = "", client: str = ""
) -> TrackingEvent | None:
    """Record an open of ``delivery`` seen through the pixel; return the event.

    Returns None, recording nothing, when the reader has not consented to
    tracking at hit time or the deployment is anonymous (the pixel is not
    sent to them, but an old mail may still load it).
    Opens by Apple's privacy proxy, prefetching image proxies and scanners are
    recorded flagged as machine (newsletter.tracking.machine). For an MP, the
    device (a keyed hash of agent and network, ``client`` is not stored) is
    remembered for the estimate of copies forwarded from a mail program.
    """
    if not tracking_allowed(delivery.contact):
        return None
    verdict = machine.open_verdict(user_agent=user_agent)
    open_device_record(
        delivery=delivery,
        user_agent=user_agent,
        client=client,
        is_machine=verdict.is_machine,
    )
    return TrackingEvent.objects.create(
        delivery=delivery,
        kind=TrackingEvent.Kind.OPENED,
        source=TrackingEvent.Source.PIXEL,
        occurred_at=timezone.now(),
        user_agent_family=_agent_family(user_agent),
        is_machine=verdict.is_machine,
        machine_reason=verdict.reason,
    )


def open_record_for_token(
    *, token: str, user_agent: str = "", client: str = ""
) -> bool | None:
    """Record an open through the pixel of delivery ``token``; return whether one was.

    ``token`` is a signed tracking id (``newsletter.tracking.signed``), as mail
    carries, or a bare delivery token. None: no delivery has that token (or
    the id does not verify). The same rules as ``open_record`` (consent
    read at hit time, anonymous mode, machine flag), in one statement: an
    INSERT ... SELECT that finds the delivery, checks its reader's consent and
    writes the event, since the pixel is the most requested URL of all and a
    round trip per query was most of its cost. Only a hit that records nothing
    (no consent, or an unknown token) reads again, to tell the two apart. For
    an MP, a second INSERT ... SELECT remembers the device (``client`` is not
    stored) for the estimate of copies forwarded from a mail program.

    With a tracking buffer (``RELAY_TRACKING_BUFFER``), the hit goes to Redis
    instead, written later in bulk (``newsletter.tracking.buffer``), where the
    consent is read; True then means handed to the buffer. A tracking id
    needs no read; a bare token one, by token.
    """
    parsed = _hit_token(token)
    if parsed is None:
        return None
    token, signed = parsed
    if signed is not None and settings.RELAY_ANONYMOUS_TRACKING:
        return False  # a mail Relay sent; nothing is kept
    buffer = None if settings.RELAY_ANONYMOUS_TRACKING else hit_buffer()
    if buffer is not None:
        if signed is not None:
            return _open_buffered(
                buffer,
                token=token,
                passes_on=signed[2],
                user_agent=user_agent,
                client=client,
            )
        return _open_bare(buffer, token=token, user_agent=user_agent, client=client)
    if not settings.RELAY_ANONYMOUS_TRACKING:
        verdict = machine.open_verdict(user_agent=user_agent)
        now = timezone.now()
        values = _hit_values(
            kind=Kind.OPENED,
            source=TrackingEvent.Source.PIXEL,
            occurred_at=now,
            verdict=verdict,
            user_agent=user_agent,
        )
        event, delivery, contact = (
            TrackingEvent._meta,
            Delivery._meta,
            Contact._meta,
        )
        name = connection.ops.quote_name
        fields = [event.get_field(key) for key in values]
        with_commit, commit_from = hit_commit_sql()
        # Names from the models' _meta, every value a parameter.
        sql = (
            f"{with_commit}INSERT INTO {name(event.db_table)} "  # noqa: S608
            f"({name(event.get_field('delivery').column)}, "
            f"{', '.join(name(f.column) for f in fields)}) "
            f"SELECT d.{name(delivery.pk.column)}, {', '.join(['%s'] * len(fields))} "
            f"FROM {commit_from}{name(delivery.db_table)} d "
            f"JOIN {name(contact.db_table)} c "
            f"ON c.{name(contact.pk.column)} = d.{name(delivery.get_field('contact').column)} "
            f"WHERE d.{name(delivery.get_field('token').column)} = %s "
            f"AND c.{name(contact.get_field('tracking_consent').column)}"
        )
        params = [f.get_db_prep_save(values[f.name], connection) for f in fields] + [
            token
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            recorded = bool(cursor.rowcount)
        if recorded:
            open_device_record_for_token(
                token=token,
                user_agent=user_agent,
                client=client,
                is_machine=verdict.is_machine,
            )
            return True
    return False if Delivery.objects.filter(token=token).exists() else None


def _hit_token(value: str) -> tuple[str, tuple[str, int, bool] | None] | None:
    """Return the delivery token in a hit's URL and, for a tracking id, its parts.

    None for neither a token nor a tracking id that verifies.
    """
    if "." in value:
        signed = tracking_id_parse(value)
        return None if signed is None else (signed[0], signed)
    return (value, None) if TOKEN_PATTERN.fullmatch(value) else None


def _open_buffered(
    buffer: HitBuffer, *, token: str, passes_on: bool, user_agent: str, client: str
) -> bool:
    """Buffer a pixel open of a mail Relay sent; return True.

    Nothing is read: the id's signature says the mail was Relay's, and the
    drain reads whether the delivery exists and its reader consents when it
    writes the hit. The push waits neither for other hits nor for Redis's
    answer (``HitBuffer.push_soon``).
    """
    verdict = machine.open_verdict(user_agent=user_agent)
    entry = open_hit(
        token=token,
        verdict=verdict,
        family=_agent_family(user_agent),
        fingerprint=(
            device_fingerprint(user_agent=user_agent, client=client)
            if passes_on
            else ""
        ),
    )
    _push_soon(buffer, entry)
    return True


def _open_bare(
    buffer: HitBuffer, *, token: str, user_agent: str, client: str
) -> bool | None:
    """Buffer a pixel open of a bare token; return as ``open_record_for_token``.

    Mail carries signed tracking ids; a bare token (a URL made by hand, or a
    mail sent before them) makes one query, by the token's unique index: the
    delivery exists (else None), its reader consents now (else False, nothing
    kept) and is an MP or not (whose device is remembered).
    """
    row = hit_read(_reader_sql, [token])
    if row is None:
        return None
    consent, kind = row
    if not consent:
        return False
    return _open_buffered(
        buffer,
        token=token,
        passes_on=kind in PASSING_ON_KINDS,
        user_agent=user_agent,
        client=client,
    )


@cache
def _reader_sql(vendor: str) -> str:
    """Return the query of a pixel hit: its reader's consent and kind, by token."""
    delivery, contact = Delivery._meta, Contact._meta
    name = connection.ops.quote_name
    # Names from the models' _meta; the token is a parameter.
    return (
        f"SELECT c.{name(contact.get_field('tracking_consent').column)}, "  # noqa: S608
        f"c.{name(contact.get_field('kind').column)} "
        f"FROM {name(delivery.db_table)} d JOIN {name(contact.db_table)} c "
        f"ON c.{name(contact.pk.column)} = d.{name(delivery.get_field('contact').column)} "
        f"WHERE d.{name(delivery.get_field('token').column)} = %s"
    )


def click_record_for_token(
    *, token: str, link_id: str, user_agent: str = ""
) -> str | None:
    """Record a click of link ``link_id`` through delivery ``token``'s redirect; return its URL.

    None: no delivery has that token, or the link is not in the link map of its
    campaign (the view answers a plain 404). A reader who does not consent to
    tracking at hit time, or any reader in anonymous mode, is redirected and
    leaves no trace; scanners' clicks (their agents, or bursts of links clicked
    within seconds of delivery) are recorded flagged as machine. In two round
    trips: one query reads the reader's consent, the link's stored URL, when
    the mail was delivered and how many distinct links were clicked in the
    burst window after; then one insert. Only a click that makes a
    burst also reclassifies the burst's earlier clicks.

    With a tracking buffer (``RELAY_TRACKING_BUFFER``), the hit goes to Redis,
    and consent and bursts are settled when it is written
    (``newsletter.tracking.drain``). A signed tracking id needs only the link
    (kept by the process once read), which must be of the signed campaign; a
    bare token one read of the consent and the URL.
    """
    pk = link_pk(link_id)
    if pk is None:
        return None
    parsed = _hit_token(token)
    if parsed is None:
        return None
    token, signed = parsed
    buffer = hit_buffer()
    if signed is not None:
        # The id is a mail's of the signed campaign: its link must be too.
        target = link_target(pk)
        if target is None or target[0] != signed[1]:
            return None
        if settings.RELAY_ANONYMOUS_TRACKING:
            return target[1]
        if buffer is not None:
            return _click_buffered(
                buffer, token=token, link_pk=pk, url=target[1], user_agent=user_agent
            )
    elif buffer is not None:
        return _click_bare(buffer, token=token, link_pk=pk, user_agent=user_agent)
    row = _click_hit(token=token, link_pk=pk)
    if row is None or row[2] is None:
        return None
    delivery_id, consent, url, delivered_at, early_links, early_this = row
    delivered_at = _datetime(delivered_at)
    if not consent or settings.RELAY_ANONYMOUS_TRACKING:
        return url  # redirected, but no trace kept
    occurred_at = timezone.now()
    links = 0
    if delivered_at is not None:
        links = early_links or 0
        seconds = (occurred_at - delivered_at).total_seconds()
        if not early_this and 0 <= seconds <= machine.SCANNER_BURST_SECONDS:
            links += 1  # this click is one more link in the window
    verdict = machine.early_click_verdict(user_agent=user_agent, early_links=links)
    if verdict.reason != machine.SCANNER_BURST:
        _click_insert(delivery_id, url, occurred_at, user_agent, verdict)
        return url
    with transaction.atomic():
        burst_reclassify(delivery_id=delivery_id, delivered_at=delivered_at)
        _click_insert(delivery_id, url, occurred_at, user_agent, verdict)
    return url


def _click_buffered(
    buffer: HitBuffer, *, token: str, link_pk: int, url: str, user_agent: str
) -> str:
    """Buffer a redirect click of a mail Relay sent; return ``url``.

    As ``_open_buffered``: nothing is read but the link (kept by the
    process once read), and the push waits for nothing.
    """
    entry = click_hit(
        token=token,
        link_id=link_pk,
        verdict=machine.early_click_verdict(user_agent=user_agent, early_links=0),
        family=_agent_family(user_agent),
    )
    _push_soon(buffer, entry)
    return url


def _push_soon(buffer: HitBuffer, entry: str) -> None:
    """Hand a hit to the buffer; write at once what Redis cannot take."""
    unsent = buffer.push_soon(entry)
    if unsent:
        from .drain import hits_write  # the drain imports this module

        logger.warning(
            "Tracking buffer unreachable: %s hit(s) written at once.", len(unsent)
        )
        hits_write(raw=unsent)


def _click_bare(
    buffer: HitBuffer, *, token: str, link_pk: int, user_agent: str
) -> str | None:
    """Buffer a redirect click of a bare token; return as ``click_record_for_token``.

    As ``_open_bare``, one query, by the token's unique index and the link's
    primary key: the reader's consent now and the URL of link ``link_pk`` if
    it is in the link map of the delivery's campaign. None (a 404) for an
    unknown token or a link not in that map. The agent's verdict is settled
    here, scanner bursts when the hit is written (``newsletter.tracking.drain``).
    """
    row = hit_read(_click_target_sql, [link_pk, token])
    if row is None or row[1] is None:
        return None
    consent, url = row
    if not consent or settings.RELAY_ANONYMOUS_TRACKING:
        return url  # redirected, but no trace kept
    return _click_buffered(
        buffer, token=token, link_pk=link_pk, url=url, user_agent=user_agent
    )


@cache
def _click_target_sql(vendor: str) -> str:
    """Return the query of a buffered click: the reader's consent and the link's URL."""
    delivery, contact, link = Delivery._meta, Contact._meta, Link._meta
    name = connection.ops.quote_name

    def col(meta, field: str) -> str:
        return name(meta.get_field(field).column)

    # Names from the models' _meta, every value a parameter.
    return (
        f"SELECT c.{col(contact, 'tracking_consent')}, l.{col(link, 'url')} "  # noqa: S608
        f"FROM {name(delivery.db_table)} d JOIN {name(contact.db_table)} c "
        f"ON c.{name(contact.pk.column)} = d.{col(delivery, 'contact')} "
        f"LEFT JOIN {name(link.db_table)} l ON l.{name(link.pk.column)} = %s "
        f"AND l.{col(link, 'campaign')} = d.{col(delivery, 'campaign')} "
        f"WHERE d.{col(delivery, 'token')} = %s"
    )


def _click_hit(*, token: str, link_pk: int) -> tuple | None:
    """Return what a click needs to know, in one query, or None for an unknown token.

    The delivery's id, its reader's consent now, the URL of link ``link_pk`` if
    it is in the delivery's campaign's link map (else None), when the mail
    was delivered (its first ``delivered`` event, else when it was sent), the
    number of distinct links clicked within the burst window after that, and
    whether this link is one of them. Raw SQL: the ORM's compiling of the
    same query cost more than the query itself on the busiest URL but one.
    """
    event, delivery, contact, link = (
        TrackingEvent._meta,
        Delivery._meta,
        Contact._meta,
        Link._meta,
    )
    name = connection.ops.quote_name

    def col(meta, field: str) -> str:
        return name(meta.get_field(field).column)

    window_end = connection.ops.combine_duration_expression(
        "+", ["h.delivered_at", "%s"]
    )
    # Names from the models' _meta, every value a parameter.
    sql = (
        "SELECT h.id, h.consent, h.url, h.delivered_at, "  # noqa: S608
        f"COUNT(DISTINCT e.{col(event, 'link')}), "
        f"COUNT(CASE WHEN e.{col(event, 'link')} = h.url THEN 1 END) "
        f"FROM (SELECT d.{name(delivery.pk.column)} AS id, "
        f"c.{col(contact, 'tracking_consent')} AS consent, "
        f"(SELECT l.{col(link, 'url')} FROM {name(link.db_table)} l "
        f"WHERE l.{name(link.pk.column)} = %s "
        f"AND l.{col(link, 'campaign')} = d.{col(delivery, 'campaign')}) AS url, "
        f"COALESCE((SELECT MIN(f.{col(event, 'occurred_at')}) "
        f"FROM {name(event.db_table)} f "
        f"WHERE f.{col(event, 'delivery')} = d.{name(delivery.pk.column)} "
        f"AND f.{col(event, 'kind')} = %s), d.{col(delivery, 'sent_at')}) "
        "AS delivered_at "
        f"FROM {name(delivery.db_table)} d JOIN {name(contact.db_table)} c "
        f"ON c.{name(contact.pk.column)} = d.{col(delivery, 'contact')} "
        f"WHERE d.{col(delivery, 'token')} = %s) h "
        f"LEFT JOIN {name(event.db_table)} e "
        f"ON e.{col(event, 'delivery')} = h.id AND e.{col(event, 'kind')} = %s "
        f"AND e.{col(event, 'occurred_at')} >= h.delivered_at "
        f"AND e.{col(event, 'occurred_at')} <= {window_end} "
        "GROUP BY h.id, h.consent, h.url, h.delivered_at"
    )
    window = DurationField().get_db_prep_value(
        timedelta(seconds=machine.SCANNER_BURST_SECONDS), connection
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [link_pk, Kind.DELIVERED, token, Kind.CLICKED, window])
        return cursor.fetchone()


def _datetime(value: datetime | str | None) -> datetime | None:
    """Return a timestamp read by raw SQL as an aware datetime (SQLite gives text)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def _click_insert(
    delivery_id: int,
    url: str,
    occurred_at: datetime,
    user_agent: str,
    verdict: machine.Verdict,
) -> None:
    """Insert a click of the redirect, committed as a hit (newsletter.tracking.hits)."""
    values = {
        "delivery": delivery_id,
        **_hit_values(
            kind=Kind.CLICKED,
            source=TrackingEvent.Source.REDIRECT,
            occurred_at=occurred_at,
            verdict=verdict,
            user_agent=user_agent,
            link=url,
        ),
    }
    event = TrackingEvent._meta
    name = connection.ops.quote_name
    fields = [event.get_field(key) for key in values]
    with_commit, commit_from = hit_commit_sql()
    # Names from the model's _meta, every value a parameter.
    sql = (
        f"{with_commit}INSERT INTO {name(event.db_table)} "  # noqa: S608
        f"({', '.join(name(f.column) for f in fields)}) "
        f"SELECT {', '.join(['%s'] * len(fields))}"
        + (f" FROM {commit_from.rstrip(', ')}" if commit_from else "")
    )
    params = [f.get_db_prep_save(values[f.name], connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _hit_values(
    *,
    kind: str,
    source: str,
    occurred_at: datetime,
    verdict: machine.Verdict,
    user_agent: str,
    link: str = "",
) -> dict[str, object]:
    """Return the columns of a pixel open or a redirect click, as its INSERT writes them."""
    return {
        "kind": kind,
        "source": source,
        "occurred_at": occurred_at,
        "provider_event_id": "",
        "is_machine": verdict.is_machine,
        "machine_reason": verdict.reason,
        "bounce_class": "",
        "link": link,
        "user_agent_family": _agent_family(user_agent),
        "created_at": occurred_at,
    }


def _agent_family(user_agent: str) -> str:
    """Return a coarse client family: the full agent string is not kept."""
    return user_agent.split("/", 1)[0].strip()[:64]


def delivery_outcome_advance(
    *, delivery_id: int, state: str, occurred_at: datetime | None
) -> bool:
    """Move a delivery's outcome to ``state`` unless it is already as far; return whether it moved.

    The update is conditional on a lower rank, so out-of-order events never
    move a delivery backwards (delivered after bounced stays bounced).
    """
    rank = DeliveryOutcome.RANKS[state]
    try:
        with transaction.atomic():
            DeliveryOutcome.objects.create(
                delivery_id=delivery_id, state=state, rank=rank, occurred_at=occurred_at
            )
            return True
    except IntegrityError:
        pass
    moved = DeliveryOutcome.objects.filter(
        delivery_id=delivery_id, rank__lt=rank
    ).update(state=state, rank=rank, occurred_at=occurred_at)
    return moved == 1


def _delivery_for(provider_event: ProviderEvent) -> Delivery | None:
    """Return the delivery of an event: by the metadata the sender set, else by message id."""
    raw_id = (provider_event.metadata or {}).get("delivery_id")
    if raw_id is not None and str(raw_id).isdigit():
        found = Delivery.objects.filter(pk=int(raw_id)).first()
        if found is not None:
            return found
    if provider_event.message_id:
        return Delivery.objects.filter(
            provider_message_id=provider_event.message_id
        ).first()
    return None


def _suppress(*, digest: str, reason: str, note: str) -> None:
    """Suppress an address by its hash (the bounced address, even if since erased)."""
    if not digest or Suppression.objects.active().filter(address_hash=digest).exists():
        return
    try:
        with transaction.atomic():
            Suppression.objects.create(address_hash=digest, reason=reason, note=note)
    except IntegrityError:
        pass  # suppressed concurrently


def _contact_mark(contact: Contact, status: str) -> None:
    """Mark an active (or bounced, for a complaint) contact; never revive or un-erase."""
    allowed = [Contact.Status.ACTIVE]
    if status == Contact.Status.COMPLAINED:
        allowed.append(Contact.Status.BOUNCED)
    Contact.objects.filter(pk=contact.pk, status__in=allowed).update(
        status=status, updated_at=timezone.now()
    )


def soft_bounces_exceeded(*, contact: Contact, now: datetime | None = None) -> bool:
    """Return whether a contact's soft bounces call for suppression.

    Mailman-style: at most one counts per day, only those within
    RELAY_SOFT_BOUNCE_WINDOW_DAYS, and they must spread over at least
    RELAY_SOFT_BOUNCE_SPAN_DAYS, so one bad day at the reader's server never
    suppresses anyone.
    """
    now = now or timezone.now()
    since = now - timedelta(days=settings.RELAY_SOFT_BOUNCE_WINDOW_DAYS)
    days = sorted(
        {
            stamp.date()
            for stamp in TrackingEvent.objects.filter(
                delivery__contact=contact,
                kind=Kind.BOUNCED,
                bounce_class=bounces.SOFT,
                occurred_at__gte=since,
            ).values_list("occurred_at", flat=True)
        }
    )
    if len(days) < settings.RELAY_SOFT_BOUNCE_LIMIT:
        return False
    return (days[-1] - days[0]).days >= settings.RELAY_SOFT_BOUNCE_SPAN_DAYS


def _block_alert(*, provider_event: ProviderEvent, delivery: Delivery | None) -> None:
    """Tell the secretariat that mail was blocked by policy or reputation: it is ours to fix.

    The alert goes, after the commit, to the active users of the Secretariat
    group and to ``settings.ADMINS``.
    """
    campaign = delivery.campaign_id if delivery else None
    logger.error(
        "Mail blocked by policy or reputation (%s event %s, campaign %s).",
        provider_event.provider,
        provider_event.pk,
        campaign,
    )
    subject = "Relay: mail blocked by policy or reputation"
    body = (
        f"The provider {provider_event.provider} reported a policy or reputation "
        f"block (provider event {provider_event.pk}, campaign {campaign}). "
        "Readers are not suppressed for this: check the sending domain's "
        "reputation and authentication (SPF, DKIM, DMARC)."
    )
    secretariat = list(
        get_user_model()
        .objects.filter(groups__name=SECRETARIAT_GROUP, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )

    def alert() -> None:
        if secretariat:
            send_mail(subject, body, None, secretariat)
        mail_admins(subject, body)

    transaction.on_commit(alert)


def _click_verdict(
    *, delivery: Delivery, link: str, occurred_at: datetime, user_agent: str
) -> machine.Verdict:
    """Classify a provider-reported click, looking at the delivery's other clicks."""
    delivered_at = (
        TrackingEvent.objects.filter(delivery=delivery, kind=Kind.DELIVERED)
        .order_by("occurred_at")
        .values_list("occurred_at", flat=True)
        .first()
    ) or delivery.sent_at
    if delivered_at is None:
        return machine.click_verdict(user_agent=user_agent)
    clicks = [
        ((stamp - delivered_at).total_seconds(), url)
        for stamp, url in TrackingEvent.objects.filter(
            delivery=delivery, kind=Kind.CLICKED
        ).values_list("occurred_at", "link")
    ]
    clicks.append(((occurred_at - delivered_at).total_seconds(), link))
    verdict = machine.click_verdict(
        user_agent=user_agent, seconds_after_delivery=clicks
    )
    if verdict.reason == machine.SCANNER_BURST:
        burst_reclassify(delivery_id=delivery.pk, delivered_at=delivered_at)
    return verdict


def burst_reclassify(*, delivery_id: int, delivered_at: datetime) -> None:
    """Flag the earlier clicks of a burst, recorded before it was one (only the machine flag changes)."""
    TrackingEvent.objects.filter(
        delivery_id=delivery_id,
        kind=Kind.CLICKED,
        is_machine=False,
        occurred_at__lte=delivered_at
        + timedelta(seconds=machine.SCANNER_BURST_SECONDS),
    ).update(is_machine=True, machine_reason=machine.SCANNER_BURST)


def _user_agent(provider_event: ProviderEvent) -> str:
    payload = provider_event.payload or {}
    for key in ("useragent", "UserAgent", "user-agent", "user_agent"):
        if isinstance(payload.get(key), str):
            return payload[key]
    data = payload.get("event-data") or {}
    client = data.get("client-info") or {}
    for source in (payload.get("open") or {}, payload.get("click") or {}):
        if isinstance(source.get("userAgent"), str):
            return source["userAgent"]
    return str(client.get("user-agent") or "")


def _link(provider_event: ProviderEvent) -> str:
    payload = provider_event.payload or {}
    data = payload.get("event-data") or {}
    for candidate in (
        data.get("url"),
        payload.get("url"),
        payload.get("link"),
        payload.get("OriginalLink"),
        (payload.get("click") or {}).get("link"),
    ):
        if isinstance(candidate, str) and candidate:
            return candidate[:2000]
    return ""


@transaction.atomic(durable=True)
def provider_event_process(*, provider_event_id: int) -> ProviderEvent | None:
    """Apply one stored provider event to the ledger; return it.

    Idempotent: the row is claimed by setting processed_at, and the
    TrackingEvent is unique on the provider's event id, so a task delivered
    twice (Celery is at-least-once) changes nothing the second time.
    """
    claimed = ProviderEvent.objects.filter(
        pk=provider_event_id, processed_at__isnull=True
    ).update(processed_at=timezone.now())
    if claimed != 1:
        return None  # processed already, or gone
    provider_event = ProviderEvent.objects.get(pk=provider_event_id)
    delivery = _delivery_for(provider_event)
    if delivery is not None:
        provider_event.delivery = delivery
    try:
        with transaction.atomic():
            _apply(provider_event, delivery)
    # Any failure is kept on the stored row, whose raw event stays for a re-run;
    # the partial work is rolled back with the savepoint.
    except Exception as exc:
        logger.exception("Provider event %s failed.", provider_event.pk)
        provider_event.error = f"{type(exc).__name__}: {exc}"[:2000]
    provider_event.save(update_fields=["delivery", "error"])
    return provider_event


def _apply(provider_event: ProviderEvent, delivery: Delivery | None) -> None:
    kind = provider_event.event_type
    occurred_at = provider_event.occurred_at or provider_event.received_at
    digest = provider_event.recipient_hash or (
        delivery.contact.address_hash if delivery else ""
    )
    if kind == "deferred" and delivery is not None:
        delivery_outcome_advance(
            delivery_id=delivery.pk, state=State.DEFERRED, occurred_at=occurred_at
        )
        return
    if kind in ("bounced", "rejected"):
        bounce_class = bounces.bounce_classify(
            provider=provider_event.provider, esp_event=provider_event.payload
        )
        _bounce(provider_event, delivery, bounce_class, digest, occurred_at)
        return
    if kind == "complained":
        _suppress(
            digest=digest,
            reason=Suppression.Reason.COMPLAINT,
            note=f"{provider_event.provider} complaint",
        )
        if delivery is None:
            return
        _contact_mark(delivery.contact, Contact.Status.COMPLAINED)
        delivery_outcome_advance(
            delivery_id=delivery.pk, state=State.COMPLAINED, occurred_at=occurred_at
        )
        _event(provider_event, delivery, Kind.COMPLAINED, occurred_at)
        return
    if delivery is None:
        if kind in ("delivered", "opened", "clicked", "unsubscribed"):
            provider_event.error = "No delivery matches this event."
        return
    if kind == "delivered":
        delivery_outcome_advance(
            delivery_id=delivery.pk, state=State.DELIVERED, occurred_at=occurred_at
        )
        _event(provider_event, delivery, Kind.DELIVERED, occurred_at)
    elif kind == "unsubscribed":
        if _event(provider_event, delivery, Kind.UNSUBSCRIBED, occurred_at):
            contact_unsubscribe_all(
                contact=delivery.contact, source=ConsentRecord.Source.PROVIDER
            )
    elif kind in ("opened", "clicked") and tracking_allowed(delivery.contact):
        user_agent = _user_agent(provider_event)
        if kind == "opened":
            verdict = machine.open_verdict(
                user_agent=user_agent, esp_event=provider_event.payload
            )
            _event(provider_event, delivery, Kind.OPENED, occurred_at, verdict=verdict)
        else:
            link = _link(provider_event)
            verdict = _click_verdict(
                delivery=delivery,
                link=link,
                occurred_at=occurred_at,
                user_agent=user_agent,
            )
            _event(
                provider_event,
                delivery,
                Kind.CLICKED,
                occurred_at,
                verdict=verdict,
                link=link,
                user_agent=user_agent,
            )


def _bounce(
    provider_event: ProviderEvent,
    delivery: Delivery | None,
    bounce_class: str,
    digest: str,
    occurred_at: datetime,
) -> None:
    if delivery is not None:
        created = _event(
            provider_event,
            delivery,
            Kind.BOUNCED,
            occurred_at,
            bounce_class=bounce_class,
        )
        delivery_outcome_advance(
            delivery_id=delivery.pk,
            state=State.SOFT_BOUNCED if bounce_class == bounces.SOFT else State.BOUNCED,
            occurred_at=occurred_at,
        )
        if not created:
            return
    if bounce_class == bounces.HARD:
        _suppress(
            digest=digest,
            reason=Suppression.Reason.HARD_BOUNCE,
            note=f"{provider_event.provider} hard bounce",
        )
        if delivery is not None:
            _contact_mark(delivery.contact, Contact.Status.BOUNCED)
    elif bounce_class == bounces.BLOCK:
        _block_alert(provider_event=provider_event, delivery=delivery)
    elif delivery is not None and soft_bounces_exceeded(contact=delivery.contact):
        _suppress(
            digest=digest,
            reason=Suppression.Reason.HARD_BOUNCE,
            note="repeated soft bounces",
        )
        _contact_mark(delivery.contact, Contact.Status.BOUNCED)


def _event(
    provider_event: ProviderEvent,
    delivery: Delivery,
    kind: str,
    occurred_at: datetime,
    *,
    verdict: machine.Verdict = machine.HUMAN,
    bounce_class: str = "",
    link: str = "",
    user_agent: str = "",
) -> bool:
    """Create the TrackingEvent of a provider event; return False if it existed."""
    try:
        with transaction.atomic():
            TrackingEvent.objects.create(
                delivery=delivery,
                kind=kind,
                source=TrackingEvent.Source.PROVIDER,
                occurred_at=occurred_at,
                provider_event_id=f"{provider_event.provider}:{provider_event.event_id}"[
                    :255
                ],
                is_machine=verdict.is_machine,
                machine_reason=verdict.reason,
                bounce_class=bounce_class,
                link=link,
                user_agent_family=_agent_family(user_agent),
            )
    except IntegrityError:
        return False
    return True


def provider_events_unprocessed(*, older_than: timedelta) -> list[int]:
    """Return the ids of stored events still unprocessed after ``older_than``.

    Their task was lost (a broker restart, a worker killed before it acked):
    the raw event is stored, so queueing it again loses nothing and, the
    processing being idempotent, doubles nothing.
    """
    return list(
        ProviderEvent.objects.filter(
            processed_at__isnull=True, received_at__lt=timezone.now() - older_than
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:1000]
    )
