from pathlib import Path

from django.apps import AppConfig
from django.conf import locale, settings


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = "Relay content"

    def ready(self) -> None:
        # Django ships no Maltese locale data, so without this entry
        # get_language_info("mt") raises and /mt/ URLs are redirected away.
        locale.LANG_INFO.setdefault(
            "mt",
            {"bidi": False, "code": "mt", "name": "Maltese", "name_local": "Malti"},
        )
        # kombu's filesystem transport expects its folders to exist, in the web
        # process (which queues tasks) as much as in the worker.
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
            for key in (
                "data_folder_in",
                "data_folder_out",
                "processed_folder",
                "control_folder",
            ):
                Path(options[key]).mkdir(parents=True, exist_ok=True)
