"""Tracking hits held in Redis until they are written to the database in bulk.

With ``RELAY_TRACKING_BUFFER`` set to a Redis URL, the open pixel and the click
redirect decide in the request what must be decided then: the hit is of a
mail Relay sent (a signed tracking id, ``newsletter.tracking.signed``, or else
a token of a delivery; else 404), the link is in its campaign's link map
(else 404; it is the redirect's target), and what the agent says about a
machine. They push the hit onto a Redis list instead of writing it;
``newsletter.tracking.drain`` writes the list to the database (the task
``newsletter.tracking_hits_drain``, every second). Entries are JSON objects
with short keys; nothing read from the list is trusted before ``hit_parse``
has checked it.

Without Redis (``database``, the embedded default) each hit is written in its
request, as is a hit Redis cannot take at that moment.
"""

from __future__ import annotations

import atexit
import collections
import json
import logging
import math
import os
import re
import threading
import time
from datetime import UTC, datetime
from functools import cache
from typing import NamedTuple

import redis
from django.conf import settings

from . import machine
from .tokens import TOKEN_PATTERN

logger = logging.getLogger(__name__)

OPEN = "o"
CLICK = "c"
# The drain lock outlives a stopped drainer by at most this long.
_LOCK_SECONDS = 60
# Entries a process gathers before it sends them (or _FLUSH_SECONDS at most),
# and sends not yet answered before it waits for the answers.
_BATCH = 32
_FLUSH_SECONDS = 0.2
_UNANSWERED_MAX = 100
# How long a process writes hits itself, without trying Redis, once it failed.
_RETRY_SECONDS = 1.0
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
        # Entries waiting to be sent, and the sizes of sends not yet answered.
        self._lock = threading.Lock()
        self._pending: list[bytes] = []
        self._unanswered: collections.deque[int] = collections.deque()
        self._pusher: redis.Redis | None = None
        self._flusher: threading.Thread | None = None
        self._sent = False  # a send went through: Redis is there
        self._failing = False
        self._retry_at = 0.0
        key_bytes = key.encode()
        self._rpush_key = b"$5\r\nRPUSH\r\n$%d\r\n%s\r\n" % (
            len(key_bytes),
            key_bytes,
        )

    @property
    def client(self) -> redis.Redis:
        """Return the client, connecting on first use (raises ``redis.RedisError``)."""
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self) -> redis.Redis:
        # One connection, held (a pool's checkout and return cost a third of
        # a push), with short timeouts: a hit is written at once rather than
        # wait.
        return redis.Redis.from_url(
            self.url,
            socket_timeout=2,
            socket_connect_timeout=2,
            single_connection_client=True,
        )

    def push_soon(self, entry: str) -> list[bytes]:
        """Append one entry soon; return entries Redis could not take, for the caller to write.

        Entries wait in this process until ``_BATCH`` of them are gathered, or
        at most ``_FLUSH_SECONDS`` (a thread of the process sends them), or
        the process ends, and then go in one command, without waiting for
        Redis's answer: a round trip per hit, and the web worker's sleep
        until the answer came, cost more than everything else a hit does.
        The answers are read later (those that have come, at each send); an
        error among them (Redis out of memory, say) is logged, since the hits
        were answered already. When Redis cannot be reached, the waiting
        entries and this one are returned, to be written at once by the
        caller, and so is every entry until Redis answers again (tried again
        after ``_RETRY_SECONDS``, so that requests do not each wait for it). A process
        killed outright loses the entries it holds (a fraction of a second).
        """
        with self._lock:
            self._pending.append(entry.encode())
            if self._failing and time.monotonic() < self._retry_at:
                unsent, self._pending = self._pending, []
                return unsent  # Redis was away a moment ago: not again yet
            if self._sent and not self._failing and len(self._pending) < _BATCH:
                self._flusher_start()
                return []
            try:
                self._flush()
            except redis.RedisError:
                unsent, self._pending = self._pending, []
                return unsent
        return []

    def _flush(self) -> None:
        """Send the waiting entries in one RPUSH; raise ``redis.RedisError`` if Redis is away.

        Call with ``_lock`` held. On failure the entries stay waiting.
        """
        if not self._pending:
            return
        if self._pusher is None:
            self._pusher = self._connect()
        connection = self._pusher.connection
        assert connection is not None  # noqa: S101 - a single-connection client
        parts = [b"*%d\r\n" % (len(self._pending) + 2), self._rpush_key]
        parts += [b"$%d\r\n%s\r\n" % (len(value), value) for value in self._pending]
        try:
            self._answers_read(
                connection, wait=len(self._unanswered) >= _UNANSWERED_MAX
            )
            connection.send_packed_command([b"".join(parts)])
        except (redis.ConnectionError, redis.TimeoutError):
            connection.disconnect()  # connected again on the next send
            self._unanswered.clear()
            self._failing = True
            self._retry_at = time.monotonic() + _RETRY_SECONDS
            raise
        self._unanswered.append(len(self._pending))
        self._pending = []
        self._sent = True
        self._failing = False

    def _flusher_start(self) -> None:
        """Start the thread that sends waiting entries every ``_FLUSH_SECONDS`` (once)."""
        if self._flusher is not None:
            return
        self._flusher = threading.Thread(
            target=self._flush_loop, name="relay-tracking-hits", daemon=True
        )
        self._flusher.start()
        atexit.register(self.settle)

    def _flush_loop(self) -> None:
        while True:
            time.sleep(_FLUSH_SECONDS)
            with self._lock:
                try:
                    self._flush()
                except redis.RedisError:
                    # The next hit writes them, with its own (push_soon).
                    logger.warning(
                        "Tracking buffer unreachable: hits wait for a request."
                    )

    def _answers_read(
        self, connection: redis.connection.Connection, *, wait: bool
    ) -> None:
        """Read the answers of earlier sends that have come (all of them with ``wait``)."""
        while self._unanswered and (wait or connection.can_read(timeout=0)):
            count = self._unanswered.popleft()
            try:
                connection.read_response()
            except redis.ResponseError as exc:
                logger.error(
                    "Tracking buffer refused %s hit(s), which are lost: %s", count, exc
                )

    def size(self) -> int:
        """Return the number of hits waiting (this process's pushes all taken)."""
        self.settle()
        return int(self.client.llen(self.key))

    def settle(self) -> None:
        """Send the entries waiting in this process and wait until Redis has answered them."""
        with self._lock:
            try:
                self._flush()
            except redis.RedisError:
                logger.warning(
                    "Tracking buffer unreachable: %s hit(s) wait.", len(self._pending)
                )
                return
            if self._unanswered and self._pusher is not None:
                connection = self._pusher.connection
                assert connection is not None  # noqa: S101 - a single-connection client
                self._answers_read(connection, wait=True)

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
    # Written out rather than json.dumps of a dict, at a third of the cost:
    # token, reason and fingerprint are of known safe shapes, the agent
    # family is encoded.
    return (
        f'{{"k":"{OPEN}","t":"{token}","at":{time.time()!r},'
        f'"m":{"true" if verdict.is_machine else "false"},"r":"{verdict.reason}",'
        f'"f":{json.dumps(family)},"d":"{fingerprint}"}}'
    )


def click_hit(
    *, token: str, link_id: int, verdict: machine.Verdict, family: str
) -> str:
    """Return the entry of a redirect click (``verdict``: the agent's alone)."""
    return (
        f'{{"k":"{CLICK}","t":"{token}","l":{int(link_id)},"at":{time.time()!r},'
        f'"m":{"true" if verdict.is_machine else "false"},"r":"{verdict.reason}",'
        f'"f":{json.dumps(family)}}}'
    )


# Reading -----------------------------------------------------------------------


class Hit(NamedTuple):
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
