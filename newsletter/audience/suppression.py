"""Addresses that are never mailed again.

Suppression is keyed by a hash of the address, so it outlives the erasure of
the contact: an erased person who is imported again is still not mailed.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from newsletter.models import Suppression, address_hash


def suppression_add(*, email: str, reason: str, note: str = "") -> Suppression:
    """Suppress ``email``; return the active suppression (idempotent)."""
    digest = address_hash(email)
    existing = Suppression.objects.active().filter(address_hash=digest).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Suppression.objects.create(
                address_hash=digest, reason=reason, note=note
            )
    except IntegrityError:  # a concurrent call suppressed it first
        return Suppression.objects.active().get(address_hash=digest)


def suppression_lift(*, email: str) -> int:
    """Lift every active suppression of ``email``; return how many were lifted."""
    return (
        Suppression.objects.active()
        .filter(address_hash=address_hash(email))
        .update(lifted_at=timezone.now())
    )


def is_suppressed(email: str) -> bool:
    """Return whether ``email`` is on an active suppression."""
    return (
        Suppression.objects.active().filter(address_hash=address_hash(email)).exists()
    )
