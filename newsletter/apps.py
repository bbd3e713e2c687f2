from django.apps import AppConfig


class NewsletterConfig(AppConfig):
    name = "newsletter"
    verbose_name = "Relay newsletter engine"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from anymail.signals import tracking
        from django.core import checks

        from newsletter.checks import webhook_secret_check
        from newsletter.lookups import lookups_register
        from newsletter.tracking.webhooks import tracking_received

        checks.register(webhook_secret_check, checks.Tags.security)
        lookups_register()
        tracking.connect(tracking_received, dispatch_uid="newsletter.tracking")
