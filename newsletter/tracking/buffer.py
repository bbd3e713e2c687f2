"""Tracking hits held in Redis until they are written to the database in bulk.

With ``RELAY_TRACKING_BUFFER`` set to a Redis URL, the open pixel and the click
redirect decide in the request everything that must be decided then: the
token's delivery exists (else 404), the link is in its campaign's link map
(else 404; it is the redirect's target), the reader consents to tracking,
and what the agent says about a machine. They ask the token index
(``newsletter.tracking.index``), or PostgreSQL for a token it does not hold,
and push the hit onto a Redis list instead of writing it;
``newsletter.tracking.drain`` writes the list to the database (the task
``newsletter.tracking_hits_drain``, every second). Entries are JSON objects
with short keys; nothing read from the list is trusted before ``hit_parse``
has checked it.

Without Redis (``database``, the embedded default) each hit is written in its
request, as is a hit Redis cannot take at that moment.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import redis
from django.conf import settings

from . import machine
from .tokens import TOKEN_PATTERN

OPEN = "o"
CLICK = "c"
# The drain lock outlives a stopped drainer by at most this long.
_LOCK_SECONDS = 60
_REASONS = frozenset(
    {
        "",
        machine.APPLE_MPP,
        machine.IMAGE_PROXY,
        machine.SCANNER_AGENT,
        machine.SCANNER_BURST,
    }
)
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
# A device's keyed fingerprint (referrals.device_fingerprint), or none.
_FINGERPRINT = re.compile(r"(?:[0-9a-f]{64})?")


class HitBuffer:
    """A Redis list of tracking hits, with the lock that lets one drain run at a time."""

    def __init__(self, *, url: str, key: str) -> None:
        self.url = url
        self.key = key
        self._client: redis.Redis | None = None

    @property
    def client(self) -> redis.Redis:
        """Return the client, connecting on first use (raises ``redis.RedisError``)."""
        if self._client is None:
            # One connection, held (a pool's checkout and return cost a third
            # of a push), with short timeouts: a hit is written at once
            # rather than wait.
            self._client = redis.Redis.from_url(
                self.url,
                socket_timeout=2,
                socket_connect_timeout=2,
                single_connection_client=True,
            )
        return self._client

    def push(self, entry: str) -> None:
        """Append one entry; raise ``redis.RedisError`` when Redis cannot take it."""
        self.client.rpush(self.key, entry)

    def size(self) -> int:
        """Return the number of hits waiting."""
        return int(self.client.llen(self.key))

    def lock(self) -> redis.lock.Lock:
        """Return the lock a drain holds, so that one runs at a time."""
        return self.client.lock(f"{self.key}:drain", timeout=_LOCK_SECONDS)


@cache
def _buffer(url: str, key: str, pid: int) -> HitBuffer:
    return HitBuffer(url=url, key=key)


def hit_buffer() -> HitBuffer | None:
    """Return the buffer hits are pushed to, or None when each is written in its request."""
    url = settings.RELAY_TRACKING_BUFFER
    if url == "database":
        return None
    # One per process: a connection never crosses a fork.
    return _buffer(url, settings.RELAY_TRACKING_BUFFER_KEY, os.getpid())


def open_hit(
    *, token: str, verdict: machine.Verdict, family: str, fingerprint: str = ""
) -> str:
    """Return the entry of a pixel open (``fingerprint``: an MP's device, else "")."""
    return _entry(
        {
            "k": OPEN,
            "t": token,
            "at": time.time(),
            "m": verdict.is_machine,
            "r": verdict.reason,
            "f": family,
            "d": fingerprint,
        }
    )


def click_hit(
    *, token: str, link_id: int, verdict: machine.Verdict, family: str
) -> str:
    """Return the entry of a redirect click (``verdict``: the agent's alone)."""
    return _entry(
        {
            "k": CLICK,
            "t": token,
            "l": link_id,
            "at": time.time(),
            "m": verdict.is_machine,
            "r": verdict.reason,
            "f": family,
        }
    )


def _entry(hit: dict[str, object]) -> str:
    return json.dumps(hit, separators=(",", ":"))


# Reading -----------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One buffered hit, checked: an open (``link_id`` 0) or a click."""

    kind: str
    token: str
    occurred_at: datetime
    verdict: machine.Verdict
    family: str
    fingerprint: str = ""
    link_id: int = 0


def hit_parse(raw: bytes | str) -> Hit | None:
    """Return the hit a buffer entry holds, or None for anything malformed.

    Checked: the kind, a token of the tokens' shape, a time since 2000 and
    not a day ahead, a verdict with a known reason, an agent family of at
    most 64 characters, an open's device fingerprint (64 hex digits, or
    empty) and a click's link id.
    """
    try:
        entry = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(entry, dict):
        return None
    kind, token, at = entry.get("k"), entry.get("t"), entry.get("at")
    is_machine, reason, family = entry.get("m"), entry.get("r"), entry.get("f")
    if (
        kind not in (OPEN, CLICK)
        or not isinstance(token, str)
        or not TOKEN_PATTERN.fullmatch(token)
        or not isinstance(at, int | float)
        or isinstance(at, bool)
        or not math.isfinite(at)
        or not _EARLIEST <= at <= time.time() + 86400
        or not isinstance(is_machine, bool)
        or reason not in _REASONS
        or is_machine != bool(reason)
        or not isinstance(family, str)
        or len(family) > 64
    ):
        return None
    hit = {
        "kind": kind,
        "token": token,
        "occurred_at": datetime.fromtimestamp(at, UTC),
        "verdict": machine.Verdict(is_machine, reason),
        "family": family,
    }
    if kind == OPEN:
        fingerprint = entry.get("d")
        if not isinstance(fingerprint, str) or not _FINGERPRINT.fullmatch(fingerprint):
            return None
        return Hit(**hit, fingerprint=fingerprint)
    link_id = entry.get("l")
    if (
        not isinstance(link_id, int)
        or isinstance(link_id, bool)
        or not 0 < link_id < 2**63
    ):
        return None
    return Hit(**hit, link_id=link_id)
