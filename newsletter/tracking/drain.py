"""Writing buffered tracking hits to the database in bulk (see ``buffer``).

A drain reads the Redis list in batches, writes each batch in one transaction
and only then trims it from the list. It resolves each hit's token again,
and a click's link by id *and* the token's campaign; what no longer matches
(a delivery deleted since, an entry that is not a hit) is dropped with a log
line and nothing is written for it. Scanner bursts are classified here, at
write time, against the clicks already written: the agent's verdict was
settled at hit time. The reader's consent is read again: a hit of a reader
who withdrew it since is left out.

The trade-off (docs/tracking.md, "Buffered hits"): a hit is in Redis, not in
the database, until the next drain, about a second later while a worker runs
the beat's task. If Redis loses its data meanwhile, those hits are lost. A
drain stopped between its commit and its trim writes that batch again on the
next run: at least once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, OuterRef, Subquery

from newsletter.bulk import arrays_insert
from newsletter.models import Delivery, Link, OpenDevice, TrackingEvent

from . import machine
from .buffer import CLICK, OPEN, Hit, hit_buffer, hit_parse
from .events import burst_reclassify
from .referrals import PASSING_ON_KINDS

logger = logging.getLogger(__name__)

Kind = TrackingEvent.Kind
DRAIN_BATCH = 1000
_BURST_WINDOW = timedelta(seconds=machine.SCANNER_BURST_SECONDS)
_BURST = machine.Verdict(True, machine.SCANNER_BURST)
_SOURCES = {
    Kind.OPENED: TrackingEvent.Source.PIXEL,
    Kind.CLICKED: TrackingEvent.Source.REDIRECT,
}


@dataclass(slots=True)
class _Event:
    """A tracking event to insert (its burst flag may still change)."""

    delivery_id: int
    kind: str
    occurred_at: datetime
    is_machine: bool
    machine_reason: str
    user_agent_family: str
    link: str = ""


@dataclass(frozen=True)
class DrainResult:
    """What a drain did: entries read, events written, entries dropped.

    ``withdrawn``: hits left out because their reader no longer consents.
    ``busy``: nothing was done, another drain held the lock throughout.
    """

    read: int = 0
    written: int = 0
    dropped: int = 0
    withdrawn: int = 0
    busy: bool = False


def hits_drain(*, wait: float = 0) -> DrainResult:
    """Write the hits buffered when the drain starts to the database; return what was done.

    One drain runs at a time (a Redis lock). With ``wait``, wait up to that
    many seconds for a drain in progress to end, then drain what is left, so
    that every hit pushed before the call is written when it returns; without,
    return at once when another drain runs. Hits pushed meanwhile wait for
    the next drain, so that a run under steady load ends, in full batches
    rather than a string of small ones. At least once: see the module.
    """
    buffer = hit_buffer()
    if buffer is None:
        return DrainResult()
    lock = buffer.lock()
    if not lock.acquire(blocking=wait > 0, blocking_timeout=wait or None):
        return DrainResult(busy=True)
    read = written = dropped = withdrawn = 0
    try:
        waiting = buffer.size()
        while read < waiting:
            raw = buffer.client.lrange(
                buffer.key, 0, min(DRAIN_BATCH, waiting - read) - 1
            )
            if not raw:
                break
            batch = hits_write(raw=raw)
            buffer.client.ltrim(buffer.key, len(raw), -1)
            read += len(raw)
            written += batch.written
            dropped += batch.dropped
            withdrawn += batch.withdrawn
            lock.reacquire()  # a long drain keeps its lock
    finally:
        lock.release()
    return DrainResult(read=read, written=written, dropped=dropped, withdrawn=withdrawn)


class HitsWritten(NamedTuple):
    """What ``hits_write`` did with a batch of entries."""

    written: int
    dropped: int
    withdrawn: int


@transaction.atomic(durable=True)
def hits_write(*, raw: Iterable[bytes | str]) -> HitsWritten:
    """Write a batch of buffer entries; return what was written and left out.

    Dropped, each with a log line: malformed entries, tokens of no delivery,
    links not in the link map of the token's campaign. Withdrawn, without
    one: hits of readers who no longer consent to tracking (or of any reader
    in anonymous mode), read again now. Queries per batch, whatever its size:
    the deliveries with their readers' consent, the links, two for the
    clicks' burst windows, the two bulk inserts, and one update per burst
    found. When each mail was delivered is read for clicks only.
    """
    hits: list[Hit] = []
    dropped = 0
    for entry in raw:
        hit = hit_parse(entry)
        if hit is None:
            dropped += 1
            logger.warning("Tracking buffer: dropped a malformed entry %.200r.", entry)
        else:
            hits.append(hit)
    hits.sort(key=lambda hit: hit.occurred_at)
    deliveries = {
        token: (pk, campaign_id, consent, kind)
        for token, pk, campaign_id, consent, kind in Delivery.objects.filter(
            token__any_of={hit.token for hit in hits}
        ).values_list(
            "token", "pk", "campaign_id", "contact__tracking_consent", "contact__kind"
        )
    }
    links = {
        pk: (campaign_id, url)
        for pk, campaign_id, url in Link.objects.filter(
            pk__any_of={hit.link_id for hit in hits if hit.kind == CLICK}
        ).values_list("pk", "campaign_id", "url")
    }
    anonymous = settings.RELAY_ANONYMOUS_TRACKING
    events: list[_Event] = []
    devices: list[tuple[int, str, bool, datetime]] = []
    clicks: list[tuple[Hit, int, str]] = []
    withdrawn = 0
    for hit in hits:
        found = deliveries.get(hit.token)
        if found is None:
            dropped += 1
            logger.warning("Tracking buffer: dropped a hit of an unknown token.")
            continue
        delivery_id, campaign_id, consent, kind = found
        if not consent or anonymous:
            withdrawn += 1  # no consent now (withdrawn since the mail), nothing kept
            continue
        if hit.kind == OPEN:
            events.append(_event(hit, delivery_id, Kind.OPENED, hit.verdict))
            if hit.fingerprint and kind in PASSING_ON_KINDS:
                devices.append(
                    (
                        delivery_id,
                        hit.fingerprint,
                        hit.verdict.is_machine,
                        hit.occurred_at,
                    )
                )
            continue
        link = links.get(hit.link_id)
        if link is None or link[0] != campaign_id:
            dropped += 1
            logger.warning(
                "Tracking buffer: dropped a click of link %s, not in its campaign's map.",
                hit.link_id,
            )
            continue
        clicks.append((hit, delivery_id, link[1]))
    events.extend(_clicks_classify(clicks))
    _events_insert(events)
    _devices_insert(devices)
    return HitsWritten(written=len(events), dropped=dropped, withdrawn=withdrawn)


def _clicks_classify(clicks: list[tuple[Hit, int, str]]) -> list[_Event]:
    """Return the events of ``clicks``, classified as the redirect did when it wrote each.

    A click not already flagged by its agent is a scanner burst's when the
    distinct links clicked within ``SCANNER_BURST_SECONDS`` of its mail's
    delivery (the first ``delivered`` event, else the send), this click's
    counted when it is in that window, are enough for a burst; the burst's
    earlier clicks are then reclassified, those written before this batch
    and those of it. The batch goes in the order the clicks happened, so
    each click sees the ones before it. Two queries, whatever the number of
    clicks: when each mail was delivered, and the clicks already written in
    the windows.
    """
    if not clicks:
        return []
    ids = {delivery_id for _hit, delivery_id, _url in clicks}
    first_delivered = (
        TrackingEvent.objects.filter(delivery=OuterRef("pk"), kind=Kind.DELIVERED)
        .order_by()
        .values("delivery")
        .annotate(first=Min("occurred_at"))
        .values("first")
    )
    windows = {
        pk: start
        for pk, sent_at, delivered_at in Delivery.objects.filter(pk__any_of=ids)
        .annotate(delivered_at=Subquery(first_delivered))
        .values_list("pk", "sent_at", "delivered_at")
        if (start := delivered_at or sent_at) is not None
    }
    early: dict[int, set[str]] = {pk: set() for pk in windows}
    if windows:
        for pk, url, at in TrackingEvent.objects.filter(
            delivery_id__any_of=windows.keys(),
            kind=Kind.CLICKED,
            occurred_at__gte=min(windows.values()),
            occurred_at__lte=max(windows.values()) + _BURST_WINDOW,
        ).values_list("delivery_id", "link", "occurred_at"):
            if windows[pk] <= at <= windows[pk] + _BURST_WINDOW:
                early[pk].add(url)
    events: list[_Event] = []
    reclassified: set[int] = set()
    for hit, delivery_id, url in clicks:
        start = windows.get(delivery_id)
        verdict = hit.verdict
        if start is not None:
            if start <= hit.occurred_at <= start + _BURST_WINDOW:
                early[delivery_id].add(url)
            if not verdict.is_machine and machine.early_links_burst(
                len(early[delivery_id])
            ):
                verdict = _BURST
                if delivery_id not in reclassified:
                    burst_reclassify(delivery_id=delivery_id, delivered_at=start)
                    reclassified.add(delivery_id)
                for event in events:
                    if (
                        event.delivery_id == delivery_id
                        and not event.is_machine
                        and event.occurred_at <= start + _BURST_WINDOW
                    ):
                        event.is_machine, event.machine_reason = True, _BURST.reason
        events.append(_event(hit, delivery_id, Kind.CLICKED, verdict, url))
    return events


def _event(
    hit: Hit, delivery_id: int, kind: str, verdict: machine.Verdict, link: str = ""
) -> _Event:
    return _Event(
        delivery_id=delivery_id,
        kind=kind,
        occurred_at=hit.occurred_at,
        is_machine=verdict.is_machine,
        machine_reason=verdict.reason,
        user_agent_family=hit.family,
        link=link,
    )


def _events_insert(events: list[_Event]) -> None:
    """Insert ``events``: on PostgreSQL one INSERT of arrays, without model instances.

    Building a model instance and preparing each of its fields cost more than
    the insert itself. Elsewhere ``bulk_create``.
    """
    if not events:
        return
    if connection.vendor != "postgresql":
        TrackingEvent.objects.bulk_create(
            [
                TrackingEvent(
                    delivery_id=event.delivery_id,
                    kind=event.kind,
                    source=_SOURCES[event.kind],
                    occurred_at=event.occurred_at,
                    is_machine=event.is_machine,
                    machine_reason=event.machine_reason,
                    link=event.link,
                    user_agent_family=event.user_agent_family,
                )
                for event in events
            ]
        )
        return
    arrays_insert(
        TrackingEvent,
        {
            "delivery": ("bigint", [event.delivery_id for event in events]),
            "kind": ("text", [event.kind for event in events]),
            "source": ("text", [_SOURCES[event.kind] for event in events]),
            "occurred_at": ("timestamptz", [event.occurred_at for event in events]),
            "is_machine": ("boolean", [event.is_machine for event in events]),
            "machine_reason": ("text", [event.machine_reason for event in events]),
            "link": ("text", [event.link for event in events]),
            "user_agent_family": (
                "text",
                [event.user_agent_family for event in events],
            ),
        },
        constants={
            "provider_event_id": "''",
            "bounce_class": "''",
            "created_at": "now()",
        },
    )


def _devices_insert(devices: list[tuple[int, str, bool, datetime]]) -> None:
    """Remember MPs' devices; one already known keeps its first sighting."""
    if not devices:
        return
    # The unique constraint on (delivery, fingerprint) skips known devices.
    if connection.vendor != "postgresql":
        OpenDevice.objects.bulk_create(
            [
                OpenDevice(
                    delivery_id=delivery_id,
                    fingerprint=fingerprint,
                    is_machine=is_machine,
                    first_seen=first_seen,
                )
                for delivery_id, fingerprint, is_machine, first_seen in devices
            ],
            ignore_conflicts=True,
        )
        return
    arrays_insert(
        OpenDevice,
        {
            "delivery": ("bigint", [device[0] for device in devices]),
            "fingerprint": ("text", [device[1] for device in devices]),
            "is_machine": ("boolean", [device[2] for device in devices]),
            "first_seen": ("timestamptz", [device[3] for device in devices]),
        },
        constants={},
        skip_conflicts=True,
    )
