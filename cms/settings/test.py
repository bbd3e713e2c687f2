"""Settings for the test suite.

With no variables set, the suite runs on SQLite and an in-memory Celery broker.
``DATABASE_URL`` switches to PostgreSQL and ``CELERY_BROKER_URL`` to Redis; CI
sets both, and ``RELAY_REQUIRE_SERVICES=true`` makes the suite refuse to run
without them.
"""

from .base import *  # noqa: F403
from .base import _BACKENDS
from .env import env_bool, env_int, env_str

SECRET_KEY = "relay-tests-not-secret"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# anymail's test backend, unless RELAY_TEST_EMAIL_PROVIDER names a provider as
# RELAY_EMAIL_PROVIDER does: Celery workers that tests start in their own process
# send through anymail's real backend to the stand-in provider that way.
_TEST_PROVIDER = env_str("RELAY_TEST_EMAIL_PROVIDER", "")
EMAIL_BACKEND = (
    _BACKENDS.get(_TEST_PROVIDER, f"anymail.backends.{_TEST_PROVIDER}.EmailBackend")
    if _TEST_PROVIDER
    else "anymail.backends.test.EmailBackend"
)
RELAY_BASE_URL = "http://testserver"
WAGTAILADMIN_BASE_URL = RELAY_BASE_URL
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "memory://")
CELERY_BROKER_TRANSPORT_OPTIONS = {"polling_interval": 0.05}
if CELERY_BROKER_URL.startswith("redis://"):
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = (
        RELAY_BROKER_VISIBILITY_TIMEOUT  # noqa: F405
    )
# Short waits between retries, so that outage tests take seconds, not minutes.
RELAY_SEND_RETRY_BACKOFF = env_int("RELAY_SEND_RETRY_BACKOFF", 1)
RELAY_SEND_RETRY_BACKOFF_MAX = env_int("RELAY_SEND_RETRY_BACKOFF_MAX", 4)
RELAY_REQUIRE_SERVICES = env_bool("RELAY_REQUIRE_SERVICES", False)
LOGGING = {"version": 1, "disable_existing_loggers": False}
# Serve static files straight from the apps' folders, no collectstatic needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
