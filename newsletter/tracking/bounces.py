"""Classifying bounces from the provider's raw event: pure functions, no database.

anymail's normalised ``bounced`` is not a suppression decision: it maps every
Amazon SES bounce, Brevo's hard and soft bounces and Postmark's SoftBounce to
``bounced`` alike. So the decision reads, in order:

1. the RFC 3463 enhanced status code in the diagnostic text (5.1.x: the user
   or domain does not exist; 5.7.x: policy, reputation or authentication;
   4.x.x: transient);
2. words of policy or reputation blocks in the diagnostic text;
3. the provider's own bounce type in its raw event;
4. words of unknown users or domains;
5. otherwise soft, as listmonk and SparkPost treat unclassified bounces.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

HARD = "hard"  # the address does not exist: suppress at once
SOFT = "soft"  # the mailbox is full, the server is away: count
BLOCK = "block"  # policy or reputation: alert the secretariat, never suppress

_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_BLOCK_WORDS = re.compile(
    r"blocked|block ?list|black ?list|spamhaus|reputation|policy|rejected for spam"
    r"|spam content|\bspf\b|\bdkim\b|\bdmarc\b|not authorized|access denied",
    re.IGNORECASE,
)
_HARD_WORDS = re.compile(
    r"user unknown|unknown user|no such (user|mailbox|recipient)|does not exist"
    r"|doesn't exist|invalid recipient|recipient not found|address rejected"
    r"|host unknown|unknown host|domain not found|no such domain|nxdomain"
    r"|mailbox unavailable|account (has been )?disabled",
    re.IGNORECASE,
)

# Provider bounce types, read from the raw event.
_SES_HARD_SUBTYPES = {"General", "NoEmail", "Suppressed", "OnAccountSuppressionList"}
_POSTMARK = {
    "HardBounce": HARD,
    "BadEmailAddress": HARD,
    "ManuallyDeactivated": HARD,
    "SoftBounce": SOFT,
    "Transient": SOFT,
    "DnsError": SOFT,
    "AutoResponder": SOFT,
    "Blocked": BLOCK,
    "SMTPApiError": SOFT,
}
_BREVO = {
    "hard_bounce": HARD,
    "invalid_email": HARD,
    "soft_bounce": SOFT,
    "deferred": SOFT,
    "blocked": BLOCK,
}


def status_code(text: str) -> tuple[int, int, int] | None:
    """Return the first RFC 3463 enhanced status code in ``text``, if any."""
    match = _STATUS.search(text or "")
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def classify_status(code: tuple[int, int, int]) -> str:
    """Return the class of an enhanced status code."""
    klass, subject, detail = code
    if klass == 4:
        return SOFT
    if subject == 7:
        return BLOCK  # 5.7.x: security or policy status, not the address
    if subject == 1 and detail in (1, 2, 3, 6, 10):
        return HARD  # bad mailbox, bad host, bad syntax, moved, null MX
    if (subject, detail) == (4, 4):
        return HARD  # unable to route: no such domain
    return SOFT


def provider_class(provider: str, esp_event: Mapping[str, Any] | Any) -> str | None:
    """Return the class the provider's own raw event gives, if it gives one."""
    if not isinstance(esp_event, Mapping):
        return None
    if provider == "amazon_ses":
        bounce = esp_event.get("bounce") or {}
        kind = bounce.get("bounceType")
        if kind == "Permanent":
            return HARD if bounce.get("bounceSubType") in _SES_HARD_SUBTYPES else SOFT
        if kind in ("Transient", "Undetermined"):
            return SOFT
        return None
    if provider == "postmark":
        return _POSTMARK.get(str(esp_event.get("Type", "")))
    if provider == "brevo":
        return _BREVO.get(str(esp_event.get("event", "")))
    if provider == "mailgun":
        data = esp_event.get("event-data") or esp_event
        severity = data.get("severity")
        if severity == "permanent":
            return HARD
        if severity == "temporary":
            return SOFT
        return None
    if provider == "sendgrid":
        if esp_event.get("type") == "blocked" or esp_event.get("event") == "blocked":
            return BLOCK
        if esp_event.get("event") == "bounce":
            return HARD
        if esp_event.get("event") in ("deferred", "dropped"):
            return SOFT
    return None


def diagnostic_texts(esp_event: Mapping[str, Any] | Any, *extra: str | None) -> str:
    """Return the diagnostic texts of a raw event, joined: where status codes hide."""
    texts = [text for text in extra if text]
    if isinstance(esp_event, Mapping):
        bounce = esp_event.get("bounce") or {}
        for recipient in bounce.get("bouncedRecipients") or []:
            texts.append(str(recipient.get("diagnosticCode") or ""))
        data = esp_event.get("event-data") or {}
        status = data.get("delivery-status") or {}
        texts.extend(
            str(status.get(key) or "")
            for key in ("enhanced-code", "message", "description")
        )
        for key in ("Details", "Description", "reason", "status", "response"):
            if isinstance(esp_event.get(key), str):
                texts.append(esp_event[key])
    return " | ".join(text for text in texts if text)


def bounce_classify(
    *,
    provider: str,
    esp_event: Mapping[str, Any] | Any,
    description: str | None = None,
    mta_response: str | None = None,
) -> str:
    """Return HARD, SOFT or BLOCK for a bounce, reading the provider's raw event."""
    text = diagnostic_texts(esp_event, mta_response, description)
    code = status_code(text)
    if code is not None:
        return classify_status(code)
    if _BLOCK_WORDS.search(text):
        return BLOCK
    from_provider = provider_class(provider, esp_event)
    if from_provider is not None:
        return from_provider
    if _HARD_WORDS.search(text):
        return HARD
    return SOFT
