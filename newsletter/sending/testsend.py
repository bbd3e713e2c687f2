"""Test sends: one rendered language of a mailable page to any address."""

from __future__ import annotations

from anymail.message import AnymailMessage
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import override

from .render import RenderedVariant, personalise

# What per-reader links show in previews and test sends: they point nowhere.
SAMPLE_FIELDS = {"pixel_html": ""}


def preview_html(variant: RenderedVariant) -> str:
    """Return the HTML of ``variant`` as a reader would see it, without personal links."""
    return personalise(variant.html, SAMPLE_FIELDS, escape=True)


def variant_test_send(*, variant: RenderedVariant, to: str) -> str:
    """Send ``variant`` to ``to`` as a test, marked in its subject; return the provider id."""
    with override(variant.language):
        prefix = _("[Test]")
    message = AnymailMessage(
        subject=f"{prefix} {variant.subject}",
        body=personalise(variant.text, SAMPLE_FIELDS, escape=False),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Content-Language": variant.language},
    )
    message.attach_alternative(preview_html(variant), "text/html")
    message.tags = ["test-send"]
    message.send()
    return str(message.anymail_status.message_id or "")
