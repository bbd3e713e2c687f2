"""Per-reader links: tokens are opaque and carry no meaning of their own.

Every link a reader gets in a mail is built here, absolute on
``settings.RELAY_BASE_URL``. Pages people read carry a language prefix.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import translation

from newsletter.models import Contact, Delivery

# Tokens are made by newsletter.models.tokens.new_token (URL-safe base64).
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,32}")

_TRACKING_SALT = "newsletter.confirm.tracking"


def pixel_url(token: str) -> str:
    """Return the absolute URL of the open pixel for a delivery token."""
    return settings.RELAY_BASE_URL + reverse("newsletter:open_pixel", args=[token])


def unsubscribe_url(token: str, *, language: str) -> str:
    """Return the unsubscribe page of a delivery token, in ``language``."""
    with translation.override(language):
        return settings.RELAY_BASE_URL + reverse("public:unsubscribe", args=[token])


def one_click_url(token: str, *, language: str) -> str:
    """Return the RFC 8058 one-click target of a delivery token.

    It is the unsubscribe page itself: a GET shows the page, the one-click
    POST acts (RFC 8058: "the same as the one in the GET action").
    """
    return unsubscribe_url(token, language=language)


def preferences_url(token: str, *, language: str) -> str:
    """Return the preference centre of a contact's preferences token, in ``language``."""
    with translation.override(language):
        return settings.RELAY_BASE_URL + reverse("public:preferences", args=[token])


def confirm_url(token: str, *, language: str, tracking: bool = False) -> str:
    """Return the double opt-in confirmation link of a subscription's confirm token.

    With ``tracking``, the link carries a signed note that the reader also
    agreed to tracking on the form; it takes effect only once they confirm.
    """
    with translation.override(language):
        url = settings.RELAY_BASE_URL + reverse(
            "public:subscribe_confirm", args=[token]
        )
    if tracking:
        note = signing.Signer(salt=_TRACKING_SALT).sign(token)
        url += "?tracking=" + note.rsplit(":", 1)[1]
    return url


def confirm_tracking_requested(token: str, note: str) -> bool:
    """Return whether ``note`` is the signed tracking note of confirm ``token``."""
    try:
        signing.Signer(salt=_TRACKING_SALT).unsign(f"{token}:{note}")
    except signing.BadSignature:
        return False
    return True


def delivery_for_token(token: str) -> Delivery | None:
    """Return the delivery behind ``token``, or None for any unknown or malformed one."""
    if not TOKEN_PATTERN.fullmatch(token):
        return None
    return (
        Delivery.objects.filter(token=token)
        .select_related("contact", "campaign")
        .first()
    )


def contact_for_preferences_token(token: str) -> Contact | None:
    """Return the contact behind a preferences token, or None."""
    if not TOKEN_PATTERN.fullmatch(token):
        return None
    return (
        Contact.objects.filter(preferences_token=token)
        .exclude(status=Contact.Status.ERASED)
        .first()
    )
