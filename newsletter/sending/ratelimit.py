"""One sending rate per provider, shared by every worker.

A token bucket: ``rate`` messages per second with a small ``burst``. Callers
reserve the messages they are about to hand over and sleep for the wait the
bucket returns, so the bucket's state is the schedule every worker follows.
In any one-second window the bucket hands out at most ``rate + burst``
messages, provided no single reservation is larger than ``burst`` (the
dispatcher splits its provider calls to that size).

The provider counts arrivals, not reservations: a call that leaves on time can
arrive late (a busy host, a slow connection) and land in the next second beside
that second's own share, one such call per worker at most. So for a configured
ceiling the bucket runs at nine tenths of it with a burst of a twentieth: its
own schedule stays under 95% of the ceiling, and the margin up to ceiling + 10%
holds one late call from each of three workers (four at a ceiling of 50).

In production the bucket lives in Redis (one Lua script: atomic across workers
and hosts, timed by the Redis server's clock). The embedded default keeps it in
the database instead, which serialises the few workers of one machine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import redis
from django.conf import settings
from django.db import transaction

from newsletter.models import RateBucket

_RESERVE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate) - wanted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
if tokens >= 0 then return '0' end
return tostring(-tokens / rate)
"""


@dataclass(frozen=True)
class Limit:
    rate: float  # messages per second
    burst: int  # largest reservation; at most rate + burst messages in any second

    @classmethod
    def per_second(cls, ceiling: float) -> Limit:
        """Return the limit that keeps a provider under ``ceiling`` + 10% per second.

        The bucket runs at 90% of the ceiling with a burst of 5%; see the
        module's docstring for the margin this leaves to late arrivals.
        """
        return cls(rate=ceiling * 0.9, burst=max(1, int(ceiling / 20)))


class Bucket(Protocol):
    limit: Limit

    def reserve(self, count: int) -> float:
        """Reserve ``count`` messages; return how many seconds to wait before sending them."""
        ...


class RedisBucket:
    """A token bucket in Redis, shared by every worker on every host."""

    def __init__(self, *, url: str, name: str, limit: Limit) -> None:
        self._client = redis.Redis.from_url(url)
        self._reserve = self._client.register_script(_RESERVE)
        self._key = f"relay:ratelimit:{name}"
        self.limit = limit

    def reserve(self, count: int) -> float:
        wait = self._reserve(
            keys=[self._key], args=[self.limit.rate, self.limit.burst, count]
        )
        return float(wait)


def acquire(bucket: Bucket, count: int) -> float:
    """Block until ``count`` messages may be handed to the provider; return the wait."""
    wait = bucket.reserve(count)
    if wait > 0:
        time.sleep(wait)
    return wait


class DatabaseBucket:
    """A token bucket in the database, for the embedded default without Redis.

    The first statement of the transaction is an UPDATE of the bucket's row, so
    concurrent reservations queue on its lock (PostgreSQL's row lock, SQLite's
    write lock) and each sees the state the previous one left.
    """

    def __init__(self, *, name: str, limit: Limit) -> None:
        self.name = name
        self.limit = limit

    def reserve(self, count: int) -> float:
        with transaction.atomic():
            if not RateBucket.objects.filter(name=self.name).update(name=self.name):
                RateBucket.objects.get_or_create(
                    name=self.name,
                    defaults={
                        "tokens": float(self.limit.burst),
                        "updated": time.time(),
                    },
                )
            bucket = RateBucket.objects.select_for_update().get(name=self.name)
            now = time.time()  # read under the lock, after any earlier reservation
            elapsed = max(0.0, now - bucket.updated)
            tokens = (
                min(self.limit.burst, bucket.tokens + elapsed * self.limit.rate) - count
            )
            RateBucket.objects.filter(pk=bucket.pk).update(tokens=tokens, updated=now)
        return 0.0 if tokens >= 0 else -tokens / self.limit.rate


def provider_bucket(provider: str) -> Bucket | None:
    """Return the bucket every worker shares for ``provider``, or None without a limit.

    ``RELAY_SEND_RATE`` is in messages per second; ``RELAY_SEND_RATE_STORE`` is
    ``database`` or a ``redis://`` URL.
    """
    rate = settings.RELAY_SEND_RATE
    if not rate:
        return None
    limit = Limit.per_second(rate)
    store = settings.RELAY_SEND_RATE_STORE
    if store.startswith(("redis://", "rediss://", "unix://")):
        return RedisBucket(url=store, name=provider, limit=limit)
    return DatabaseBucket(name=provider, limit=limit)
