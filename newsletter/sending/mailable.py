"""The mailable protocol: all the sending engine knows about a page."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Mailable(Protocol):
    """A translatable Wagtail page that can be sent as a mail.

    Implement this on a page type to make it sendable. ``email_template`` names
    a folder holding ``body.html``; the text part is made from the HTML.
    """

    email_template: str

    def get_email_subject(self) -> str:
        """Return the subject line, in the page's own language."""
        ...

    def get_email_context(self, *, language: str, country: str) -> dict[str, Any]:
        """Return the template context for readers in ``language`` and ``country``."""
        ...
