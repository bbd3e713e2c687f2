"""Point the default Wagtail site at RELAY_BASE_URL.

Full page URLs in the sitemap, hreflang alternates and the admin come from the
Wagtail Site record, mail links from RELAY_BASE_URL; run this after each deploy
(it is idempotent) so that both name the same host.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from wagtail.models import Site

DEFAULT_PORTS = {"http": 80, "https": 443}


def site_address(base_url: str) -> tuple[str, int]:
    """Return the (hostname, port) Wagtail needs to build ``base_url``'s links."""
    parts = urlsplit(base_url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise CommandError(
            f"RELAY_BASE_URL must be an http(s) address such as "
            f"https://relay.example.org, not {base_url!r}."
        )
    if parts.path.strip("/"):
        raise CommandError(
            f"RELAY_BASE_URL must name the site's root, without a path: {base_url!r}."
        )
    return parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme]


class Command(BaseCommand):
    help = "Set the default Wagtail site's host and port from RELAY_BASE_URL."

    def handle(self, *args: Any, **options: Any) -> None:
        hostname, port = site_address(settings.RELAY_BASE_URL)
        site = Site.objects.filter(is_default_site=True).first()
        if site is None:
            raise CommandError("There is no default site: run migrate first.")
        if (site.hostname, site.port) == (hostname, port):
            self.stdout.write(f"The site already answers at {hostname}:{port}.")
            return
        site.hostname, site.port = hostname, port
        site.save(update_fields=["hostname", "port"])
        self.stdout.write(f"The site now answers at {hostname}:{port}.")
