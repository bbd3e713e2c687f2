"""Keeping the contact directory."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.db import transaction
from django.utils import timezone

from newsletter.models import Contact


def normalise_email(address: str) -> str:
    """Return ``address`` trimmed and in Unicode NFC, with the domain lower-cased.

    The local part keeps its case (it is the receiving server's business), but
    uniqueness is case-insensitive in the database.
    """
    address = unicodedata.normalize("NFC", address.strip())
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}" if local else address


@transaction.atomic
def contact_upsert(*, email: str, **fields: Any) -> tuple[Contact, bool]:
    """Create the contact with ``email`` or update its fields; return it and whether it is new."""
    email = normalise_email(email)
    contact = Contact.objects.select_for_update().filter(email__iexact=email).first()
    created = contact is None
    if contact is None:
        contact = Contact(email=email)
    for name, value in fields.items():
        setattr(contact, name, value)
    contact.full_clean()
    contact.save()
    return contact, created


@transaction.atomic
def contacts_set_language(*, contact_ids: list[int], language: str) -> list[Contact]:
    """Set the preferred language of the given contacts; return those that changed.

    Erased contacts and those already on ``language`` are left as they are. The
    language must be one Relay serves; anything else raises ValueError and
    changes nothing.
    """
    from django.conf import settings

    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"{language!r} is not a language Relay serves.")
    changed = list(
        Contact.objects.select_for_update()
        .filter(pk__in=contact_ids)
        .exclude(status=Contact.Status.ERASED)
        .exclude(preferred_language=language)
        .order_by("pk")
    )
    Contact.objects.filter(pk__in=[c.pk for c in changed]).update(
        preferred_language=language, updated_at=timezone.now()
    )
    for contact in changed:
        contact.preferred_language = language
    return changed
