"""The local outbox: a mail "provider" that writes each message to a folder.

It is a real anymail backend, so the sending engine takes the same path as
with Mailgun or Postmark; the demo and developers read the mails in the
browser at ``/outbox/``.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage as ParsedMessage
from pathlib import Path
from typing import Any

from anymail.backends.base import AnymailBaseBackend
from anymail.backends.test import TestPayload
from anymail.exceptions import AnymailUnsupportedFeature
from anymail.message import AnymailRecipientStatus
from django.conf import settings


def outbox_dir() -> Path:
    return Path(settings.RELAY_OUTBOX_DIR)


class EmailBackend(AnymailBaseBackend):
    """Write every message to ``RELAY_OUTBOX_DIR`` as an .eml file."""

    esp_name = "Outbox"

    def build_message_payload(
        self, message: Any, defaults: dict[str, Any]
    ) -> TestPayload:
        return TestPayload(backend=self, message=message, defaults=defaults)

    def post_to_esp(self, payload: TestPayload, message: Any) -> dict[str, Any]:
        if payload.is_batch():
            raise AnymailUnsupportedFeature("The outbox does not expand batch sends.")
        message_id = uuid.uuid4().hex
        folder = outbox_dir()
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target = folder / f"{stamp}-{message_id}.eml"
        partial = target.with_suffix(".part")
        partial.write_bytes(message.message().as_bytes())
        os.replace(partial, target)  # readers never see half a message
        (folder / f"{stamp}-{message_id}.json").write_text(
            json.dumps(
                {
                    "metadata": payload.params.get("metadata", {}),
                    "tags": payload.params.get("tags", []),
                }
            ),
            encoding="utf-8",
        )
        status = AnymailRecipientStatus(message_id=message_id, status="queued")
        return {"recipient_status": dict.fromkeys(payload.recipient_emails, status)}

    def parse_recipient_status(
        self, response: dict[str, Any], payload: TestPayload, message: Any
    ) -> dict[str, AnymailRecipientStatus]:
        return response["recipient_status"]


@dataclass(frozen=True)
class OutboxMail:
    name: str
    subject: str
    to: str
    date: str
    language: str
    html: str
    text: str


def outbox_list(*, limit: int = 500) -> list[OutboxMail]:
    """Return the newest mails in the outbox, newest first."""
    folder = outbox_dir()
    if not folder.is_dir():
        return []
    names = sorted((p.name for p in folder.glob("*.eml")), reverse=True)[:limit]
    return [mail for name in names if (mail := outbox_read(name)) is not None]


def outbox_read(name: str) -> OutboxMail | None:
    """Return one mail of the outbox by file name, or None if there is none."""
    path = outbox_dir() / name
    if path.suffix != ".eml" or path.name != name or not path.is_file():
        return None
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, ParsedMessage)  # noqa: S101 - policy.default guarantees it
    html_part = parsed.get_body(preferencelist=("html",))
    text_part = parsed.get_body(preferencelist=("plain",))
    return OutboxMail(
        name=name,
        subject=str(parsed["Subject"] or ""),
        to=str(parsed["To"] or ""),
        date=str(parsed["Date"] or ""),
        language=str(parsed["Content-Language"] or ""),
        html=html_part.get_content() if html_part else "",
        text=text_part.get_content() if text_part else "",
    )
