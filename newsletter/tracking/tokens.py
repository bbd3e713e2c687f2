"""Per-delivery links: tokens are opaque and carry no meaning of their own."""

from __future__ import annotations

import re

from django.conf import settings
from django.urls import reverse

from newsletter.models import Delivery

# Tokens are made by newsletter.models.campaigns.new_token (URL-safe base64).
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,32}")


def pixel_url(token: str) -> str:
    """Return the absolute URL of the open pixel for a delivery token."""
    return settings.RELAY_BASE_URL + reverse("newsletter:open_pixel", args=[token])


def delivery_for_token(token: str) -> Delivery | None:
    """Return the delivery behind ``token``, or None for any unknown or malformed one."""
    if not TOKEN_PATTERN.fullmatch(token):
        return None
    return Delivery.objects.filter(token=token).select_related("contact").first()
