"""Production settings: complete from the environment, or they refuse to start."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "cms.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "relay.example.org",
    "DATABASE_URL": "postgres://relay@127.0.0.1:5432/relay",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    "RELAY_BASE_URL": "https://relay.example.org",
    "DEFAULT_FROM_EMAIL": "Network <news@relay.example.org>",
    "RELAY_EMAIL_PROVIDER": "mailgun",
    "ANYMAIL_MAILGUN_API_KEY": "key-test",
    "ANYMAIL_MAILGUN_SENDER_DOMAIN": "mg.relay.example.org",
    "ANYMAIL_WEBHOOK_SECRET": "hook:secret",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("DJANGO_", "DATABASE_", "CELERY_", "CACHE_", "RELAY_", "ANYMAIL_")
        )
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_production_variables() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "missing",
    [
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "CACHE_URL",
        "RELAY_BASE_URL",
        "DEFAULT_FROM_EMAIL",
        "RELAY_EMAIL_PROVIDER",
    ],
)
def test_production_refuses_to_start_without_a_required_variable(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}

    result = manage("check", env=env)

    assert result.returncode != 0
    assert f"The environment variable {missing} is required." in result.stderr


def test_production_refuses_the_local_outbox() -> None:
    result = manage("check", env={**PRODUCTION_ENV, "RELAY_EMAIL_PROVIDER": "outbox"})

    assert result.returncode != 0
    assert "must name a real provider" in result.stderr


def test_junk_booleans_are_rejected() -> None:
    result = manage(
        "check", env={**PRODUCTION_ENV, "DJANGO_SECURE_SSL_REDIRECT": "yes"}
    )

    assert result.returncode != 0
    assert "DJANGO_SECURE_SSL_REDIRECT must be 'true' or 'false'" in result.stderr


def test_the_provider_and_its_settings_come_from_the_environment() -> None:
    code = "from django.conf import settings; print(settings.EMAIL_BACKEND); print(sorted(settings.ANYMAIL))"

    result = manage("shell", "-c", code, env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    assert "anymail.backends.mailgun.EmailBackend" in result.stdout
    assert (
        "['MAILGUN_API_KEY', 'MAILGUN_SENDER_DOMAIN', 'WEBHOOK_SECRET']"
        in result.stdout
    )


def test_secrets_can_come_from_files(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    value = secrets.token_urlsafe(50)
    secret.write_text(value + "\n")
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    code = "from django.conf import settings; print(settings.SECRET_KEY)"

    result = manage(
        "shell", "-c", code, env={**env, "DJANGO_SECRET_KEY_FILE": str(secret)}
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(value)


def test_tracking_hits_are_buffered_in_the_caches_redis_by_default() -> None:
    code = "from django.conf import settings; print(settings.RELAY_TRACKING_BUFFER)"

    production = manage("shell", "-c", code, env=PRODUCTION_ENV)
    embedded = manage(
        "shell", "-c", code, env={"DJANGO_SETTINGS_MODULE": "cms.settings.dev"}
    )
    junk = manage("check", env={**PRODUCTION_ENV, "RELAY_TRACKING_BUFFER": "memcached"})

    # The last line: the shell first says what it imported.
    assert production.stdout.splitlines()[-1] == "redis://127.0.0.1:6379/1"
    assert embedded.stdout.splitlines()[-1] == "database"
    assert junk.returncode != 0
    assert "RELAY_TRACKING_BUFFER must be 'database' or a redis:// URL" in junk.stderr
