"""Random tokens for links in mail."""

import secrets


def new_token() -> str:
    """Return an unguessable, URL-safe token (128 bits of randomness)."""
    return secrets.token_urlsafe(16)
