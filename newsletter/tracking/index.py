"""The tokens of sent mail and their campaigns' link maps, kept in Redis for the hits.

With a tracking buffer (``buffer``), the open pixel and the click redirect ask
Redis, not PostgreSQL, whether a token is one of sent mail: one script per hit
looks the token up and, when it is known, pushes the hit onto the buffer, in
one round trip. PostgreSQL is asked only for a token the index does not hold
(mail sent before the index, an index lost with Redis's data, a reader who
consented after the send), and that token is indexed then.

What is indexed: when dispatch records mail as handed over, the tokens of the
readers who consent to tracking, each with its campaign (and ``:p`` for a
reader who passes mail on, whose device the drain remembers), and the
campaign's link map. A reader who withdraws consent, or is erased, leaves the
index at once (``contact_forget``). The index only spares a read: the drain
checks every hit against the database again (the token, the link's campaign,
the reader's consent when the hit is written), so a stale entry can make a
pixel answer 200 where PostgreSQL would have said 404, but never keeps a hit.

Tokens go into one Redis hash per period of ``RELAY_TRACKING_INDEX_DAYS``
days, and a hit looks in the current period's and the one before, so a
token stays indexed for at least that many days and at most twice as many;
a hash, and a campaign's link map, expire that long after their last
write. Memory: about 90 bytes per indexed reader.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable
from functools import cache

import redis
from django.conf import settings

from newsletter.models import Delivery

from .buffer import HitBuffer, hit_buffer

logger = logging.getLogger(__name__)

PASSES_ON = ":p"  # the suffix of the value of a reader whose device is remembered

# KEYS: the period hashes, newest first, then the buffer's list.
# ARGV: the token, the hit, the hit with the device. Returns the token's
# value once the hit is pushed (with the device for a reader who passes mail
# on), or false when the token is not indexed.
_OPEN = """
local list = KEYS[#KEYS]
for i = 1, #KEYS - 1 do
  local value = redis.call('HGET', KEYS[i], ARGV[1])
  if value then
    if string.sub(value, -2) == ':p' then
      redis.call('RPUSH', list, ARGV[3])
    else
      redis.call('RPUSH', list, ARGV[2])
    end
    return value
  end
end
return false
"""

# KEYS: the period hashes, newest first, then the buffer's list.
# ARGV: the token, the link id, the hit, the link maps' key prefix. Returns
# the link's URL once the hit is pushed, or false when the token or the link
# is not indexed.
_CLICK = """
local list = KEYS[#KEYS]
for i = 1, #KEYS - 1 do
  local value = redis.call('HGET', KEYS[i], ARGV[1])
  if value then
    local campaign = string.match(value, '^%d+')
    local url = redis.call('HGET', ARGV[4] .. campaign, ARGV[2])
    if url then redis.call('RPUSH', list, ARGV[3]) end
    return url
  end
end
return false
"""


@cache
def _keys(key: str, period: int) -> tuple[str, ...]:
    """Return the hashes that can hold a token in ``period``, newest first."""
    return (f"{key}:tokens:{period}", f"{key}:tokens:{period - 1}")


def _token_keys(buffer: HitBuffer) -> tuple[str, ...]:
    # Periods of RELAY_TRACKING_INDEX_DAYS days: a token written in one is
    # found during it and the next, so for at least that many days.
    days = settings.RELAY_TRACKING_INDEX_DAYS
    return _keys(buffer.key, int(time.time() // 86400) // days)


def _links_prefix(buffer: HitBuffer) -> str:
    return f"{buffer.key}:links:"


def _ttl() -> int:
    """Seconds a period's hash (and a link map) lives after its last write."""
    return (2 * settings.RELAY_TRACKING_INDEX_DAYS + 1) * 86400


def token_value(campaign_id: int, *, passes_on: bool) -> str:
    """Return what the index holds for a token of ``campaign_id``."""
    return f"{campaign_id}{PASSES_ON if passes_on else ''}"


def open_push(buffer: HitBuffer, *, token: str, hit: str, device_hit: str) -> bool:
    """Look ``token`` up and push its open; return whether it was indexed.

    ``device_hit`` is pushed for a reader who passes mail on, ``hit`` for the
    others; nothing when the token is not indexed. Raises ``redis.RedisError``.
    """
    keys = (*_token_keys(buffer), buffer.key)
    return bool(_evalsha(buffer, _OPEN, keys, (token, hit, device_hit)))


def click_push(buffer: HitBuffer, *, token: str, link_id: int, hit: str) -> str | None:
    """Look ``token`` and its campaign's link ``link_id`` up and push ``hit``; return the URL.

    None when the token or the link is not indexed: nothing was pushed.
    Raises ``redis.RedisError``.
    """
    keys = (*_token_keys(buffer), buffer.key)
    args = (token, str(link_id), hit, _links_prefix(buffer))
    url = _evalsha(buffer, _CLICK, keys, args)
    return url.decode() if url else None


def _evalsha(
    buffer: HitBuffer, script: str, keys: tuple[str, ...], args: tuple[str, ...]
) -> object:
    """Run ``script`` by its digest and return its answer; load it when Redis lacks it.

    The command is packed here, its fixed part (the digest and the keys) once
    per period: redis-py's packing of every argument on every call was a
    third of the hit's work with Redis. The client's one connection and its
    lock are redis-py's own.
    """
    client = buffer.client
    command = _head(script, keys) + b"".join(
        b"$%d\r\n%s\r\n" % (len(value), value)
        for value in (arg.encode() for arg in args)
    )
    with client.single_connection_lock:
        connection = client.connection
        try:
            connection.send_packed_command([command])
            return connection.read_response()
        except redis.exceptions.NoScriptError:
            client.script_load(script)  # Redis restarted or flushed its scripts
        except (redis.ConnectionError, redis.TimeoutError):
            connection.disconnect()  # connected again on the next call
            raise
    with client.single_connection_lock:
        client.connection.send_packed_command([command])
        return client.connection.read_response()


@cache
def _head(script: str, keys: tuple[str, ...]) -> bytes:
    """Return the packed start of an EVALSHA of ``script`` on ``keys`` (RESP)."""
    digest = hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()
    parts = [b"EVALSHA", digest.encode(), str(len(keys)).encode()]
    parts += [key.encode() for key in keys]
    size = len(parts) + {_OPEN: 3, _CLICK: 4}[script]
    return b"*%d\r\n" % size + b"".join(
        b"$%d\r\n%s\r\n" % (len(part), part) for part in parts
    )


def tokens_add(
    buffer: HitBuffer,
    *,
    campaign_id: int,
    tokens: dict[str, bool],
    links: Iterable[tuple[int, str]] = (),
    hits: Iterable[str] = (),
) -> None:
    """Index ``tokens`` (token: passes on) of ``campaign_id`` and its ``links``.

    ``hits`` are pushed onto the buffer in the same round trip. Raises
    ``redis.RedisError``.
    """
    ttl = _ttl()
    pipe = buffer.client.pipeline(transaction=False)
    if tokens:
        period = _token_keys(buffer)[0]
        mapping = {
            token: token_value(campaign_id, passes_on=passes_on)
            for token, passes_on in tokens.items()
        }
        pipe.hset(period, mapping=mapping)
        pipe.expire(period, ttl)
    links = dict(links)
    if links:
        key = f"{_links_prefix(buffer)}{campaign_id}"
        pipe.hset(key, mapping=links)
        pipe.expire(key, ttl)
    hits = list(hits)
    if hits:
        pipe.rpush(buffer.key, *hits)
    pipe.execute()


def sent_index(
    *, campaign_id: int, tokens: dict[str, bool], links: Iterable[tuple[int, str]]
) -> None:
    """Index the tokens of mail just handed over; never fails the send.

    ``tokens``: the tracked readers' tokens, each with whether the reader
    passes mail on. Nothing is done without a tracking buffer or in anonymous
    mode. When Redis cannot take them, hits of these readers ask PostgreSQL.
    """
    buffer = hit_buffer()
    if buffer is None or settings.RELAY_ANONYMOUS_TRACKING or not tokens:
        return
    try:
        tokens_add(buffer, campaign_id=campaign_id, tokens=tokens, links=links)
    except redis.RedisError:
        logger.warning(
            "Tracking index unreachable: %s token(s) of campaign %s not indexed.",
            len(tokens),
            campaign_id,
        )


def contact_forget(contact_id: int) -> None:
    """Take a reader's tokens out of the index (consent withdrawn, erasure).

    Their hits then ask PostgreSQL, which reads the consent. The drain reads
    it again, so a Redis that cannot be reached now keeps nothing either.
    """
    buffer = hit_buffer()
    if buffer is None:
        return
    tokens = list(
        Delivery.objects.filter(contact_id=contact_id).values_list("token", flat=True)
    )
    if not tokens:
        return
    try:
        pipe = buffer.client.pipeline(transaction=False)
        for key in _token_keys(buffer):
            pipe.hdel(key, *tokens)
        pipe.execute()
    except redis.RedisError:
        logger.warning(
            "Tracking index unreachable: contact %s not forgotten.", contact_id
        )
