"""The system check that keeps provider webhooks closed to strangers."""

from __future__ import annotations

import pytest

from newsletter.checks import webhook_secret_check


@pytest.mark.parametrize("anymail", [{}, {"WEBHOOK_SECRET": ""}])
def test_a_real_installation_without_a_webhook_secret_is_an_error(
    settings, anymail
) -> None:
    settings.DEBUG = False
    settings.RELAY_EMAIL_PROVIDER = "mailgun"
    settings.ANYMAIL = anymail

    [error] = webhook_secret_check()

    assert error.id == "newsletter.E001"


@pytest.mark.parametrize(
    ("debug", "provider", "anymail"),
    [
        (False, "mailgun", {"WEBHOOK_SECRET": "hook:secret"}),
        (False, "amazon_ses", {"WEBHOOK_SECRET": ["old:secret", "new:secret"]}),
        (True, "mailgun", {}),
        (False, "outbox", {}),
    ],
)
def test_a_secret_debug_or_the_local_outbox_passes(
    settings, debug, provider, anymail
) -> None:
    settings.DEBUG = debug
    settings.RELAY_EMAIL_PROVIDER = provider
    settings.ANYMAIL = anymail

    assert webhook_secret_check() == []
