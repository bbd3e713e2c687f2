"""The Celery application. Workers start with ``celery -A cms worker``.

Queues: ``sending`` (campaign preparation, batches, the sweeper), ``tracking``
(tracking and webhook work) and ``default`` (everything else, such as
confirmation mails). Exactly one beat process runs the schedule below
(``celery -A cms beat``); schedules live here and nowhere else.
"""

import gc
import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cms.settings.production")

app = Celery("relay")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # "* * * * *": every minute, start the scheduled campaigns that are due.
    "campaigns-start-due": {
        "task": "newsletter.campaigns_start_due",
        "schedule": crontab(minute="*"),
    },
    # "*/5 * * * *": every five minutes, queue provider events whose task was lost.
    "provider-events-sweep": {
        "task": "newsletter.provider_events_sweep",
        "schedule": crontab(minute="*/5"),
    },
    # "* * * * *": every minute, resolve the claims of stopped workers.
    "deliveries-sweep": {
        "task": "newsletter.deliveries_sweep",
        "schedule": crontab(minute="*"),
    },
    # "17 3 * * *": daily at 03:17, delete per-person tracking events older than
    # RELAY_TRACKING_RETENTION_DAYS (their daily counts are kept).
    "tracking-purge": {
        "task": "newsletter.tracking_purge",
        "schedule": crontab(minute="17", hour="3"),
    },
    # Every second (finer than cron): write the pixel opens and redirect clicks
    # buffered in Redis to the database (docs/tracking.md, "Buffered hits"); a
    # run not started within 10 s expires, as the next one does its work.
    "tracking-hits-drain": {
        "task": "newsletter.tracking_hits_drain",
        "schedule": 1.0,
        "options": {"expires": 10},
    },
    # "41 * * * *": hourly, delete uploaded contact files never confirmed within a
    # day (they hold personal data and are only needed while an import is previewed).
    "contacts-import-purge": {
        "task": "newsletter.contacts_import_purge",
        "schedule": crontab(minute="41"),
    },
}


@worker_process_init.connect  # each child of the prefork pool, once started
@worker_ready.connect  # the solo and threads pools run tasks in this process
def startup_objects_freeze(**kwargs: object) -> None:
    """Leave the objects of start-up (Django, Wagtail, the templates) out of garbage collection.

    They live as long as the worker, yet every full collection walked them
    all again: in a campaign batch, a third of the time spent building the
    messages. ``gc.freeze`` moves them to a generation that is never
    collected; what tasks create is collected as before.
    """
    gc.freeze()
