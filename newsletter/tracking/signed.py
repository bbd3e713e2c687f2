"""Tracking ids: a delivery's token in its pixel and click URLs, signed with its campaign.

A mail's pixel and click redirects carry ``<token>.<campaign>.<kind>.<signature>``
instead of the bare token: the delivery's token, its campaign's id, ``p`` for a
reader who passes mail on (an MP or MEP, whose device is remembered) or ``r``
for any other, and a keyed signature of the three (64 bits of an HMAC-SHA256
under ``SECRET_KEY``; ``SECRET_KEY_FALLBACKS`` still verify). A hit can then
tell a URL of a mail Relay sent from anything else, and a click whether its
link is in that mail's link map (the link's campaign is the one signed),
without asking a database: an id that does not verify gets the same 404 as an
unknown token. Whether the delivery still exists and its reader still
consents is read when the hit is written (``newsletter.tracking.drain``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from django.conf import settings

from .tokens import TOKEN_PATTERN

_SALT = "newsletter.tracking.id"
PASSES_ON, READER = "p", "r"
_SIGNATURE_LENGTH = 11  # 64 bits, base64url


@lru_cache(maxsize=8)
def _key(secret: str) -> bytes:
    # As django.utils.crypto.salted_hmac derives its key, once per secret.
    return hashlib.sha256((_SALT + secret).encode()).digest()


def _signature(payload: str, secret: str) -> str:
    digest = hmac.new(_key(secret), payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:8]).decode()[:_SIGNATURE_LENGTH]


def tracking_id(token: str, *, campaign_id: int, passes_on: bool) -> str:
    """Return the signed tracking id of a delivery for its pixel and click URLs."""
    payload = f"{token}.{campaign_id}.{PASSES_ON if passes_on else READER}"
    return f"{payload}.{_signature(payload, settings.SECRET_KEY)}"


def tracking_id_parse(value: str) -> tuple[str, int, bool] | None:
    """Return (token, campaign id, passes on) of a tracking id that verifies, else None."""
    parts = value.split(".")
    if len(parts) != 4:
        return None
    token, campaign, kind, signature = parts
    if (
        not TOKEN_PATTERN.fullmatch(token)
        or not campaign.isascii()
        or not campaign.isdigit()
        or len(campaign) > 18
        or campaign.startswith("0")
        or kind not in (PASSES_ON, READER)
        or len(signature) != _SIGNATURE_LENGTH
    ):
        return None
    payload = value[: -len(signature) - 1]
    for secret in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS):
        if hmac.compare_digest(signature, _signature(payload, secret)):
            return token, int(campaign), kind == PASSES_ON
    return None
