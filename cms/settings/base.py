"""Settings shared by every environment; everything configurable comes from the environment.

``dev``, ``test`` and ``production`` import this module and adjust it. See
``.env.example`` for every variable.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int, env_list, env_prefixed, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("RELAY_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "cms",
    "newsletter",
    "wagtail_localize",
    "wagtail_localize.locales",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.sitemaps",
    "django.contrib.sitemaps",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "anymail",
    "import_export",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "cms.urls"
WSGI_APPLICATION = "cms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'relay.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Cache: Redis when CACHE_URL names one (shared by every process, which the
# rate limits of public forms need in production), else memory of one process.
CACHE_URL = env_str("CACHE_URL", "")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
        }
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Internationalisation: the 24 official languages of the EU, each a content
# language (a Wagtail locale) and an interface language. English is the source.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("bg", "Български"),
    ("cs", "Čeština"),
    ("da", "Dansk"),
    ("de", "Deutsch"),
    ("el", "Ελληνικά"),
    ("en", "English"),
    ("es", "Español"),
    ("et", "Eesti"),
    ("fi", "Suomi"),
    ("fr", "Français"),
    ("ga", "Gaeilge"),
    ("hr", "Hrvatski"),
    ("hu", "Magyar"),
    ("it", "Italiano"),
    ("lt", "Lietuvių"),
    ("lv", "Latviešu"),
    ("mt", "Malti"),
    ("nl", "Nederlands"),
    ("pl", "Polski"),
    ("pt", "Português"),
    ("ro", "Română"),
    ("sk", "Slovenčina"),
    ("sl", "Slovenščina"),
    ("sv", "Svenska"),
]
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
WAGTAIL_I18N_ENABLED = True
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# wagtail-localize: translations stay drafts until someone publishes them.
WAGTAILLOCALIZE_SYNC_LIVE_STATUS_ON_TRANSLATE = False
# Machine-translated drafts are off unless a backend is configured:
# RELAY_MACHINE_TRANSLATOR=deepl (with RELAY_MACHINE_TRANSLATOR_KEY), google,
# or libretranslate (with RELAY_MACHINE_TRANSLATOR_URL and _KEY).
_MT_CLASSES = {
    "deepl": "wagtail_localize.machine_translators.deepl.DeepLTranslator",
    "google": "wagtail_localize.machine_translators.google.GoogleCloudTranslator",
    "libretranslate": "wagtail_localize.machine_translators.libretranslate.LibreTranslator",
}
RELAY_MACHINE_TRANSLATOR = env_str("RELAY_MACHINE_TRANSLATOR", "")
if RELAY_MACHINE_TRANSLATOR:
    WAGTAILLOCALIZE_MACHINE_TRANSLATOR = {
        "CLASS": _MT_CLASSES.get(RELAY_MACHINE_TRANSLATOR, RELAY_MACHINE_TRANSLATOR),
        "OPTIONS": {
            "AUTH_KEY": env_str("RELAY_MACHINE_TRANSLATOR_KEY", ""),
            "API_KEY": env_str("RELAY_MACHINE_TRANSLATOR_KEY", ""),
            "LIBRETRANSLATE_URL": env_str("RELAY_MACHINE_TRANSLATOR_URL", ""),
        },
    }

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "cms" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

WAGTAIL_SITE_NAME = env_str("RELAY_SITE_NAME", "Relay")
# No avatars from Gravatar: the admin would send a hash of each user's address
# to a third party on every page, and nothing is fetched from elsewhere.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
RELAY_BASE_URL = env_str("RELAY_BASE_URL", "http://localhost:8000").rstrip("/")
WAGTAILADMIN_BASE_URL = RELAY_BASE_URL
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}

# Mail. RELAY_EMAIL_PROVIDER picks the transport: "outbox" (files in a folder,
# readable in the browser), "smtp", "console", or the name of any provider that
# django-anymail supports ("mailgun", "postmark", "amazon_ses", "brevo", ...).
# Provider settings come from ANYMAIL_<NAME> variables, e.g.
# ANYMAIL_MAILGUN_API_KEY -> ANYMAIL["MAILGUN_API_KEY"].
RELAY_EMAIL_PROVIDER = env_str("RELAY_EMAIL_PROVIDER", "outbox")
_BACKENDS = {
    "outbox": "newsletter.sending.outbox.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
}
EMAIL_BACKEND = _BACKENDS.get(
    RELAY_EMAIL_PROVIDER, f"anymail.backends.{RELAY_EMAIL_PROVIDER}.EmailBackend"
)
ANYMAIL = env_prefixed("ANYMAIL_")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Relay <newsletter@relay.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
RELAY_OUTBOX_DIR = Path(env_str("RELAY_OUTBOX_DIR", str(VAR_DIR / "outbox")))

# Sending. A batch task claims up to RELAY_SEND_BATCH_SIZE deliveries and hands
# them over in provider calls of at most the provider's per-call limit (and, with
# a rate limit, at most a tenth of the rate). 1,000 is Mailgun's per-call limit:
# a batch then costs one provider call per variant and about 15 queries in all.
RELAY_SEND_BATCH_SIZE = env_int("RELAY_SEND_BATCH_SIZE", 1000)
# One rate per provider for all workers together, in messages per second; 0 is
# no limit. The bucket lives in the database ("database", the embedded default)
# or in Redis (a redis:// URL, for several hosts).
RELAY_SEND_RATE = env_int("RELAY_SEND_RATE", 0)
RELAY_SEND_RATE_STORE = env_str("RELAY_SEND_RATE_STORE", "database")
if RELAY_SEND_RATE_STORE != "database" and not RELAY_SEND_RATE_STORE.startswith(
    ("redis://", "rediss://", "unix://")
):
    raise ImproperlyConfigured(
        "RELAY_SEND_RATE_STORE must be 'database' or a redis:// URL, not "
        f"{RELAY_SEND_RATE_STORE!r}."
    )
# Transient provider errors are retried with exponential backoff and jitter,
# from RELAY_SEND_RETRY_BACKOFF seconds up to RELAY_SEND_RETRY_BACKOFF_MAX, or
# after the provider's Retry-After; RELAY_SEND_DEADLINE seconds after a campaign
# started (or was last resumed or reopened), what is still unsent is marked
# failed instead.
RELAY_SEND_RETRY_BACKOFF = env_int("RELAY_SEND_RETRY_BACKOFF", 5)
RELAY_SEND_RETRY_BACKOFF_MAX = env_int("RELAY_SEND_RETRY_BACKOFF_MAX", 300)
RELAY_SEND_DEADLINE = env_int("RELAY_SEND_DEADLINE", 24 * 3600)
# A claim with no progress for this many seconds belongs to a stopped worker:
# the sweeper re-queues its rows never handed over and marks the others uncertain.
RELAY_SEND_CLAIM_TIMEOUT = env_int("RELAY_SEND_CLAIM_TIMEOUT", 600)
# With approval on, a campaign is sent or scheduled only once a second user
# with the approve permission (not its creator) has approved it.
RELAY_CAMPAIGN_APPROVAL = env_bool("RELAY_CAMPAIGN_APPROVAL", False)

# Provider webhooks (newsletter.tracking). Events older than this many seconds
# are refused as replays.
RELAY_WEBHOOK_MAX_AGE = env_int("RELAY_WEBHOOK_MAX_AGE", 86400)
# Soft bounces suppress an address once RELAY_SOFT_BOUNCE_LIMIT of them (one a
# day at most) within RELAY_SOFT_BOUNCE_WINDOW_DAYS span at least
# RELAY_SOFT_BOUNCE_SPAN_DAYS.
RELAY_SOFT_BOUNCE_LIMIT = env_int("RELAY_SOFT_BOUNCE_LIMIT", 3)
RELAY_SOFT_BOUNCE_SPAN_DAYS = env_int("RELAY_SOFT_BOUNCE_SPAN_DAYS", 7)
RELAY_SOFT_BOUNCE_WINDOW_DAYS = env_int("RELAY_SOFT_BOUNCE_WINDOW_DAYS", 30)
# Tracking. With RELAY_ANONYMOUS_TRACKING=true no reader gets a pixel or tracked
# links and no per-person open or click is kept; otherwise only readers who
# consented to tracking do. Per-person tracking events older than
# RELAY_TRACKING_RETENTION_DAYS (13 months) are purged daily, their counts kept.
RELAY_ANONYMOUS_TRACKING = env_bool("RELAY_ANONYMOUS_TRACKING", False)
RELAY_TRACKING_RETENTION_DAYS = env_int("RELAY_TRACKING_RETENTION_DAYS", 395)
# Indirect reach (docs/reach.md). An MP forwards a pack to at most
# RELAY_FORWARD_MAX_RECIPIENTS colleagues per request and
# RELAY_FORWARD_DAILY_LIMIT in any 24 hours. The pixel of an MP's delivery seen
# on more than RELAY_ESTIMATE_OWN_DEVICES human devices counts the others as
# estimated readers of copies forwarded from a mail program.
RELAY_FORWARD_MAX_RECIPIENTS = env_int("RELAY_FORWARD_MAX_RECIPIENTS", 5)
RELAY_FORWARD_DAILY_LIMIT = env_int("RELAY_FORWARD_DAILY_LIMIT", 20)
RELAY_ESTIMATE_OWN_DEVICES = env_int("RELAY_ESTIMATE_OWN_DEVICES", 2)
# Tracking hits (docs/tracking.md, "Buffered hits"). With a redis:// URL the
# open pixel and the click redirect push each hit onto a Redis list, and the
# task newsletter.tracking_hits_drain (every second) writes them to the
# database in bulk; "database" writes each hit in its request. The default is
# the cache's Redis when CACHE_URL names one, else "database" (the embedded
# default). RELAY_TRACKING_BUFFER_KEY names the list.
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
RELAY_TRACKING_BUFFER = env_str(
    "RELAY_TRACKING_BUFFER",
    CACHE_URL if CACHE_URL.startswith(_REDIS_SCHEMES) else "database",
)
if RELAY_TRACKING_BUFFER != "database" and not RELAY_TRACKING_BUFFER.startswith(
    _REDIS_SCHEMES
):
    raise ImproperlyConfigured(
        "RELAY_TRACKING_BUFFER must be 'database' or a redis:// URL, not "
        f"{RELAY_TRACKING_BUFFER!r}."
    )
RELAY_TRACKING_BUFFER_KEY = env_str("RELAY_TRACKING_BUFFER_KEY", "relay:tracking:hits")

# Celery. The embedded default needs no server: kombu's filesystem transport.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
_CELERY_FS = VAR_DIR / "celery"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(_CELERY_FS / "queue"),
        "data_folder_out": str(_CELERY_FS / "queue"),
        "processed_folder": str(_CELERY_FS / "processed"),
        "control_folder": str(_CELERY_FS / "control"),
        "store_processed": False,
        "polling_interval": 0.2,
    }
    if CELERY_BROKER_URL.startswith("filesystem://")
    else {}
)
# Redis delivers a late-ack task again if it is not acked within this time, even
# while it runs: keep it above the longest task and the longest retry wait (the
# tasks wait at most 30 minutes; schedules live in the database, not in ETAs).
RELAY_BROKER_VISIBILITY_TIMEOUT = 3600
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = (
        RELAY_BROKER_VISIBILITY_TIMEOUT
    )
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# Sending and tracking work on separate queues, so that a large campaign never
# delays webhook and tracking work (and the reverse). The beat schedule is in
# cms/celery.py.
CELERY_TASK_ROUTES = {
    "newsletter.campaign_prepare": {"queue": "sending"},
    "newsletter.campaigns_start_due": {"queue": "sending"},
    "newsletter.delivery_send_batch": {"queue": "sending"},
    "newsletter.deliveries_sweep": {"queue": "sending"},
    "newsletter.forward_send": {"queue": "sending"},
    "newsletter.tracking_*": {"queue": "tracking"},
    "newsletter.provider_event_process": {"queue": "tracking"},
    "newsletter.provider_events_sweep": {"queue": "tracking"},
}
CELERY_TIMEZONE = TIME_ZONE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "newsletter": {"level": env_str("RELAY_LOG_LEVEL", "INFO")},
        "cms": {"level": env_str("RELAY_LOG_LEVEL", "INFO")},
    },
}
