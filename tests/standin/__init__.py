"""A stand-in mail provider: an HTTP server on 127.0.0.1 speaking the send APIs of
Mailgun and Postmark exactly as django-anymail's real backends call them.

It records every message and every reader (batch sends are expanded per
recipient, with Mailgun's ``%recipient.KEY%`` substitution applied), and it can
be told to answer 429 or 5xx, to stall past the client's timeout, or to slow
down, so that tests exercise the sending engine against real HTTP.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Delivered:
    """One reader's copy of one message, as the provider accepted it."""

    provider: str
    message_id: str
    recipient: str
    subject: str
    text: str
    html: str
    headers: dict[str, str]
    metadata: dict[str, str]
    received_at: float


@dataclass
class Behaviour:
    """What the stand-in answers. Change it while a test runs."""

    status: int = 200
    retry_after: int | None = None
    until: float = 0.0  # answer ``status`` until this monotonic time, then 200
    failures_left: int = 0  # or for this many calls, then 200
    stall: float = 0.0  # seconds to wait before answering
    delay: float = 0.0  # seconds to wait before accepting (slow provider)


@dataclass
class StandInProvider:
    host: str = "127.0.0.1"
    behaviour: Behaviour = field(default_factory=Behaviour)
    delivered: list[Delivered] = field(default_factory=list)
    calls: list[tuple[str, int, float]] = field(
        default_factory=list
    )  # path, status, time
    in_flight: int = 0  # calls received and not yet answered
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, payload, headers = standin._answer(
                    self.path, self.headers, body
                )
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                try:
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    # The client went away (a worker killed mid-call, a client
                    # timeout); the message was recorded all the same.
                    return

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # Lifecycle -----------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StandInProvider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @contextmanager
    def running(self) -> Iterator[StandInProvider]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def anymail_settings(self) -> dict[str, str]:
        """Return ANYMAIL settings that point anymail's real backends here."""
        return {
            "MAILGUN_API_URL": f"{self.url}/mailgun/v3",
            "MAILGUN_API_KEY": "key-standin",
            "MAILGUN_SENDER_DOMAIN": "mg.relay.test",
            "POSTMARK_API_URL": f"{self.url}/postmark/",
            "POSTMARK_SERVER_TOKEN": "standin-token",
        }

    # Behaviour -----------------------------------------------------------------

    def fail(
        self,
        status: int,
        *,
        seconds: float = 0,
        times: int = 0,
        retry_after: int | None = None,
    ) -> None:
        """Answer ``status`` for ``seconds`` or for ``times`` calls, then accept again."""
        with self._lock:
            self.behaviour.status = status
            self.behaviour.retry_after = retry_after
            self.behaviour.until = time.monotonic() + seconds if seconds else 0.0
            self.behaviour.failures_left = times

    def recipients(self) -> list[str]:
        with self._lock:
            return [d.recipient for d in self.delivered]

    # Protocol ------------------------------------------------------------------

    def _answer(
        self, path: str, headers: Any, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.in_flight += 1
        try:
            return self._respond(path, headers, body)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _respond(
        self, path: str, headers: Any, body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        behaviour = self.behaviour
        if behaviour.stall:
            time.sleep(behaviour.stall)
        if behaviour.delay:
            time.sleep(behaviour.delay)
        now = time.monotonic()
        with self._lock:
            failing = (
                behaviour.until and now < behaviour.until
            ) or behaviour.failures_left > 0
            if behaviour.failures_left > 0:
                behaviour.failures_left -= 1
            status = behaviour.status if failing and behaviour.status != 200 else 200
            self.calls.append((path, status, now))
        if status != 200:
            extra = (
                {"Retry-After": str(behaviour.retry_after)}
                if behaviour.retry_after
                else {}
            )
            return status, {"message": "stand-in failure"}, extra
        if path.startswith("/mailgun/v3/") and path.endswith("/messages"):
            return 200, self._mailgun(headers, body), {}
        if path.startswith("/postmark/email"):
            return 200, self._postmark(path, body), {}
        return 404, {"message": f"unknown endpoint {path}"}, {}

    def _mailgun(self, headers: Any, body: bytes) -> dict[str, str]:
        form = _form(headers, body)
        message_id = f"<{uuid.uuid4().hex}@mg.relay.test>"
        variables = json.loads(form.get("recipient-variables", ["{}"])[0])
        for to in form.get("to", []):
            address = to.rsplit("<", 1)[-1].rstrip(">").strip()
            own = variables.get(address, {})

            def fill(value: str, own: dict[str, Any] = own) -> str:
                for key, replacement in own.items():
                    value = value.replace(f"%recipient.{key}%", str(replacement))
                return value

            self._record(
                Delivered(
                    provider="mailgun",
                    message_id=message_id,
                    recipient=address,
                    subject=fill(form.get("subject", [""])[0]),
                    text=fill(form.get("text", [""])[0]),
                    html=fill(form.get("html", [""])[0]),
                    headers={
                        k[2:]: fill(v[0]) for k, v in form.items() if k.startswith("h:")
                    },
                    metadata={
                        k[2:]: fill(v[0]) for k, v in form.items() if k.startswith("v:")
                    },
                    received_at=time.monotonic(),
                )
            )
        return {"id": message_id, "message": "Queued. Thank you."}

    def _postmark(self, path: str, body: bytes) -> Any:
        data = json.loads(body)
        messages = data if isinstance(data, list) else data.get("Messages", [data])
        answers = []
        for message in messages:
            message_id = str(uuid.uuid4())
            for to in str(message.get("To", "")).split(","):
                address = to.rsplit("<", 1)[-1].rstrip(">").strip()
                self._record(
                    Delivered(
                        provider="postmark",
                        message_id=message_id,
                        recipient=address,
                        subject=message.get("Subject", ""),
                        text=message.get("TextBody", ""),
                        html=message.get("HtmlBody", ""),
                        headers={
                            h["Name"]: h["Value"] for h in message.get("Headers", [])
                        },
                        metadata=message.get("Metadata", {}),
                        received_at=time.monotonic(),
                    )
                )
            answers.append(
                {
                    "ErrorCode": 0,
                    "Message": "OK",
                    "MessageID": message_id,
                    "To": message.get("To"),
                }
            )
        return (
            answers
            if path.rstrip("/").endswith(("batch", "batchWithTemplates"))
            else answers[0]
        )

    def _record(self, delivered: Delivered) -> None:
        with self._lock:
            self.delivered.append(delivered)


def _form(headers: Any, body: bytes) -> dict[str, list[str]]:
    """Parse a form body, urlencoded or multipart, into lists of values."""
    content_type = headers.get("Content-Type", "")
    if content_type.startswith("multipart/form-data"):
        raw = f"Content-Type: {content_type}\r\n\r\n".encode() + body
        message = BytesParser(policy=HTTP).parsebytes(raw)
        fields: dict[str, list[str]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name:
                fields.setdefault(str(name), []).append(str(part.get_content()))
        return fields
    return parse_qs(body.decode("utf-8"), keep_blank_values=True)
