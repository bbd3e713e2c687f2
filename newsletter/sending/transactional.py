"""Transactional mails: one message to one person, in their language.

They share the layout of campaign mails (``emails/base.html``), with styles
inlined and a text part made from the HTML, but carry no unsubscribe headers:
they are not list mail (listmonk #3063 shows what a fake one leads to).
"""

from __future__ import annotations

from email.utils import formataddr
from typing import Any

import css_inline
from anymail.message import AnymailMessage
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from newsletter.models import Subscription
from newsletter.tracking.tokens import confirm_url

from .dispatch import TransientSendError, classify_send_error
from .render import html_to_text, text_direction


def transactional_message(
    name: str, *, to: str, language: str, context: dict[str, Any]
) -> AnymailMessage:
    """Return the mail of template folder ``emails/<name>/`` rendered in ``language``."""
    with translation.override(language):
        context = {
            "language": language,
            "text_direction": text_direction(language),
            "merge": {},
            **context,
        }
        subject = render_to_string(f"emails/{name}/subject.txt", context)
        context["subject"] = " ".join(subject.split())
        markup = css_inline.inline(
            render_to_string(f"emails/{name}/body.html", context)
        )
    message = AnymailMessage(
        subject=context["subject"],
        body=html_to_text(markup),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Content-Language": language, "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(markup, "text/html")
    message.tags = [name.replace("_", "-")]
    return message


def confirmation_send(*, subscription_id: int, language: str, tracking: bool) -> bool:
    """Send the double opt-in mail of a pending subscription; return whether it was sent.

    Reads the token at send time: a subscription confirmed or re-issued in the
    meantime gets no stale link. At-least-once: a retry after an unknown
    provider outcome may send the same link twice, which is harmless.
    """
    subscription = (
        Subscription.objects.select_related("contact", "mailing_list")
        .filter(pk=subscription_id)
        .exclude(confirm_token="")
        .first()
    )
    if subscription is None:
        return False
    contact = subscription.contact
    message = transactional_message(
        "confirm_subscription",
        to=formataddr((contact.full_name, contact.email)),
        language=language,
        context={
            "list_name": subscription.mailing_list.name,
            "confirm_url": confirm_url(
                subscription.confirm_token, language=language, tracking=tracking
            ),
        },
    )
    message.metadata = {"subscription_id": str(subscription.pk)}
    try:
        message.send()
    except Exception as exc:
        if classify_send_error(exc) == "retry":
            raise TransientSendError(str(exc)) from exc
        raise
    return True
