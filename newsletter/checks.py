"""System checks for Relay's own configuration (in the style of anymail/checks.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

# Transports that never post webhooks and that production refuses anyway.
_LOCAL_PROVIDERS = ("outbox", "console")


def webhook_secret_check(**kwargs: Any) -> list[checks.CheckMessage]:
    """Refuse to run a real installation whose webhooks anyone could post to.

    Without a secret anymail only warns, and a forged complaint or bounce would
    suppress a reader.
    """
    if settings.DEBUG or settings.RELAY_EMAIL_PROVIDER in _LOCAL_PROVIDERS:
        return []
    if getattr(settings, "ANYMAIL", {}).get("WEBHOOK_SECRET"):
        return []
    return [
        checks.Error(
            "ANYMAIL WEBHOOK_SECRET is required: provider webhooks are open to anyone.",
            hint="Set ANYMAIL_WEBHOOK_SECRET=user:long-random-password and use it "
            "in the webhook URL given to the provider.",
            id="newsletter.E001",
        )
    ]
