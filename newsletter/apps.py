from django.apps import AppConfig


class NewsletterConfig(AppConfig):
    name = "newsletter"
    verbose_name = "Relay newsletter engine"
    default_auto_field = "django.db.models.BigAutoField"
