"""Keeping the contact directory."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.db import transaction

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
